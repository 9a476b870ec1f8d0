"""Corrections of a team's tracking form over real HTTP: saving a saved form again corrects it with a history of the
answers before and after; a trainer changing what a teacher saved gives a reason; after the end only a trainer
corrects, with a reason; the answers are checked as on the first save. Tracking forms have no learning record."""

from __future__ import annotations

import requests
from sqlalchemy import select

from models.corrections import RecordChange
from models.outbox import OutboxStatement
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_cycle_pages import PROBLEM_FORM, entries
from tests.test_program_pages import Visit, take_step, trainer_visit
from tests.test_sessions_page import running_program_with_a_team

FORM = "/cycles/1/forms/problem-reflection"
CORRECTED_PROBLEM = "นักเรียน ม.1 เปรียบเทียบเศษส่วนที่ตัวส่วนต่างกันไม่ได้"


def save(visit: Visit, **changes: str) -> requests.Response:
    page = visit.get("/program/cycles/1")
    return visit.post(f"/program{FORM}", {"csrf": visit.csrf(page, FORM), **PROBLEM_FORM, **changes})


def changes(tool: ToolServer) -> list[RecordChange]:
    with tool.database.transaction() as db:
        return list(db.scalars(select(RecordChange).where(RecordChange.kind == "form").order_by(RecordChange.id)))


def outbox_size(tool: ToolServer) -> int:
    with tool.database.transaction() as db:
        return len(db.scalars(select(OutboxStatement.id)).all())


def saved_by_a_teacher(tool: ToolServer, platform: TestPlatform) -> Visit:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    assert save(teacher).status_code == 200
    return teacher


def test_saving_the_form_again_corrects_it_and_keeps_the_history(tool: ToolServer, platform: TestPlatform) -> None:
    teacher = saved_by_a_teacher(tool, platform)
    statements_before = outbox_size(tool)

    page = save(teacher, problem=CORRECTED_PROBLEM)

    assert page.status_code == 200
    [(_, _, answers)] = entries(tool)
    assert answers["problem"] == CORRECTED_PROBLEM
    [change] = changes(tool)
    assert change.changed_fields() == ["problem"] and change.reason == ""
    assert change.before["problem"] == PROBLEM_FORM["problem"] and change.after == answers
    assert "แก้ไขโดย" in page.text and PROBLEM_FORM["problem"] in page.text  # the history: before → after
    assert outbox_size(tool) == statements_before  # a tracking form has no learning record


def test_saving_the_same_answers_again_keeps_no_history(tool: ToolServer, platform: TestPlatform) -> None:
    teacher = saved_by_a_teacher(tool, platform)

    assert save(teacher).status_code == 200

    assert changes(tool) == [] and "แก้ไขโดย" not in teacher.get("/program/cycles/1").text


def test_a_trainer_gives_a_reason_to_change_what_a_teacher_saved(tool: ToolServer, platform: TestPlatform) -> None:
    saved_by_a_teacher(tool, platform)
    trainer = trainer_visit(tool, platform)

    refused = save(trainer, problem=CORRECTED_PROBLEM)
    assert refused.status_code == 422 and 'id="problem-reflection-reason-error"' in refused.text
    assert CORRECTED_PROBLEM in refused.text  # what was typed stays in the form
    assert entries(tool)[0][2]["problem"] == PROBLEM_FORM["problem"] and changes(tool) == []

    assert save(trainer, problem=CORRECTED_PROBLEM, reason="ครูแจ้งว่าพิมพ์ผิด").status_code == 200
    [change] = changes(tool)
    assert change.reason == "ครูแจ้งว่าพิมพ์ผิด" and entries(tool)[0][2]["problem"] == CORRECTED_PROBLEM


def test_a_corrected_date_outside_the_program_year_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    teacher = saved_by_a_teacher(tool, platform)

    refused = save(teacher, lesson_date="2031-11-25")

    assert refused.status_code == 422 and 'id="problem-reflection-lesson_date-error"' in refused.text
    assert entries(tool)[0][2]["lesson_date"] == PROBLEM_FORM["lesson_date"] and changes(tool) == []


def test_after_the_end_only_a_trainer_corrects_with_a_reason(tool: ToolServer, platform: TestPlatform) -> None:
    teacher = saved_by_a_teacher(tool, platform)
    csrf = teacher.csrf(teacher.get("/program/cycles/1"), FORM)
    trainer = trainer_visit(tool, platform)
    assert take_step(trainer, "end").status_code == 200

    assert f"/program{FORM}" not in teacher.get("/program/cycles/1").text  # read-only for the team now
    refused = teacher.post(f"/program{FORM}", {"csrf": csrf, **PROBLEM_FORM, "problem": CORRECTED_PROBLEM})
    assert refused.status_code == 409
    without_reason = save(trainer, problem=CORRECTED_PROBLEM)
    assert without_reason.status_code == 422 and 'id="problem-reflection-reason-error"' in without_reason.text
    assert changes(tool) == []

    assert save(trainer, problem=CORRECTED_PROBLEM, reason="ตรวจกับเอกสารจริงแล้ว").status_code == 200
    [change] = changes(tool)
    assert change.reason == "ตรวจกับเอกสารจริงแล้ว" and entries(tool)[0][2]["problem"] == CORRECTED_PROBLEM


def test_after_the_end_a_form_never_saved_cannot_be_started(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    trainer = trainer_visit(tool, platform)
    assert take_step(trainer, "end").status_code == 200

    page = trainer.get("/program/cycles/1")
    assert f"/program{FORM}" not in page.text
    assert entries(tool) == []
