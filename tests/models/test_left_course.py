"""A teacher who left the course (models/roster.py marks them inactive with the time) and the counts that read it:
the certificates, the results report, the dashboard and the completions keep what they did but count them out when
they left before the program's last day. On SQLite and PostgreSQL; people and records are synthetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import certificates as certs
from models.completions import PROGRAM_LEVEL, Completion, record_completions, withdraw_completions
from models.dashboard_stats import ProgramStats, refresh_district
from models.facts import program_eligibility
from models.people import INACTIVE, Membership
from models.programs import Program
from models.results_report import results_report
from tests.factories import ENDED_ON, Course
from tests.models.test_certificates import completed
from tests.models.test_goal_met import placed

BEFORE_THE_END = datetime(2027, 2, 1, 3, 0, tzinfo=UTC)
AFTER_THE_END = datetime(2027, 4, 20, 3, 0, tzinfo=UTC)


def leaves(db: Session, program: Program, index: int, when: datetime) -> Membership:
    membership = db.get(Membership, program.teams[0].member_ids[index])
    assert membership is not None
    membership.status, membership.inactive_since = INACTIVE, when
    db.flush()
    return membership


def test_a_teacher_who_left_before_the_end_gets_no_certificate_and_the_others_do(db: Session, course: Course) -> None:
    program = completed(db, course)
    gone = leaves(db, program, 1, BEFORE_THE_END)

    issued = certs.issue_certificates(db, program, issued_by_id=course.trainer.id, today=ENDED_ON)

    holders = {i.certificate.membership_id for i in issued}
    assert gone.id not in holders and len(holders) == 2
    assert program_eligibility(db, program)[gone.id].total_hours == 30  # what they did is kept


def test_a_teacher_who_left_after_the_end_still_gets_their_certificate(db: Session, course: Course) -> None:
    program = completed(db, course)
    gone = leaves(db, program, 0, AFTER_THE_END)

    issued = certs.issue_certificates(db, program, issued_by_id=None, today=ENDED_ON)

    assert gone.id in {i.certificate.membership_id for i in issued}


def test_the_results_report_lists_who_left_but_not_among_the_eligible(db: Session, course: Course) -> None:
    program = completed(db, course)
    gone = leaves(db, program, 2, BEFORE_THE_END)

    report = results_report(db, program)

    assert gone.id in {m.eligibility.member_id for m in report.members}
    assert gone.id not in {m.eligibility.member_id for m in report.eligible}


def test_the_dashboard_counts_a_teacher_who_left_neither_as_a_teacher_nor_as_eligible(
    db: Session, course: Course
) -> None:
    program = completed(db, course)
    district, _reach = placed(db, program)
    refresh_district(db, district)
    before = db.scalars(select(ProgramStats).where(ProgramStats.program_id == program.id)).one()
    assert (before.teachers, before.teachers_eligible) == (3, 3)
    hours = before.teacher_hours
    leaves(db, program, 1, BEFORE_THE_END)

    refresh_district(db, district)
    after = db.scalars(select(ProgramStats).where(ProgramStats.program_id == program.id)).one()

    assert (after.teachers, after.teachers_eligible, after.teacher_hours) == (2, 2, hours)


def test_a_teacher_who_left_keeps_their_program_completion(db: Session, course: Course) -> None:
    program = completed(db, course)
    team = program.teams[0]
    record_completions(db, team, team.member_ids, BEFORE_THE_END - timedelta(days=1))
    gone = leaves(db, program, 1, BEFORE_THE_END)

    withdrawn = withdraw_completions(db, team, [gone.id])

    assert withdrawn == []
    kept = db.scalars(
        select(Completion).where(Completion.membership_id == gone.id, Completion.cycle_number == PROGRAM_LEVEL)
    ).all()
    assert len(kept) == 1
