"""Corrections with history of a Buddy observation: who may correct or withdraw it and when, the reason the rules ask
for, the lock of the Buddy's issued certificate, the kept history, and eligibility and completions following a
withdrawal. Synthetic data (tests/factories.py) on SQLite and PostgreSQL; every test is rolled back."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.orm import Session

from models import certificates as certs
from models import corrections
from models.completions import PROGRAM_LEVEL, record_completions, withdraw_completions
from models.errors import InvalidInput
from models.facts import program_eligibility
from models.observations import Observation, ObservationForm, observations_for, submit_observation
from models.people import Membership
from models.plan import team_plan
from models.programs import end, request_certificates
from models.results_report import results_report
from models.teams import Team
from tests.factories import ENDED_ON, FORM, NOW, Course, running
from tests.models.test_corrections import completed

CORRECTED = replace(
    FORM, lesson="เศษส่วน ป.4/3: แบ่งพิซซ่า (synthetic)", student_notes=[{"student": "ด.ช. ก", "note": "ตอบได้"}]
)


def observed(db: Session, team: Team, cycle: int = 1) -> tuple[Observation, Membership, Membership]:
    """The first Buddy's observation of the cycle, the Buddy and the Model Teacher."""
    model_id, buddy_ids = team_plan(team)[cycle]
    assert model_id is not None
    observation = submit_observation(db, team, cycle, buddy_ids[0], FORM, NOW)
    buddy, model = db.get(Membership, buddy_ids[0]), db.get(Membership, model_id)
    assert buddy is not None and model is not None
    return observation, buddy, model


def correct(
    db: Session, observation: Observation, by: Membership, values: ObservationForm = CORRECTED, reason: str = ""
) -> corrections.ObservationChanged:
    return corrections.correct_observation(db, observation, values, changer=by, reason=reason, now=NOW)


def withdraw(db: Session, observation: Observation, by: Membership, reason: str = "") -> corrections.ObservationChanged:
    return corrections.withdraw_observation(db, observation, changer=by, reason=reason, now=NOW)


# --- who may correct, and when -------------------------------------------------------------------------------------


def test_the_buddy_corrects_every_field_without_a_reason_while_the_program_runs(db: Session, course: Course) -> None:
    _, team = running(db, course)
    observation, buddy, _ = observed(db, team)
    every = ObservationForm("บทเรียนใหม่", "ทำใหม่", "เรียนรู้ใหม่", "หลักฐานใหม่", [{"student": "ก", "note": "ข"}], "ใหม่")

    changed = correct(db, observation, buddy, every)

    assert corrections.observation_values(observation) == every
    assert changed.change is not None and changed.change.reason == "" and changed.change.action == "corrected"
    assert changed.change.before == corrections.observation_json(FORM)
    assert changed.change.after == corrections.observation_json(every)
    assert set(changed.change.changed_fields()) == {
        "lesson", "students_did", "students_learned", "evidence", "student_notes", "suggestions",
    }  # fmt: skip
    assert changed.affected_member_ids == {observation.buddy_id, observation.model_id}


def test_the_model_teacher_and_another_teacher_may_not_correct_or_withdraw_it(db: Session, course: Course) -> None:
    _, team = running(db, course)
    observation, _, model = observed(db, team)
    other_id = next(m for m in team.member_ids if m not in (observation.buddy_id, observation.model_id))
    other = db.get(Membership, other_id)
    assert other is not None

    for who in (model, other):
        with pytest.raises(corrections.NotYourRecord):
            correct(db, observation, who, reason="แก้")
        with pytest.raises(corrections.NotYourRecord):
            withdraw(db, observation, who, reason="แก้")
        assert not corrections.may_change(team.program, observation.buddy_id, who)
    assert observation.lesson == FORM.lesson and observation.withdrawn_at is None
    assert corrections.history(db, corrections.OBSERVATION, [observation.id]) == {}


def test_a_trainer_needs_a_reason_to_change_a_buddys_observation(db: Session, course: Course) -> None:
    _, team = running(db, course)
    observation, _, _ = observed(db, team)

    with pytest.raises(InvalidInput) as refused:
        correct(db, observation, course.trainer, reason="  ")
    assert [p.code for p in refused.value.problems] == ["reason_required"]
    with pytest.raises(InvalidInput):
        withdraw(db, observation, course.trainer)
    correct(db, observation, course.trainer, reason="ครูแจ้งว่าพิมพ์ห้องผิด")
    assert observation.lesson == CORRECTED.lesson


def test_after_the_end_only_a_trainer_corrects_and_always_with_a_reason(db: Session, course: Course) -> None:
    program, team = running(db, course)
    observation, buddy, _ = observed(db, team)
    end(program, ENDED_ON)

    with pytest.raises(corrections.TrainerOnlyAfterEnd):
        correct(db, observation, buddy, reason="พิมพ์ผิด")
    with pytest.raises(InvalidInput):
        correct(db, observation, course.trainer)
    correct(db, observation, course.trainer, reason="ตรวจกับบันทึกจริงแล้ว")
    assert observation.lesson == CORRECTED.lesson
    assert not corrections.may_change(program, observation.buddy_id, buddy)
    assert corrections.may_change(program, observation.buddy_id, course.trainer)


def test_once_certificates_are_requested_nothing_is_corrected(db: Session, course: Course) -> None:
    program, team = running(db, course)
    observation, _, _ = observed(db, team)
    end(program, ENDED_ON)
    request_certificates(program, ENDED_ON)

    with pytest.raises(corrections.CorrectionClosed):
        correct(db, observation, course.trainer, reason="สาย")
    with pytest.raises(corrections.CorrectionClosed):
        withdraw(db, observation, course.trainer, reason="สาย")
    assert observation.lesson == FORM.lesson and observation.withdrawn_at is None


def test_a_correction_is_checked_like_a_new_observation(db: Session, course: Course) -> None:
    _, team = running(db, course)
    observation, buddy, _ = observed(db, team)

    with pytest.raises(InvalidInput) as refused:
        correct(db, observation, buddy, replace(FORM, lesson="", students_did="ก" * 10_001))
    assert {p.field for p in refused.value.problems} == {"lesson", "students_did"}
    assert observation.lesson == FORM.lesson


def test_an_unchanged_correction_keeps_no_history(db: Session, course: Course) -> None:
    _, team = running(db, course)
    observation, buddy, _ = observed(db, team)

    changed = correct(db, observation, buddy, FORM)

    assert changed.change is None and changed.voided_statement_ids == []
    assert corrections.history(db, corrections.OBSERVATION, [observation.id]) == {}


def test_corrections_are_kept_in_order_and_apart_from_sessions(db: Session, course: Course) -> None:
    _, team = running(db, course)
    observation, buddy, _ = observed(db, team)
    observation.statement_id = "11111111-1111-4111-8111-111111111111"

    first = correct(db, observation, buddy)
    second = correct(db, observation, course.trainer, FORM, reason="กลับเป็นแบบเดิม")

    assert first.voided_statement_ids == ["11111111-1111-4111-8111-111111111111"]
    kept = corrections.history(db, corrections.OBSERVATION, [observation.id])[observation.id]
    assert [(c.changed_by_id, c.reason) for c in kept] == [(buddy.id, ""), (course.trainer.id, "กลับเป็นแบบเดิม")]
    assert kept[1].after == corrections.observation_json(FORM) and second.change is kept[1]
    assert corrections.history(db, corrections.SESSION, [observation.id]) == {}


# --- the certificate lock ------------------------------------------------------------------------------------------


def test_the_buddys_issued_certificate_locks_their_observations_until_it_is_revoked(
    db: Session, course: Course
) -> None:
    program = completed(db, course)
    team = program.teams[0]
    model_id, buddy_ids = team_plan(team)[1]
    observation = next(o for o in observations_for(db, course.scope, course.trainer)
                       if o.buddy_id == buddy_ids[0] and o.cycle.number == 1)  # fmt: skip
    issued = certs.issue_certificates(db, program, issued_by_id=course.trainer.id, today=ENDED_ON,
                                      member_ids=[buddy_ids[0]])  # fmt: skip

    with pytest.raises(corrections.RecordLocked):
        correct(db, observation, course.trainer, reason="ตรวจใหม่")
    with pytest.raises(corrections.RecordLocked):
        withdraw(db, observation, course.trainer, reason="ซ้ำ")

    certs.revoke(issued[0].certificate, revoked_by_id=course.trainer.id, reason="ต้องแก้บันทึก", now=NOW)
    correct(db, observation, course.trainer, reason="ตรวจใหม่")
    assert observation.lesson == CORRECTED.lesson


def test_the_model_teachers_certificate_does_not_lock_the_buddys_observation(db: Session, course: Course) -> None:
    program = completed(db, course)
    team = program.teams[0]
    model_id, buddy_ids = team_plan(team)[1]
    observation = next(o for o in observations_for(db, course.scope, course.trainer)
                       if o.buddy_id == buddy_ids[0] and o.cycle.number == 1)  # fmt: skip
    assert model_id is not None and model_id != buddy_ids[0]
    certs.issue_certificates(db, program, issued_by_id=None, today=ENDED_ON, member_ids=[model_id])

    correct(db, observation, course.trainer, reason="ตรวจใหม่")
    assert observation.lesson == CORRECTED.lesson


# --- a withdrawn observation counts nowhere; completions follow ------------------------------------------------------


def test_a_withdrawn_observation_counts_nowhere_and_completions_follow(db: Session, course: Course) -> None:
    program = completed(db, course)
    team = program.teams[0]
    buddy_id = team.member_ids[0]
    ids = team.member_ids
    record_completions(db, team, ids, NOW)
    assert program_eligibility(db, program)[buddy_id].eligible
    mine = [o for o in observations_for(db, course.scope, course.trainer) if o.buddy_id == buddy_id]
    assert mine  # the rotation makes every teacher a Buddy in some cycle
    buddy_name = db.get(Membership, buddy_id).person.name  # type: ignore[union-attr]
    summaries = [o for t in results_report(db, program).teams for c in t.cycles for o in c.observations]
    assert any(o.buddy == buddy_name for o in summaries)

    for observation in mine:
        changed = withdraw(db, observation, course.trainer, reason="บันทึกซ้ำกับของเพื่อน")
        assert changed.change is not None and changed.change.after is None and observation.withdrawn_at == NOW

    assert not program_eligibility(db, program)[buddy_id].eligible
    gone = withdraw_completions(db, team, ids)
    assert [(e.membership_id, e.cycle_number) for e, _ in gone] == [(buddy_id, PROGRAM_LEVEL)]
    assert all(o.buddy_id != buddy_id for o in observations_for(db, course.scope, course.trainer))
    summaries = [o for t in results_report(db, program).teams for c in t.cycles for o in c.observations]
    assert summaries and all(o.buddy != buddy_name for o in summaries)
    with pytest.raises(corrections.CorrectionClosed):
        withdraw(db, mine[0], course.trainer, reason="อีกครั้ง")
    with pytest.raises(corrections.CorrectionClosed):
        correct(db, mine[0], course.trainer, reason="อีกครั้ง")


def test_submitting_again_brings_a_withdrawn_observation_back_and_its_completion_is_recorded_once(
    db: Session, course: Course
) -> None:
    _, team = running(db, course)
    observation, buddy, _ = observed(db, team)
    withdraw(db, observation, buddy)

    again = submit_observation(db, team, 1, buddy.id, FORM, NOW)

    assert again.id == observation.id and again.withdrawn_at is None
    assert observations_for(db, course.scope, course.trainer) == [again]
