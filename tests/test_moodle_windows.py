"""PLC Bridge in a real Moodle, in the two other places a teacher meets it (Moodle in the loop, part 2):

- an activity whose launch container is "New window": Moodle opens the tool in a window of its own, and the teacher
  writes the reflection there;
- the tool on another site than Moodle (http://localhost:PORT beside Moodle's http://127.0.0.1:PORT) in a Chromium
  that blocks third-party cookies: inside Moodle's iframe the tool gets no cookie at all, and the teacher's reflection
  and its grade still go through, on the link tokens of the tool's pages.

Both end in Moodle's gradebook: the grade and the trainer's comment, as Moodle stored them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.conftest import CHROMIUM, ToolServer, start_tool
from tests.support.moodle import MoodleSite
from tests.support.moodle_pages import (
    TOOL_FRAME,
    add_activity,
    log_in,
    open_activity,
    register_tool,
    screenshot,
    show_in_activity_chooser,
    tool_frame,
)
from tests.support.pg import throwaway_database
from tests.support.waiting import wait_until
from tests.test_moodle_journeys import FrameVisit, choose, grade_in_moodle, in_frame
from tests.test_program_pages import create
from tests.test_program_teams import form_team, members_by_name, step

# The first test of a session may install Moodle (about a minute on two cores) before it starts.
pytestmark = [pytest.mark.moodle, pytest.mark.browser, pytest.mark.postgres, pytest.mark.timeout(600)]

LTI_LAUNCH_CONTAINER_WINDOW = 4  # mod/lti/locallib.php

WINDOW_COURSE = {"fullname": "PLC คณิตศาสตร์ ม.1", "shortname": "plc-math-1-window"}
WINDOW_TRAINER = ("wtrainer", "มาลี", "ศรีสุข")
WINDOW_TEACHERS = [("wteacher1", "ปราณี", "บุญมา"), ("wteacher2", "สุดา", "พรหมมา"), ("wteacher3", "อำนาจ", "ใจกล้า")]

CROSS_COURSE = {"fullname": "PLC ภาษาไทย ม.3", "shortname": "plc-thai-3-cross-site"}
CROSS_TRAINER = ("xtrainer", "รัตนา", "วงศ์ใหญ่")
CROSS_TEACHERS = [("xteacher1", "บุษบา", "คำดี"), ("xteacher2", "ชัยวัฒน์", "นาคสุข"), ("xteacher3", "พิมพ์ใจ", "สายทอง")]

REFLECTION_TITLE = "การสะท้อนผล วงรอบที่ 1"


@contextmanager
def serving_tool(folder: Any, database: str, host: str = "127.0.0.1") -> Iterator[ToolServer]:
    """The tool on PostgreSQL with its delivery thread (grades go to Moodle by themselves), as `plc-bridge serve`."""
    with throwaway_database(database) as url:
        server = start_tool(folder, url, host=host, worker_thread=True)
        yield server
        if server.workers is not None:
            server.workers.stop()
        server.server.shutdown()
        server.server.server_close()
        server.database.dispose()


def make_course(
    moodle: MoodleSite, course: dict[str, str], trainer: tuple[str, str, str], teachers: list[tuple[str, str, str]]
) -> int:
    """A course with its trainer (Moodle's "Teacher") and teachers (Moodle's "Student"), all in Thai; its id."""
    [made] = moodle.run({"action": "course", **course})
    for username, first, last in [trainer, *teachers]:
        moodle.add_user(username, first, last, lang="th")
    moodle.run(
        {"action": "enrol", "course": course["shortname"], "username": trainer[0], "role": "editingteacher"},
        *({"action": "enrol", "course": course["shortname"], "username": t[0], "role": "student"} for t in teachers),
    )
    return int(made["id"])


def running_program(
    trainer: Any, moodle: MoodleSite, tool: ToolServer, course_id: int, type_id: int, teachers: list[str]
) -> int:
    """What the trainer does before anyone writes: the program activity and the graded reflection of cycle 1 added
    with "Select content", the program set up from the program activity (Moodle's iframe), one team of the course's
    teachers from the roster, submitted, approved and started. The reflection activity's course-module id."""
    show_in_activity_chooser(trainer, moodle, course_id, type_id)
    program = add_activity(trainer, moodle, course_id, type_id, choose("program", "โครงการ PLC ของรายวิชา"))
    reflection = add_activity(trainer, moodle, course_id, type_id, choose("reflection", REFLECTION_TITLE))
    [(column, maximum)] = moodle.query(
        "SELECT itemname, grademax FROM mdl_grade_items WHERE courseid = %s AND itemmodule = 'lti'", course_id
    )
    assert (column, float(maximum)) == (REFLECTION_TITLE, 20.0)
    open_activity(trainer, moodle, program)
    plan = FrameVisit(tool, trainer)
    create(plan)
    teams = in_frame(trainer, tool, "/program/teams")  # the page reads the roster from Moodle
    for name in teachers:
        teams.get_by_text(name).first.wait_for()
    assert set(teachers) <= set(members_by_name(tool))
    form_team(plan, tool, "กลุ่มครูผู้สอน", teachers)
    step(plan, "submit")
    step(plan, "approve", approved_on="2026-11-01")
    assert step(plan, "start").status_code == 200
    return reflection


def write_reflection(where: Any, text: str) -> None:
    """The teacher's reflection page of cycle 1 (a page, or the tool's frame in Moodle's page)."""
    where.get_by_label("การสะท้อนผลของคุณ").fill(text)
    where.get_by_role("button", name="ส่งการสะท้อนผล").click()
    where.get_by_text("บันทึกการสะท้อนผลของคุณแล้ว").wait_for()


def grade_reflection(trainer: Any, tool: ToolServer, teacher: str, comment: str) -> None:
    """The trainer grades it with the rubric (3 of 4 on each criterion: 15 of 20), in the program activity's iframe."""
    reflections = in_frame(trainer, tool, "/program/reflections")
    reflections.get_by_role("link", name=teacher).click()
    reflections.get_by_role("button", name="บันทึกคะแนน").wait_for()
    for radio in reflections.locator("input[type=radio][value='3']").all():
        radio.check()
    reflections.get_by_label("ความเห็นถึงครู").fill(comment)
    reflections.get_by_role("button", name="บันทึกคะแนน").click()
    reflections.get_by_text("บันทึกคะแนนแล้ว").wait_for()


def graded_in_moodle(moodle: MoodleSite, course_id: int, username: str) -> list[tuple[str, float, float, str]]:
    graded = wait_until(lambda: grade_in_moodle(moodle, course_id, username), timeout=120, message="no grade in Moodle")
    return [(name, float(mx), float(got), feedback) for name, mx, got, feedback in graded]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def launch_log() -> Iterator[list[str]]:
    """The launch view's log lines, read on its own logger: the app factory replaces the root's handlers, and an
    Alembic run of another test (its logging fileConfig) may have disabled the loggers that existed then."""
    logger = logging.getLogger("lti_tool.web.views.lti")
    handler, level, disabled = _Lines(), logger.level, logger.disabled
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.disabled = False
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)
    logger.disabled = disabled


# The same in a new window ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def window_tool(moodle: MoodleSite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolServer]:
    with serving_tool(tmp_path_factory.mktemp("moodle-window-tool"), "plc_moodle_window") as server:
        yield server


@pytest.fixture(scope="module")
def window_course(moodle: MoodleSite) -> int:
    return make_course(moodle, WINDOW_COURSE, WINDOW_TRAINER, WINDOW_TEACHERS)


@pytest.fixture(scope="module")
def window_registered(moodle: MoodleSite, window_tool: ToolServer, browser: Any) -> int:
    page = log_in(browser, moodle, "admin")
    type_id = register_tool(page, moodle, window_tool.url("/lti/register"))
    page.context.close()
    return type_id


def test_a_teacher_writes_the_reflection_in_the_new_window_moodle_opens_and_the_grade_reaches_moodle(
    moodle: MoodleSite,
    window_tool: ToolServer,
    window_registered: int,
    window_course: int,
    browser: Any,
    launch_log: list[str],
) -> None:
    names = [f"{first} {last}" for _, first, last in WINDOW_TEACHERS]
    trainer = log_in(browser, moodle, WINDOW_TRAINER[0])
    reflection = running_program(trainer, moodle, window_tool, window_course, window_registered, names)
    # Moodle 4.3 and later no longer offer the activity's own launch container in its form (new activities take the
    # tool's default); an activity from an older site keeps its "New window".
    moodle.run({"action": "launch_container", "cmid": reflection, "container": LTI_LAUNCH_CONTAINER_WINDOW})

    # The teacher opens the reflection activity itself: Moodle's page opens the launch in a window of its own.
    teacher = log_in(browser, moodle, WINDOW_TEACHERS[0][0])
    with teacher.expect_popup() as opened:
        teacher.goto(moodle.url(f"/mod/lti/view.php?id={reflection}"))
    window = opened.value
    window.set_default_timeout(30_000)
    window.get_by_label("การสะท้อนผลของคุณ").wait_for()
    assert window.url.startswith(window_tool.url("/program/cycles/1/reflection")), window.url
    assert teacher.locator(TOOL_FRAME).count() == 0  # Moodle's page holds no iframe of the tool
    teacher.locator(f'a[target="_blank"][href*="/mod/lti/launch.php?id={reflection}"]').wait_for()
    launches = [line for line in launch_log if line.startswith("lti launch ")]
    assert launches[-1].endswith("role=teacher cookie=True"), launches  # a first-party window keeps the tool's cookie
    assert "plc_session" in [c["name"] for c in teacher.context.cookies(window_tool.base_url)]  # beside Moodle's

    write_reflection(window, "นักเรียนใช้แถบเศษส่วนแล้วอธิบายได้ดีขึ้น")
    window.set_viewport_size({"width": 1000, "height": 900})
    screenshot(window, "moodle-new-window.png")

    grade_reflection(trainer, window_tool, names[0], "อธิบายหลักฐานได้ชัดเจน")
    assert graded_in_moodle(moodle, window_course, WINDOW_TEACHERS[0][0]) == [
        (REFLECTION_TITLE, 20.0, 15.0, "อธิบายหลักฐานได้ชัดเจน")
    ]
    # The teacher's window shows the grade and the comment too, once its page is loaded again.
    window.reload()
    window.get_by_role("heading", name="คะแนนของคุณ").wait_for()
    window.get_by_text("อธิบายหลักฐานได้ชัดเจน").first.wait_for()
    assert window.get_by_label("การสะท้อนผลของคุณ").count() == 0  # graded: kept as it was graded
    teacher.context.close()
    trainer.context.close()


# The tool on another site than Moodle, third-party cookies blocked ---------------------------------------------------


@pytest.fixture(scope="module")
def cookieless_browser(browser: Any) -> Iterator[Any]:
    """Debian's Chromium with third-party cookies blocked, the switch that tests Chromium's third-party cookie
    phase-out. Playwright's contexts are off the record, where Chromium blocks them already, and over plain HTTP the
    tool's cookies are Lax, which Chromium neither keeps nor sends in a cross-site iframe: the switch says what this
    journey needs of the browser, whichever of them would otherwise give way."""
    blocking = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--test-third-party-cookie-phaseout",
        ],
    )
    yield blocking
    blocking.close()


@pytest.fixture(scope="module")
def cross_site_tool(moodle: MoodleSite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolServer]:
    """The tool at http://localhost:PORT: another site than Moodle's http://127.0.0.1:PORT."""
    with serving_tool(
        tmp_path_factory.mktemp("moodle-cross-site-tool"), "plc_moodle_cross", host="localhost"
    ) as server:
        yield server


@pytest.fixture(scope="module")
def cross_site_course(moodle: MoodleSite) -> int:
    return make_course(moodle, CROSS_COURSE, CROSS_TRAINER, CROSS_TEACHERS)


@pytest.fixture(scope="module")
def cross_site_registered(moodle: MoodleSite, cross_site_tool: ToolServer, cookieless_browser: Any) -> int:
    page = log_in(cookieless_browser, moodle, "admin")
    type_id = register_tool(page, moodle, cross_site_tool.url("/lti/register"))
    page.context.close()
    return type_id


def test_on_another_site_with_third_party_cookies_blocked_a_teacher_writes_in_moodles_iframe_and_is_graded(
    moodle: MoodleSite,
    cross_site_tool: ToolServer,
    cross_site_registered: int,
    cross_site_course: int,
    cookieless_browser: Any,
    launch_log: list[str],
) -> None:
    assert cross_site_tool.base_url.startswith("http://localhost:") and moodle.wwwroot.startswith("http://127.0.0.1:")
    names = [f"{first} {last}" for _, first, last in CROSS_TEACHERS]
    trainer = log_in(cookieless_browser, moodle, CROSS_TRAINER[0])
    reflection = running_program(trainer, moodle, cross_site_tool, cross_site_course, cross_site_registered, names)

    # The teacher opens the reflection activity: the tool in Moodle's iframe, on another site, gets no cookie.
    teacher = log_in(cookieless_browser, moodle, CROSS_TEACHERS[0][0])
    before = len(launch_log)
    frame = open_activity(teacher, moodle, reflection)
    frame.get_by_label("การสะท้อนผลของคุณ").wait_for()
    assert tool_frame(teacher).url.startswith(cross_site_tool.url("/program/cycles/1/reflection"))
    launches = [line for line in launch_log[before:] if line.startswith("lti launch ")]
    assert len(launches) == 1 and launches[0].endswith("role=teacher cookie=False"), launches
    assert not [c for c in teacher.context.cookies() if c["domain"] == "localhost"]

    write_reflection(frame, "นักเรียนอ่านจับใจความได้ดีขึ้นเมื่อใช้ผังความคิด")
    screenshot(teacher, "moodle-cross-site-iframe.png")
    assert not [c for c in teacher.context.cookies() if c["domain"] == "localhost"]

    grade_reflection(trainer, cross_site_tool, names[0], "ยกตัวอย่างงานของนักเรียนได้ดี")
    assert graded_in_moodle(moodle, cross_site_course, CROSS_TEACHERS[0][0]) == [
        (REFLECTION_TITLE, 20.0, 15.0, "ยกตัวอย่างงานของนักเรียนได้ดี")
    ]
    teacher.context.close()
    trainer.context.close()
