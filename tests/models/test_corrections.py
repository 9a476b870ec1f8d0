"""Corrections with history: who may correct or withdraw an element session and when, the reason the rules ask for,
the lock of an issued certificate, the kept history, and every reader following the corrected record. Synthetic data
(tests/factories.py) on SQLite and PostgreSQL; every test is rolled back."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import certificates as certs
from models import corrections
from models.completions import Completion, record_completions, withdraw_completions
from models.corrections import SessionValues
from models.cycles import ELEMENT_NUMBERS, ElementSession, PossibleDuplicate, SessionAttendance
from models.errors import InvalidInput
from models.facts import program_eligibility
from models.logbook import logbook
from models.observations import submit_observation
from models.people import Membership
from models.plan import team_plan
from models.programs import Program, end, request_certificates
from models.reflections import submit_reflection
from models.results_report import results_report
from models.states import ProgramState
from models.teams import Team
from tests.factories import ENDED_ON, FORM, NOW, TODAY, Course, program_in, record, running


def values(session: ElementSession, **changes: object) -> SessionValues:
    fields = SessionValues.of(session).__dict__ | changes
    return SessionValues(**fields)  # type: ignore[arg-type]


def correct(
    db: Session, session: ElementSession, by: Membership, reason: str = "", **changes: object
) -> corrections.SessionChanged:
    return corrections.correct_session(
        db, session, values(session, **changes), changer=by, reason=reason, today=TODAY, now=NOW
    )


def member(db: Session, team: Team, index: int) -> Membership:
    found = db.get(Membership, team.member_ids[index])
    assert found is not None
    return found


# --- who may correct, and when ---------------------------------------------------------------------------------


def test_the_recorder_corrects_every_field_without_a_reason_while_the_program_runs(db: Session, course: Course) -> None:
    _, team = running(db, course)
    session = record(db, team, 1, hours=Decimal("2")).session
    recorder = member(db, team, 0)

    changed = correct(
        db, session, recorder, hours=Decimal("1.5"), element=2, held_on=TODAY - timedelta(days=1),
        attendee_ids=frozenset(team.member_ids[:2]), notes="แก้ไข",
    )  # fmt: skip

    assert (session.hours, session.element, session.held_on) == (Decimal("1.5"), 2, TODAY - timedelta(days=1))
    assert session.attendee_ids == frozenset(team.member_ids[:2]) and session.notes == "แก้ไข"
    assert changed.change is not None and changed.change.reason == ""
    assert changed.change.before["hours"] == "2.00" and changed.change.after == {
        "cycle": 1, "element": 2, "held_on": (TODAY - timedelta(days=1)).isoformat(), "hours": "1.50",
        "attendee_ids": sorted(team.member_ids[:2]), "notes": "แก้ไข",
    }  # fmt: skip
    assert set(changed.change.changed_fields()) == {"element", "held_on", "hours", "attendee_ids", "notes"}


def test_a_correction_moves_the_session_to_another_cycle(db: Session, course: Course) -> None:
    _, team = running(db, course)
    session = record(db, team, 1).session

    correct(db, session, member(db, team, 0), cycle_number=2)

    assert session.cycle.number == 2
    assert [s.id for c in team.cycles for s in c.sessions if c.number == 2] == [session.id]
    assert [s.id for c in team.cycles for s in c.sessions if c.number == 1] == []


def test_another_team_member_may_not_correct_what_someone_else_recorded(db: Session, course: Course) -> None:
    _, team = running(db, course)
    session = record(db, team, 1).session

    with pytest.raises(corrections.NotYourRecord):
        correct(db, session, member(db, team, 1), hours=Decimal(1))
    with pytest.raises(corrections.NotYourRecord):
        corrections.withdraw_session(db, session, changer=member(db, team, 1), reason="ซ้ำ", now=NOW)
    assert session.hours == Decimal(2) and session.withdrawn_at is None


def test_a_trainer_needs_a_reason_to_change_someone_elses_record(db: Session, course: Course) -> None:
    _, team = running(db, course)
    session = record(db, team, 1).session

    with pytest.raises(InvalidInput) as refused:
        correct(db, session, course.trainer, hours=Decimal(1), reason="   ")
    assert [p.code for p in refused.value.problems] == ["reason_required"]
    correct(db, session, course.trainer, hours=Decimal(1), reason="ครูแจ้งว่าพิมพ์ผิด")
    assert session.hours == Decimal(1)


def test_after_the_end_only_a_trainer_corrects_and_always_with_a_reason(db: Session, course: Course) -> None:
    program, team = running(db, course)
    session = record(db, team, 1).session
    end(program, ENDED_ON)

    with pytest.raises(corrections.TrainerOnlyAfterEnd):
        correct(db, session, member(db, team, 0), hours=Decimal(1), reason="พิมพ์ผิด")
    with pytest.raises(InvalidInput):
        correct(db, session, course.trainer, hours=Decimal(1))
    correct(db, session, course.trainer, hours=Decimal(1), reason="ตรวจกับใบลงชื่อแล้ว")
    assert session.hours == Decimal(1)
    assert not corrections.may_change(program, session.created_by_id, member(db, team, 0))
    assert corrections.may_change(program, session.created_by_id, course.trainer)


def test_once_certificates_are_requested_nothing_is_corrected(db: Session, course: Course) -> None:
    program, team = running(db, course)
    session = record(db, team, 1).session
    end(program, ENDED_ON)
    request_certificates(program, ENDED_ON)

    with pytest.raises(corrections.CorrectionClosed):
        correct(db, session, course.trainer, hours=Decimal(1), reason="สาย")
    with pytest.raises(corrections.CorrectionClosed):
        corrections.withdraw_session(db, session, changer=course.trainer, reason="สาย", now=NOW)
    assert not corrections.may_change(program, session.created_by_id, course.trainer)


def test_a_corrected_session_is_checked_like_a_new_one(db: Session, course: Course) -> None:
    _, team = running(db, course)
    session = record(db, team, 1).session

    with pytest.raises(InvalidInput) as refused:
        correct(db, session, member(db, team, 0), hours=Decimal(30), held_on=TODAY + timedelta(days=1),
                attendee_ids=frozenset())  # fmt: skip
    assert {p.field for p in refused.value.problems} == {"hours", "held_on", "attendees"}
    assert session.hours == Decimal(2)


def test_an_unchanged_correction_keeps_no_history(db: Session, course: Course) -> None:
    _, team = running(db, course)
    session = record(db, team, 1).session

    changed = correct(db, session, member(db, team, 0))

    assert changed.change is None
    assert corrections.history(db, corrections.SESSION, [session.id]) == {}


# --- the certificate lock ---------------------------------------------------------------------------------------


def completed(db: Session, course: Course) -> Program:
    program = program_in(db, course, ProgramState.RUNNING)
    team = program.teams[0]
    for cycle in (1, 2, 3):
        for element in ELEMENT_NUMBERS:
            record(db, team, element, cycle=cycle)
        for buddy in team_plan(team)[cycle][1]:
            submit_observation(db, team, cycle, buddy, FORM, NOW)
        for teacher in team.member_ids:
            submit_reflection(db, team, cycle, teacher, f"สะท้อนผลวงรอบ {cycle}", NOW)
    end(program, ENDED_ON)
    return program


def test_a_record_an_issued_certificate_rests_on_is_locked_until_it_is_revoked(db: Session, course: Course) -> None:
    program = completed(db, course)
    team = program.teams[0]
    session = team.cycles[0].sessions[0]
    issued = certs.issue_certificates(db, program, issued_by_id=course.trainer.id, today=ENDED_ON,
                                      member_ids=[team.member_ids[0]])  # fmt: skip

    with pytest.raises(corrections.RecordLocked) as refused:
        correct(db, session, course.trainer, hours=Decimal(1), reason="ตรวจใหม่")
    assert refused.value.params["holders"] == issued[0].certificate.holder_name
    with pytest.raises(corrections.RecordLocked):
        corrections.withdraw_session(db, session, changer=course.trainer, reason="ซ้ำ", now=NOW)

    certs.revoke(issued[0].certificate, revoked_by_id=course.trainer.id, reason="ต้องแก้ชั่วโมง", now=NOW)
    correct(db, session, course.trainer, hours=Decimal(1), reason="ตรวจใหม่")
    assert session.hours == Decimal(1)


def test_a_session_nobody_with_a_certificate_attended_is_not_locked(db: Session, course: Course) -> None:
    program = completed(db, course)
    team = program.teams[0]
    certs.issue_certificates(db, program, issued_by_id=None, today=ENDED_ON, member_ids=[team.member_ids[0]])
    session = record_in_ended(db, team)

    correct(db, session, course.trainer, hours=Decimal(1), reason="ตรวจใหม่")
    assert session.hours == Decimal(1)


def record_in_ended(db: Session, team: Team) -> ElementSession:
    """A session the other two attended, added directly (the program has ended)."""
    session = ElementSession(element=1, held_on=TODAY, hours=Decimal(2), created_by_id=team.member_ids[1])
    session.attendance = [SessionAttendance(membership_id=m) for m in team.member_ids[1:]]
    team.cycles[0].sessions.append(session)
    db.flush()
    return session


# --- withdrawal, history and the readers ---------------------------------------------------------------------------


def test_a_withdrawn_session_counts_nowhere_and_keeps_its_history(db: Session, course: Course) -> None:
    program = completed(db, course)
    program.state = ProgramState.RUNNING  # back to running to withdraw as the recorder
    team = program.teams[0]
    teacher = member(db, team, 0)
    before = logbook(db, program, teacher).total_hours
    assert program_eligibility(db, program)[teacher.id].eligible
    session = next(s for s in team.cycles[0].sessions if s.element == 3)

    changed = corrections.withdraw_session(db, session, changer=teacher, reason="บันทึกซ้ำ", now=NOW)

    assert session.withdrawn_at is not None and changed.change is not None
    assert changed.change.action == "withdrawn" and changed.change.after is None
    assert logbook(db, program, teacher).total_hours == before - Decimal(2)
    facts = program_eligibility(db, program)[teacher.id]
    assert not facts.eligible and 3 not in facts.cycles[0].elements_attended
    assert session.id not in {s.id for c in team.cycles for s in c.sessions}
    report = results_report(db, program)
    assert report.teams[0].cycles[0].sessions == len(ELEMENT_NUMBERS) - 1
    assert [c.action for c in corrections.history(db, corrections.SESSION, [session.id])[session.id]] == ["withdrawn"]


def test_corrections_are_kept_in_order_with_who_when_and_why(db: Session, course: Course) -> None:
    _, team = running(db, course)
    session = record(db, team, 1).session
    correct(db, session, member(db, team, 0), hours=Decimal(3))
    correct(db, session, course.trainer, hours=Decimal(4), reason="ตามใบลงเวลา")

    kept = corrections.history(db, corrections.SESSION, [session.id])[session.id]

    assert [(c.before["hours"], c.after and c.after["hours"]) for c in kept] == [("2.00", "3.00"), ("3.00", "4.00")]
    assert [c.changed_by_id for c in kept] == [team.member_ids[0], course.trainer.id]
    assert [c.reason for c in kept] == ["", "ตามใบลงเวลา"]


def test_logbook_and_eligibility_follow_the_corrected_hours_at_once(db: Session, course: Course) -> None:
    program, team = running(db, course)
    session = record(db, team, 1, hours=Decimal(2)).session
    teacher = member(db, team, 0)

    correct(db, session, teacher, hours=Decimal("3.5"))

    assert logbook(db, program, teacher).total_hours == Decimal("3.5")
    assert program_eligibility(db, program)[teacher.id].total_hours == Decimal("3.5")


# --- completions follow corrections ---------------------------------------------------------------------------------


def test_a_completion_that_no_longer_holds_is_withdrawn_and_one_that_holds_again_is_recorded_once(
    db: Session, course: Course
) -> None:
    _, team = running(db, course)
    session = record(db, team, 1).session
    ids = team.member_ids
    assert {(e.cycle_number, e.element) for e in record_completions(db, team, ids, NOW)} == {(1, 1)}
    dropped = ids[2]

    correct(db, session, member(db, team, 0), attendee_ids=frozenset(ids[:2]))
    gone = withdraw_completions(db, team, ids)

    assert [(e.membership_id, e.element) for e, _ in gone] == [(dropped, 1)]
    assert withdraw_completions(db, team, ids) == []
    correct(db, session, member(db, team, 0), attendee_ids=frozenset(ids))
    assert [(e.membership_id, e.element) for e in record_completions(db, team, ids, NOW)] == [(dropped, 1)]
    assert record_completions(db, team, ids, NOW) == []
    assert len(db.scalars(select(Completion).where(Completion.program_id == team.program_id)).all()) == 3


# --- duplicates ----------------------------------------------------------------------------------------------------


def test_a_session_like_a_live_one_is_caught_and_can_still_be_recorded_on_purpose(db: Session, course: Course) -> None:
    _, team = running(db, course)
    first = record(db, team, 1).session

    with pytest.raises(PossibleDuplicate) as caught:
        record(db, team, 1, check_duplicates=True)
    assert [s.id for s in caught.value.existing] == [first.id]
    second = record(db, team, 1, check_duplicates=True, held_on=TODAY - timedelta(days=1)).session
    anyway = record(db, team, 1).session  # "record anyway": the same values without the check
    assert len({first.id, second.id, anyway.id}) == 3


def test_a_withdrawn_session_is_no_duplicate(db: Session, course: Course) -> None:
    _, team = running(db, course)
    first = record(db, team, 1).session
    corrections.withdraw_session(db, first, changer=member(db, team, 0), reason="", now=NOW)

    again = record(db, team, 1, check_duplicates=True).session

    assert again.id != first.id


def test_other_teams_or_elements_are_no_duplicates(db: Session, course: Course) -> None:
    _, team = running(db, course)
    record(db, team, 1)

    record(db, team, 2, check_duplicates=True)
    record(db, team, 1, cycle=2, check_duplicates=True)
