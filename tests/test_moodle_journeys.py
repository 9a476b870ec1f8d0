"""PLC Bridge in a real Moodle (4.5 LTS unless another version is in ../shared/moodle/), through Moodle's own pages in
Chromium: the site administrator registers and activates the tool, a trainer adds the program and a graded reflection
with "Select content", the roster comes from Moodle, a teacher writes the reflection in Moodle's iframe, the trainer
grades it and the grade with its comment is in Moodle's grader report."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from models.people import Membership, Person
from models.platform import Platform
from tests.conftest import ToolServer
from tests.support.moodle import MoodleSite
from tests.support.moodle_course import (
    REFLECTION_TITLE,
    FrameVisit,
    MoodleUser,
    choose,
    grade_reflection,
    graded_in_moodle,
    in_frame,
    make_course,
    running_program,
    serving_tool,
    write_reflection,
)
from tests.support.moodle_pages import (
    add_activity,
    log_in,
    open_activity,
    register_tool,
    screenshot,
    show_in_activity_chooser,
)
from tests.support.waiting import wait_until
from tests.test_program_pages import create

# The first test of a session may install Moodle (about a minute on two cores) before it starts.
pytestmark = [pytest.mark.moodle, pytest.mark.browser, pytest.mark.postgres, pytest.mark.timeout(600)]

COURSE = {"fullname": "PLC วิทยาศาสตร์ ม.2", "shortname": "plc-sci-2"}
TRAINER: MoodleUser = ("trainer1", "กาญจนา", "ทองคำ")
TEACHERS: list[MoodleUser] = [
    ("teacher1", "สมศรี", "ใจดี"),
    ("teacher2", "วิไล", "แสงทอง"),
    ("teacher3", "ประยุทธ", "มั่นคง"),
]


@pytest.fixture(scope="module")
def moodle_tool(moodle: MoodleSite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolServer]:
    with serving_tool(tmp_path_factory.mktemp("moodle-tool"), "plc_moodle_tool") as server:
        yield server


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
    names = [f"{first} {last}" for _, first, last in TEACHERS]
    # The trainer adds the program and the graded reflection of cycle 1 (Moodle makes its gradebook column from the
    # content item's line item) and starts the program from the roster Moodle gives; two teachers never launched.
    # Nobody ever launches the reflection activity in this journey: the grade finds its column through the course's
    # line-items service.
    program, _reflection = running_program(trainer, moodle, moodle_tool, course["id"], registered, names)

    # A teacher writes the reflection of cycle 1 inside Moodle's iframe of the program activity.
    teacher = log_in(browser, moodle, TEACHERS[0][0])
    open_activity(teacher, moodle, program)
    write_reflection(in_frame(teacher, moodle_tool, "/program/cycles/1/reflection"), "นักเรียนใช้แถบเศษส่วนแล้วอธิบายได้ดีขึ้น")
    screenshot(teacher, "moodle-teacher-reflection-in-iframe.png")

    # The trainer grades it with the rubric; the grade goes to Moodle by itself, and the trainer sees it arrive.
    grade_reflection(trainer, moodle_tool, names[0], "อธิบายหลักฐานได้ชัดเจน")
    assert graded_in_moodle(moodle, course["id"], TEACHERS[0][0]) == [
        (REFLECTION_TITLE, 20.0, 15.0, "อธิบายหลักฐานได้ชัดเจน")
    ]
    # Moodle holds the grade a moment before the tool records Moodle's answer: the trainer's page says so once it has.
    wait_until(
        lambda: in_frame(trainer, moodle_tool, "/program/reflections").get_by_text("ถึงสมุดคะแนนของ LMS แล้ว").count(),
        timeout=60,
        interval=1,
        message="the trainer's page never said the grade reached the gradebook",
    )

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
