"""A PLC course in a real Moodle, as the Moodle journeys set it up and walk it: the tool served for Moodle, a course
with its people, the trainer's program and graded reflection added with "Select content" and started, the teacher's
reflection, the trainer's grade, and the grade as Moodle's gradebook holds it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from tests.conftest import ToolServer, start_tool
from tests.support.moodle import MoodleSite
from tests.support.moodle_pages import (
    TOOL_FRAME,
    add_activity,
    open_activity,
    session_token,
    show_in_activity_chooser,
    tool_frame,
)
from tests.support.pg import throwaway_database
from tests.support.waiting import wait_until
from tests.test_program_pages import Visit, create
from tests.test_program_teams import form_team, members_by_name, step

MoodleUser = tuple[str, str, str]  # Moodle username, first name, last name
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


def running_program(
    trainer: Any, moodle: MoodleSite, tool: ToolServer, course_id: int, type_id: int, teachers: list[str]
) -> tuple[int, int]:
    """What the trainer does before anyone writes: the program activity and the graded reflection of cycle 1 added
    with "Select content", the program set up from the program activity (Moodle's iframe), one team of the course's
    teachers from the roster, submitted, approved and started. The course-module ids of the program activity and of the reflection activity."""
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
    return program, reflection


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
