"""A teacher records an element session over real HTTP; its learning records commit with it, or nothing does."""

from __future__ import annotations

import re
from collections.abc import Callable

import requests
from sqlalchemy import select

from models.cycles import ElementSession
from models.outbox import OutboxStatement
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_program_pages import Visit, create, trainer_visit
from tests.test_program_teams import form_team, step, teachers_launch
from xapi.profile import check_statement
from xapi.vocabulary import Extension, Verb


def running_program_with_a_team(
    tool: ToolServer,
    platform: TestPlatform,
    start: bool = True,
    before_submit: Callable[[Visit], object] | None = None,
) -> list[str]:
    """A program with one team of three, submitted, approved and (unless `start` is False) running; `before_submit`
    sets up more of the plan while it is a draft (its agency, say)."""
    names = teachers_launch(platform, 3)
    trainer = trainer_visit(tool, platform)
    create(trainer)
    form_team(trainer, tool, "กลุ่มคณิตศาสตร์", names)
    if before_submit is not None:
        before_submit(trainer)
    step(trainer, "submit")
    step(trainer, "approve", approved_on="2026-11-01")
    if start:
        assert step(trainer, "start").status_code == 200
    return names


def record(teacher: Visit, **fields: str) -> requests.Response:
    page = teacher.get("/program/sessions")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf, page.text[:300]
    attendees = re.findall(r'name="attendee" value="(\d+)"', page.text)
    data = [("csrf", csrf.group(1)), *fields.items()]
    data += [("attendee", a) for a in attendees] if "attendee" not in fields else []
    return teacher.browser.post(teacher.tool.url("/program/sessions"), params={"s": teacher.token}, data=data)


def recorded(tool: ToolServer) -> tuple[list[tuple[int, str, int]], list[dict]]:
    """(element, hours, people present) per recorded session, and the attended statements in the outbox."""
    with tool.database.transaction() as db:
        sessions = [(s.element, str(s.hours), len(s.attendance)) for s in db.scalars(select(ElementSession))]
        payloads = [
            row.payload for row in db.scalars(select(OutboxStatement).where(OutboxStatement.verb == Verb.ATTENDED))
        ]
    return sessions, payloads


def test_a_teacher_records_a_session_and_each_teacher_present_gets_a_learning_record(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    page = record(teacher, cycle="1", element="1", held_on="2026-11-20", hours="1.5", notes="ตกลงบรรทัดฐานของกลุ่ม")

    assert page.status_code == 200 and "20 พฤศจิกายน 2569" in page.text
    sessions, statements = recorded(tool)
    assert sessions == [(1, "1.50", 3)]
    assert len(statements) == 3
    assert {s["result"]["duration"] for s in statements} == {"PT1H30M"}
    assert all(s["context"]["extensions"][Extension.ELEMENT_NUMBER] == 1 for s in statements)
    assert len({s["context"]["registration"] for s in statements}) == 3  # one per teacher per program
    assert {s["context"]["extensions"][Extension.PLC_ROLE] for s in statements} == {"model", "buddy"}
    assert [check_statement(s) for s in statements] == [[], [], []]  # each fits the profile's template


def test_out_of_range_hours_are_refused_beside_the_field_and_nothing_is_written(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    page = record(teacher, cycle="1", element="1", held_on="2026-11-20", hours="30")

    assert page.status_code == 422 and 'id="hours-error"' in page.text
    assert recorded(tool) == ([], [])


def test_an_element_out_of_order_is_kept_with_a_warning(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    page = record(teacher, cycle="1", element="3", held_on="2026-11-20", hours="2")

    assert page.status_code == 200 and 'role="status"' in page.text
    assert [element for element, _, _ in recorded(tool)[0]] == [3]


def test_nothing_is_recorded_before_the_program_runs(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform, start=False)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    page = record(teacher, cycle="1", element="1", held_on="2026-11-20", hours="1")

    assert page.status_code == 409
    assert recorded(tool) == ([], [])


def test_a_teacher_without_a_team_cannot_open_the_sessions(tool: ToolServer, platform: TestPlatform) -> None:
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    assert teacher.get("/program/sessions").status_code == 403


def test_a_link_to_one_cycles_element_preselects_it_in_the_form(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    page = teacher.get("/program/sessions", cycle="2", element="4")

    assert '<option value="2" selected>2</option>' in page.text
    assert re.search(r'<option value="4" selected>4\. ', page.text)
