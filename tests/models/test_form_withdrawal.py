"""Withdrawing a team's tracking form: the same people and times as a correction (the team's recorders and trainers
while the program runs; after the end only a trainer, with a reason, until certificates are requested); the form
shows as not filled in, its history keeps the answers before, and it can be filled in again. Synthetic data on
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import corrections
from models.errors import InvalidInput
from models.forms import FormEntry, form_entries, save_form
from models.people import Membership
from models.programs import end, request_certificates
from models.teams import Team
from tests.factories import ENDED_ON, NOW, TODAY, Course, running

ANSWERS = {"problem": "อ่านโจทย์ไม่เข้าใจ", "approaches": "ฝึกอ่าน", "plan": "สัปดาห์ละครั้ง", "lesson_date": "2026-07-01"}


def member(db: Session, team: Team, index: int) -> Membership:
    found = db.get(Membership, team.member_ids[index])
    assert found is not None
    return found


def saved(db: Session, team: Team, by: int = 0) -> FormEntry:
    return save_form(db, team, 1, "problem-reflection", ANSWERS, member(db, team, by), TODAY)


def withdraw(db: Session, entry: FormEntry, by: Membership, reason: str = "") -> corrections.RecordChange:
    return corrections.withdraw_form(db, entry, changer=by, reason=reason, now=NOW)


def entries(db: Session) -> list[FormEntry]:
    return list(db.scalars(select(FormEntry)))


def test_a_team_member_withdraws_the_form_without_a_reason_and_its_history_keeps_the_answers(
    db: Session, course: Course
) -> None:
    _, team = running(db, course)
    entry = saved(db, team)
    cycle_id = entry.cycle_id

    change = withdraw(db, entry, member(db, team, 0))

    assert entries(db) == []
    assert change.action == "withdrawn" and change.kind == "form" and change.after is None
    assert change.before["cycle_id"] == cycle_id and change.before["form"] == "problem-reflection"
    assert {k: v for k, v in change.before["answers"].items() if v} == ANSWERS
    assert change.changed_by_id == team.member_ids[0] and change.changed_at == NOW
    assert corrections.form_withdrawals(db, cycle_id) == {"problem-reflection": [change]}


def test_a_withdrawn_form_can_be_filled_in_again(db: Session, course: Course) -> None:
    _, team = running(db, course)
    first = saved(db, team)
    cycle = first.cycle
    withdraw(db, first, member(db, team, 0))

    again = saved(db, team, by=1)

    assert list(form_entries(db, cycle)) == ["problem-reflection"] and again.updated_by_id == team.member_ids[1]
    assert len(corrections.form_withdrawals(db, cycle.id)["problem-reflection"]) == 1


def test_a_trainer_needs_a_reason_to_withdraw_a_form_a_teacher_saved(db: Session, course: Course) -> None:
    _, team = running(db, course)
    entry = saved(db, team)

    with pytest.raises(InvalidInput) as refused:
        withdraw(db, entry, course.trainer, reason="   ")
    assert [(p.field, p.code) for p in refused.value.problems] == [("reason", "reason_required")]
    assert len(entries(db)) == 1 and corrections.form_withdrawals(db, entry.cycle_id) == {}

    change = withdraw(db, entry, course.trainer, reason="ซ้ำกับแบบที่ส่งแล้ว")
    assert change.reason == "ซ้ำกับแบบที่ส่งแล้ว" and entries(db) == []


def test_a_reason_over_the_limit_is_refused_and_nothing_changes(db: Session, course: Course) -> None:
    _, team = running(db, course)
    entry = saved(db, team)

    with pytest.raises(InvalidInput) as refused:
        withdraw(db, entry, member(db, team, 0), reason="ก" * (corrections.MAX_REASON_CHARS + 1))
    assert [(p.field, p.code) for p in refused.value.problems] == [("reason", "too_long")]
    assert len(entries(db)) == 1


def test_after_the_end_only_a_trainer_withdraws_and_always_with_a_reason(db: Session, course: Course) -> None:
    program, team = running(db, course)
    entry = saved(db, team)
    end(program, ENDED_ON)

    with pytest.raises(corrections.TrainerOnlyAfterEnd):
        withdraw(db, entry, member(db, team, 0), reason="พิมพ์ผิด")
    with pytest.raises(InvalidInput):
        withdraw(db, entry, course.trainer)
    assert len(entries(db)) == 1

    withdraw(db, entry, course.trainer, reason="ตรวจแล้วไม่ใช่ของวงรอบนี้")
    assert entries(db) == []


def test_once_certificates_are_requested_no_form_is_withdrawn(db: Session, course: Course) -> None:
    program, team = running(db, course)
    entry = saved(db, team)
    end(program, ENDED_ON)
    request_certificates(program, ENDED_ON)

    with pytest.raises(corrections.CorrectionClosed):
        withdraw(db, entry, course.trainer, reason="สาย")
    assert len(entries(db)) == 1


def test_withdrawals_are_found_by_their_own_cycle_only(db: Session, course: Course) -> None:
    _, team = running(db, course)
    entry = saved(db, team)
    cycle_id = entry.cycle_id
    withdraw(db, entry, member(db, team, 0))

    assert corrections.form_withdrawals(db, cycle_id + 1000) == {}
