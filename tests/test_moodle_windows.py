"""PLC Bridge in a real Moodle, in the two other places a teacher meets it (Moodle in the loop, part 2):

- an activity whose launch container is "New window": Moodle opens the tool in a window of its own, and the teacher
  writes the reflection there;
- the tool on another site than Moodle (http://localhost:PORT beside Moodle's http://127.0.0.1:PORT) in a Chromium
  that blocks third-party cookies: inside Moodle's iframe the tool gets no cookie at all, and the teacher's reflection
  and its grade still go through, on the link tokens of the tool's pages.

Both end in Moodle's gradebook: the grade and the trainer's comment, as Moodle stored them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import CHROMIUM, ToolServer
from tests.support.moodle import MoodleSite
from tests.support.moodle_course import (
    REFLECTION_TITLE,
    grade_reflection,
    graded_in_moodle,
    make_course,
    running_program,
    serving_tool,
    write_reflection,
)
from tests.support.moodle_pages import (
    TOOL_FRAME,
    log_in,
    open_activity,
    register_tool,
    screenshot,
    tool_frame,
)

# The first test of a session may install Moodle (about a minute on two cores) before it starts.
pytestmark = [pytest.mark.moodle, pytest.mark.browser, pytest.mark.postgres, pytest.mark.timeout(600)]

LTI_LAUNCH_CONTAINER_WINDOW = 4  # mod/lti/locallib.php

WINDOW_COURSE = {"fullname": "PLC คณิตศาสตร์ ม.1", "shortname": "plc-math-1-window"}
WINDOW_TRAINER = ("wtrainer", "มาลี", "ศรีสุข")
WINDOW_TEACHERS = [("wteacher1", "ปราณี", "บุญมา"), ("wteacher2", "สุดา", "พรหมมา"), ("wteacher3", "อำนาจ", "ใจกล้า")]

CROSS_COURSE = {"fullname": "PLC ภาษาไทย ม.3", "shortname": "plc-thai-3-cross-site"}
CROSS_TRAINER = ("xtrainer", "รัตนา", "วงศ์ใหญ่")
CROSS_TEACHERS = [("xteacher1", "บุษบา", "คำดี"), ("xteacher2", "ชัยวัฒน์", "นาคสุข"), ("xteacher3", "พิมพ์ใจ", "สายทอง")]


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
    _program, reflection = running_program(trainer, moodle, window_tool, window_course, window_registered, names)
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
    _program, reflection = running_program(
        trainer, moodle, cross_site_tool, cross_site_course, cross_site_registered, names
    )

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
