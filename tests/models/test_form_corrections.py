"""Corrections with history of a team's tracking form: a saved form saved again is corrected, with the answers before
and after; a trainer changing what someone else saved gives a reason; after the end only a trainer, with a reason,
until certificates are requested; dates stay inside the program year. Synthetic data on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from models import corrections
from models.errors import InvalidInput
from models.forms import FormEntry, save_form
from models.people import Membership
from models.programs import end, request_certificates
from models.teams import Team
from tests.factories import ENDED_ON, NOW, TODAY, Course, running

ANSWERS = {"problem": "อ่านโจทย์ไม่เข้าใจ", "approaches": "ฝึกอ่าน", "plan": "สัปดาห์ละครั้ง", "lesson_date": "2026-07-01"}
CHANGED = {**ANSWERS, "problem": "อ่านโจทย์ปัญหาเศษส่วนไม่เข้าใจ"}


def member(db: Session, team: Team, index: int) -> Membership:
    found = db.get(Membership, team.member_ids[index])
    assert found is not None
    return found


def saved(db: Session, team: Team) -> FormEntry:
    return save_form(db, team, 1, "problem-reflection", ANSWERS, member(db, team, 0), TODAY)


def correct(
    db: Session, entry: FormEntry, by: Membership, answers: dict[str, str] = CHANGED, reason: str = ""
) -> corrections.RecordChange | None:
    return corrections.correct_form(db, entry, answers, changer=by, reason=reason, now=NOW)


def test_any_team_member_corrects_the_teams_form_without_a_reason_while_it_runs(db: Session, course: Course) -> None:
    _, team = running(db, course)
    entry = saved(db, team)

    change = correct(db, entry, member(db, team, 1))

    assert change is not None and change.reason == "" and change.kind == "form"
    assert change.before["problem"] == ANSWERS["problem"] and change.after == entry.answers
    assert change.changed_fields() == ["problem"] and entry.answers["problem"] == CHANGED["problem"]
    assert entry.updated_by_id == team.member_ids[1]


def test_an_unchanged_form_keeps_no_history(db: Session, course: Course) -> None:
    _, team = running(db, course)
    entry = saved(db, team)

    assert correct(db, entry, member(db, team, 0), ANSWERS) is None
    assert corrections.history(db, corrections.FORM, [entry.id]) == {}


def test_a_trainer_needs_a_reason_to_change_a_form_a_teacher_saved(db: Session, course: Course) -> None:
    _, team = running(db, course)
    entry = saved(db, team)

    with pytest.raises(InvalidInput) as refused:
        correct(db, entry, course.trainer, reason=" ")
    assert [p.code for p in refused.value.problems] == ["reason_required"]
    assert entry.answers["problem"] == ANSWERS["problem"]
    change = correct(db, entry, course.trainer, reason="ครูแจ้งว่าพิมพ์ผิด")
    assert change is not None and change.reason == "ครูแจ้งว่าพิมพ์ผิด"
    # the trainer saved it last: their own next change needs no reason while the program runs
    assert correct(db, entry, course.trainer, ANSWERS) is not None


def test_after_the_end_only_a_trainer_corrects_and_always_with_a_reason(db: Session, course: Course) -> None:
    program, team = running(db, course)
    entry = saved(db, team)
    end(program, ENDED_ON)

    with pytest.raises(corrections.TrainerOnlyAfterEnd):
        correct(db, entry, member(db, team, 0), reason="พิมพ์ผิด")
    with pytest.raises(InvalidInput):
        correct(db, entry, course.trainer)
    assert correct(db, entry, course.trainer, reason="ตรวจกับเอกสารแล้ว") is not None
    assert corrections.may_correct_forms(program, course.trainer)
    assert not corrections.may_correct_forms(program, member(db, team, 0))


def test_once_certificates_are_requested_a_form_is_no_longer_corrected(db: Session, course: Course) -> None:
    program, team = running(db, course)
    entry = saved(db, team)
    end(program, ENDED_ON)
    request_certificates(program, ENDED_ON)

    with pytest.raises(corrections.CorrectionClosed):
        correct(db, entry, course.trainer, reason="สาย")
    assert entry.answers["problem"] == ANSWERS["problem"] and not corrections.may_correct_forms(program, course.trainer)


def test_a_corrected_date_must_fall_inside_the_program_year(db: Session, course: Course) -> None:
    _, team = running(db, course)
    entry = saved(db, team)

    with pytest.raises(InvalidInput) as refused:
        correct(db, entry, member(db, team, 0), {**ANSWERS, "lesson_date": "2031-01-01", "plan": ""})
    assert {(p.field, p.code) for p in refused.value.problems} == {
        ("lesson_date", "outside_program_year"), ("plan", "required"),
    }  # fmt: skip
    assert entry.answers["lesson_date"] == ANSWERS["lesson_date"] and entry.answers["plan"] == ANSWERS["plan"]


def test_the_history_keeps_every_change_in_order(db: Session, course: Course) -> None:
    _, team = running(db, course)
    entry = saved(db, team)

    correct(db, entry, member(db, team, 0))
    correct(db, entry, course.trainer, ANSWERS, reason="กลับเป็นแบบเดิม")

    kept = corrections.history(db, corrections.FORM, [entry.id])[entry.id]
    assert [(c.changed_by_id, c.reason) for c in kept] == [
        (team.member_ids[0], ""),
        (course.trainer.id, "กลับเป็นแบบเดิม"),
    ]
    assert kept[1].before["problem"] == CHANGED["problem"] and kept[1].after == entry.answers
    assert entry.answers["problem"] == ANSWERS["problem"] and kept[1].changed_fields() == ["problem"]
