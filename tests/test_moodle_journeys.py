"""PLC Bridge in a real Moodle (4.5 LTS unless another version is in ../shared/moodle/), through Moodle's own pages in
Chromium: the site administrator registers and activates the tool, a trainer adds the program and a graded reflection
with "Select content", the roster comes from Moodle, a teacher writes the reflection in Moodle's iframe, the trainer
grades it and the grade with its comment is in Moodle's grader report."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select

from models.people import Membership, Person
from models.platform import Platform
from tests.conftest import ToolServer, start_tool
from tests.support.moodle import MoodleSite
from tests.support.moodle_pages import (
    TOOL_FRAME,
    add_activity,
    log_in,
    open_activity,
    register_tool,
    screenshot,
    session_token,
    show_in_activity_chooser,
    tool_frame,
)
from tests.support.pg import throwaway_database
from tests.support.waiting import wait_until
from tests.test_program_pages import Visit, create
from tests.test_program_teams import form_team, members_by_name, step

# The first test of a session may install Moodle (about a minute on two cores) before it starts.
pytestmark = [pytest.mark.moodle, pytest.mark.browser, pytest.mark.postgres, pytest.mark.timeout(600)]

MoodleUser = tuple[str, str, str]  # Moodle username, first name, last name
COURSE = {"fullname": "PLC วิทยาศาสตร์ ม.2", "shortname": "plc-sci-2"}
TRAINER: MoodleUser = ("trainer1", "กาญจนา", "ทองคำ")
TEACHERS: list[MoodleUser] = [
    ("teacher1", "สมศรี", "ใจดี"),
    ("teacher2", "วิไล", "แสงทอง"),
    ("teacher3", "ประยุทธ", "มั่นคง"),
]


@pytest.fixture(scope="module")
def moodle_tool(moodle: MoodleSite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolServer]:
    """The tool on PostgreSQL with its delivery thread (grades go to Moodle by themselves), as `plc-bridge serve`."""
    with throwaway_database("plc_moodle_tool") as url:
        server = start_tool(tmp_path_factory.mktemp("moodle-tool"), url, worker_thread=True)
        yield server
        if server.workers is not None:
            server.workers.stop()
        server.server.shutdown()
        server.server.server_close()
        server.database.dispose()


def make_course(moodle: MoodleSite, course: dict[str, str], trainer: MoodleUser, teachers: list[MoodleUser]) -> int:
    """A course with its trainer (Moodle's "Teacher") and teachers (Moodle's "Student"), all in Thai: its id."""
    [made] = moodle.run({"action": "course", **course})
    for username, first, last in [trainer, *teachers]:
        moodle.add_user(username, first, last, lang="th")
    moodle.run(
        {"action": "enrol", "course": course["shortname"], "username": trainer[0], "role": "editingteacher"},
        *({"action": "enrol", "course": course["shortname"], "username": t[0], "role": "student"} for t in teachers),
    )
    return int(made["id"])


@pytest.fixture(scope="module")
def course(moodle: MoodleSite) -> dict[str, Any]:
    return {"id": make_course(moodle, COURSE, TRAINER, TEACHERS)}


@pytest.fixture(scope="module")
def registered(moodle: MoodleSite, moodle_tool: ToolServer, browser: Any) -> int:
    """The tool registered by Moodle's site administrator through Manage tools, and activated: its type id."""
    page = log_in(browser, moodle, "admin")
    type_id = register_tool(page, moodle, moodle_tool.url("/lti/register"))
    screenshot(page, "moodle-tool-registered.png")
    page.context.close()
    return type_id


def choose(activity: str, title: str = "") -> Any:
    """What the trainer does in the tool's picker inside Moodle's "Select content" window."""

    def in_the_picker(picker: Any) -> None:
        picker.locator(f"#activity-{activity}").check()
        if title:
            picker.locator("#title").fill(title)
        picker.get_by_role("button", name="เพิ่มลงในรายวิชา").click()

    return in_the_picker


class FrameVisit(Visit):
    """The person's session in the tool, taken from the tool's page inside Moodle's iframe (its link token), for the
    steps this journey does not need a browser for (the program's plan, tested page by page elsewhere)."""

    def __init__(self, tool: ToolServer, page: Any) -> None:
        self.tool = tool
        self.browser = requests.Session()
        self.token = session_token(tool_frame(page))


def in_frame(page: Any, tool: ToolServer, path: str) -> Any:
    """Follow a link of the tool inside Moodle's iframe (the same session, as the tool's own links carry it)."""
    frame = tool_frame(page)
    frame.goto(tool.url(path) + ("&" if "?" in path else "?") + "s=" + session_token(frame))
    return page.frame_locator(TOOL_FRAME)


def grade_in_moodle(moodle: MoodleSite, course_id: int, username: str) -> list[tuple[Any, ...]]:
    """The learner's grades of the course's external-tool activities, as Moodle's gradebook holds them."""
    return moodle.query(
        "SELECT gi.itemname, gi.grademax, gg.finalgrade, gg.feedback FROM mdl_grade_grades gg"
        " JOIN mdl_grade_items gi ON gi.id = gg.itemid JOIN mdl_user u ON u.id = gg.userid"
        " WHERE gi.courseid = %s AND gi.itemmodule = 'lti' AND u.username = %s AND gg.finalgrade IS NOT NULL",
        course_id,
        username,
    )


def test_the_admin_registers_the_tool_and_a_trainer_adds_the_program_with_select_content(
    moodle: MoodleSite, moodle_tool: ToolServer, registered: int, course: dict[str, Any], browser: Any
) -> None:
    [tool_type] = [t for t in moodle.run({"action": "tool_types"})[0] if t["id"] == registered]
    assert tool_type["state"] == 1  # active
    page = log_in(browser, moodle, TRAINER[0])
    show_in_activity_chooser(page, moodle, course["id"], registered)

    cmid = add_activity(page, moodle, course["id"], registered, choose("program"), shot="moodle-select-content.png")
    frame = open_activity(page, moodle, cmid)
    frame.locator("h1").first.wait_for()
    screenshot(page, "moodle-launch-in-iframe.png")


def test_a_teacher_writes_the_reflection_in_moodles_iframe_and_the_grade_reaches_moodles_grader_report(
    moodle: MoodleSite, moodle_tool: ToolServer, registered: int, course: dict[str, Any], browser: Any
) -> None:
    trainer = log_in(browser, moodle, TRAINER[0])
    show_in_activity_chooser(trainer, moodle, course["id"], registered)
    program = add_activity(trainer, moodle, course["id"], registered, choose("program", "โครงการ PLC ของรายวิชา"))
    # The graded reflection of cycle 1: Moodle makes its gradebook column from the content item's line item. Nobody
    # ever launches it in this journey: the grade finds its column through the course's line-items service.
    add_activity(trainer, moodle, course["id"], registered, choose("reflection", "การสะท้อนผล วงรอบที่ 1"))
    [(column, maximum)] = moodle.query(
        "SELECT itemname, grademax FROM mdl_grade_items WHERE courseid = %s AND itemmodule = 'lti'", course["id"]
    )
    assert (column, float(maximum)) == ("การสะท้อนผล วงรอบที่ 1", 20.0)

    # The trainer sets up the program from the program activity; the teams page reads the roster from Moodle.
    open_activity(trainer, moodle, program)
    plan = FrameVisit(moodle_tool, trainer)
    create(plan)
    teams = in_frame(trainer, moodle_tool, "/program/teams")
    for _, first, last in TEACHERS:
        teams.get_by_text(f"{first} {last}").first.wait_for()
    names = [f"{first} {last}" for _, first, last in TEACHERS]
    assert set(names) <= set(members_by_name(moodle_tool))  # two of them never opened PLC Bridge
    form_team(plan, moodle_tool, "กลุ่มวิทยาศาสตร์", names)
    step(plan, "submit")
    step(plan, "approve", approved_on="2026-11-01")
    assert step(plan, "start").status_code == 200

    # A teacher writes the reflection of cycle 1 inside Moodle's iframe of the program activity.
    teacher = log_in(browser, moodle, TEACHERS[0][0])
    open_activity(teacher, moodle, program)
    reflection = in_frame(teacher, moodle_tool, "/program/cycles/1/reflection")
    reflection.get_by_label("การสะท้อนผลของคุณ").fill("นักเรียนใช้แถบเศษส่วนแล้วอธิบายได้ดีขึ้น")
    reflection.get_by_role("button", name="ส่งการสะท้อนผล").click()
    reflection.get_by_text("บันทึกการสะท้อนผลของคุณแล้ว").wait_for()
    screenshot(teacher, "moodle-teacher-reflection-in-iframe.png")

    # The trainer grades it with the rubric; the grade goes to Moodle by itself, and the trainer sees it arrive.
    reflections = in_frame(trainer, moodle_tool, "/program/reflections")
    reflections.get_by_role("link", name=names[0]).click()
    reflections.get_by_role("button", name="บันทึกคะแนน").wait_for()
    for radio in reflections.locator("input[type=radio][value='3']").all():
        radio.check()
    reflections.get_by_label("ความเห็นถึงครู").fill("อธิบายหลักฐานได้ชัดเจน")
    reflections.get_by_role("button", name="บันทึกคะแนน").click()
    reflections.get_by_text("บันทึกคะแนนแล้ว").wait_for()
    graded = wait_until(
        lambda: grade_in_moodle(moodle, course["id"], TEACHERS[0][0]), timeout=120, message="no grade in Moodle"
    )
    assert [(name, float(mx), float(got), feedback) for name, mx, got, feedback in graded] == [
        ("การสะท้อนผล วงรอบที่ 1", 20.0, 15.0, "อธิบายหลักฐานได้ชัดเจน")
    ]
    in_frame(trainer, moodle_tool, "/program/reflections").get_by_text("ถึงสมุดคะแนนของ LMS แล้ว").first.wait_for()

    # Moodle's grader report shows it to the trainer.
    trainer.goto(moodle.url(f"/grade/report/grader/index.php?id={course['id']}"))
    row = trainer.locator("tr", has_text=names[0])
    row.get_by_text("15.00").first.wait_for()  # the column, and the course total
    screenshot(trainer, "moodle-grader-report.png")


def test_registering_the_tool_again_updates_moodles_tool_and_the_tools_platform(
    moodle: MoodleSite, moodle_tool: ToolServer, registered: int, browser: Any
) -> None:
    """Pasting the registration URL again: Moodle offers to update the tool it has for that address; both sides keep
    one registration (the same client ID), with its addresses updated."""
    [before] = [t for t in moodle.run({"action": "tool_types"})[0] if t["id"] == registered]
    page = log_in(browser, moodle, "admin")
    page.goto(moodle.url("/mod/lti/toolconfigure.php"))
    page.fill("#tool-url", moodle_tool.url("/lti/register"))
    page.click("#tool-create-button")
    choice = page.frame_locator("#external-registration-template-container iframe")
    choice.get_by_role("button", name="Update").click()
    page.locator("#external-registration-template-container iframe").wait_for(state="detached")
    after = [t for t in moodle.run({"action": "tool_types"})[0] if t["baseurl"] == before["baseurl"]]
    assert [(t["id"], t["clientid"], t["state"]) for t in after] == [(registered, before["clientid"], 1)]
    with moodle_tool.database.transaction() as db:
        platforms = [(p.issuer, p.client_id) for p in db.scalars(select(Platform))]
    assert platforms == [(moodle.wwwroot, before["clientid"])]


def test_a_teacher_suspended_in_moodle_is_shown_as_left_once_the_roster_is_read_again(
    moodle: MoodleSite, moodle_tool: ToolServer, registered: int, browser: Any
) -> None:
    """Moodle's roster (NRPS) leaves suspended people out instead of marking them inactive: the tool takes a teacher
    missing from a complete roster as having left the course, out of new teams."""
    course = {"fullname": "PLC คณิตศาสตร์ ม.1", "shortname": "plc-math-1"}
    teachers: list[MoodleUser] = [("math1", "มานพ", "ศรีสุข"), ("math2", "ดวงใจ", "พรหมมา"), ("math3", "สมชาย", "รักเรียน")]
    course_id = make_course(moodle, course, ("mathtrainer", "อรุณี", "วงศ์ใหญ่"), teachers)
    trainer = log_in(browser, moodle, "mathtrainer")
    show_in_activity_chooser(trainer, moodle, course_id, registered)
    program = add_activity(trainer, moodle, course_id, registered, choose("program"))
    open_activity(trainer, moodle, program)
    create(FrameVisit(moodle_tool, trainer))
    teams = in_frame(trainer, moodle_tool, "/program/teams")
    leaving = f"{teachers[2][1]} {teachers[2][2]}"
    teams.get_by_label(leaving).wait_for()
    assert teams.get_by_label(leaving).is_enabled()

    moodle.run({"action": "suspend", "course": course["shortname"], "username": teachers[2][0]})
    teams.get_by_role("button", name="อ่านรายชื่ออีกครั้ง").click()
    teams.get_by_text("ออกจากรายวิชาแล้ว").first.wait_for()
    assert teams.get_by_label(leaving).is_disabled()
    with moodle_tool.database.transaction() as db:
        left = db.execute(
            select(Person.name, Membership.inactive_since)
            .join(Membership)
            .where(Membership.inactive_since.is_not(None))
        ).all()
    assert [name for name, _ in left] == [leaving]
