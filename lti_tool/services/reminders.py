"""Time-based reminders, written by the scheduler (lti_tool/workers/reminders.py): each once per person, kind and
subject, whichever scheduler or run writes it first (the notice's unique once-key), and never in the quiet hours.

- To a Buddy: the lesson date of the cycle (the problem-reflection form's "lesson_date") has passed and their
  observation of it is missing.
- To a team's members, once a week: the elements of their current cycle not recorded yet.
- To trainers, daily from 07:30 Thai time: reflections waiting for a grade and programs near a deadline.
- To trainers and the teams: the program year (from the Council's approval) ends in 30 days, and in 7.
- To trainers: the Council's 30 days for the certificates end in 10 days, and in 3.

A scheduler that was down on the day writes the reminder of the nearest threshold when it is back (day 25 of the 30
gives the 30-day reminder; day 5 gives only the 7-day one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from lti_tool.services.notices import notify
from models.calendar import THAI_TIME, program_day
from models.catalog import elements
from models.cycles import Cycle, ElementSession
from models.forms import FormEntry
from models.notices import Kind, Target, in_quiet_hours
from models.observations import Observation
from models.people import ACTIVE, Membership
from models.plan import PlcRole
from models.programs import Program
from models.reflections import Grade, Reflection
from models.roles import AppRole
from models.states import ProgramState
from models.teams import CycleAssignment, Team
from models.windows import certificate_window, program_year

DIGEST_AT = time(7, 30)
YEAR_THRESHOLDS = (30, 7)
CERTIFICATE_THRESHOLDS = (10, 3)
PROBLEM_FORM = "problem-reflection"
LESSON_DATE = "lesson_date"


# One reminders run at a time on PostgreSQL (a transaction-scoped advisory lock): a second scheduler skips its run
# instead of writing the same notices in another order and waiting on the first one's locks.
RUN_LOCK = 0x504C_4352  # "PLCR"


@dataclass
class ReminderReport:
    written: int = 0
    skipped_quiet: bool = False
    busy: bool = False  # another scheduler's run was under way: this one wrote nothing

    @property
    def handled(self) -> int:
        return self.written

    def summary(self) -> str:
        if self.busy:
            return "reminders: another scheduler's run is under way"
        return "reminders: quiet hours" if self.skipped_quiet else f"reminders: wrote {self.written}"


def threshold(days_left: int, thresholds: tuple[int, ...]) -> int | None:
    """The smallest threshold not below `days_left` (30 for 25 days left, 7 for 5), None outside them all."""
    if days_left < 0:
        return None
    fitting = [t for t in thresholds if days_left <= t]
    return min(fitting) if fitting else None


def _trainers(db: Session, context_id: int) -> list[Membership]:
    return list(
        db.scalars(
            select(Membership).where(
                Membership.context_id == context_id,
                Membership.app_role == AppRole.TRAINER.value,
                Membership.status == ACTIVE,
            )
        )
    )


def _members(db: Session, program: Program) -> list[Membership]:
    ids = {member_id for team in program.teams for member_id in team.member_ids}
    return (
        list(db.scalars(select(Membership).where(Membership.id.in_(ids), Membership.status == ACTIVE))) if ids else []
    )


class _Writer:
    def __init__(self, db: Session, now: datetime) -> None:
        self.db, self.now, self.written = db, now, 0

    def __call__(self, member: Membership, kind: Kind, params: dict[str, Any], target: Target, subject: str) -> None:
        if member.status != ACTIVE or member.person.erased_at is not None:
            return  # left the course, or erased (whose once-keys went with their notices): nothing more to them
        key = f"{kind.value}:{member.id}:{subject}"
        if notify(self.db, member, kind, params, target, once_key=key, now=self.now) is not None:
            self.written += 1


def write_due_reminders(db: Session, now: datetime) -> ReminderReport:
    """Write every reminder due at `now` that was not written before, in the caller's transaction."""
    report = ReminderReport()
    if in_quiet_hours(now):
        report.skipped_quiet = True
        return report
    if db.get_bind().dialect.name == "postgresql" and not db.scalar(select(func.pg_try_advisory_xact_lock(RUN_LOCK))):
        report.busy = True
        return report
    write = _Writer(db, now)
    today = program_day(now)
    programs = db.scalars(
        select(Program)
        .where(
            Program.state.in_(
                [ProgramState.APPROVED, ProgramState.RUNNING, ProgramState.ENDED, ProgramState.CERTIFICATES_REQUESTED]
            )
        )
        .order_by(Program.id)  # the same order in every run: two writers never wait on each other crosswise
    ).all()
    digest: dict[int, dict[str, int]] = {}  # trainer membership id → counts for their daily digest
    for program in programs:
        trainers = _trainers(db, program.context_id)
        near = _deadlines(db, program, today, trainers, write)
        if program.state is ProgramState.RUNNING:
            _missing_observations(db, program, today, write)
            _elements_not_recorded(db, program, today, write)
        waiting = _waiting_for_grade(db, program)
        for trainer in trainers:
            counts = digest.setdefault(trainer.id, {"waiting": 0, "near": 0})
            counts["waiting"] += waiting
            counts["near"] += int(near)
    if now.astimezone(THAI_TIME).time() >= DIGEST_AT:
        for trainer_id, counts in digest.items():
            found = db.get(Membership, trainer_id)
            if found is not None and (counts["waiting"] or counts["near"]):
                write(found, Kind.TRAINER_DIGEST, counts, Target("home.landing"), today.isoformat())
    report.written = write.written
    return report


def _deadlines(db: Session, program: Program, today: date, trainers: list[Membership], write: _Writer) -> bool:
    """The year's and the certificates' reminders of the program; True when one of its deadlines is near."""
    near = False
    year = program_year(program, today)
    if year is not None and program.state in (ProgramState.APPROVED, ProgramState.RUNNING):
        mark = threshold(year.days_left, YEAR_THRESHOLDS)
        if mark is not None:
            near = True
            params = {"program": program.name, "days": year.days_left, "last_day": year.last_day.isoformat()}
            for member in [*trainers, *_members(db, program)]:
                write(member, Kind.YEAR_ENDING, params, Target("program.show"), f"{program.id}:{mark}")
    window = certificate_window(program, today)
    if window is not None and program.state is ProgramState.ENDED:
        mark = threshold(window.days_left, CERTIFICATE_THRESHOLDS)
        if mark is not None:
            near = True
            params = {"program": program.name, "days": window.days_left, "last_day": window.last_day.isoformat()}
            for trainer in trainers:
                write(trainer, Kind.CERTIFICATE_WINDOW_ENDING, params, Target("certificates.list_certificates"),
                      f"{program.id}:{mark}")  # fmt: skip
    return near


def _missing_observations(db: Session, program: Program, today: date, write: _Writer) -> None:
    rows = db.execute(
        select(Cycle, FormEntry.answers)
        .join(Team, Team.id == Cycle.team_id)
        .join(FormEntry, (FormEntry.cycle_id == Cycle.id) & (FormEntry.form == PROBLEM_FORM))
        .where(Team.program_id == program.id)
    ).all()
    for cycle, answers in rows:
        try:
            lesson_on = date.fromisoformat(str((answers or {}).get(LESSON_DATE, "")).strip())
        except ValueError:
            continue
        if lesson_on >= today:
            continue
        buddies = db.scalars(
            select(CycleAssignment.membership_id).where(
                CycleAssignment.team_id == cycle.team_id,
                CycleAssignment.cycle_number == cycle.number,
                CycleAssignment.role == PlcRole.BUDDY,
                ~exists().where(
                    Observation.cycle_id == cycle.id,
                    Observation.buddy_id == CycleAssignment.membership_id,
                    Observation.withdrawn_at.is_(None),
                ),
            )
        ).all()
        for buddy_id in buddies:
            buddy = db.get(Membership, buddy_id)
            if buddy is not None:
                params = {"cycle": cycle.number, "lesson_date": lesson_on.isoformat()}
                target = Target("observations.form", {"number": cycle.number})
                write(buddy, Kind.OBSERVATION_MISSING, params, target, str(cycle.id))


def _elements_not_recorded(db: Session, program: Program, today: date, write: _Writer) -> None:
    """Once a week (ISO week) to each member: how many elements of their team's latest cycle are not recorded."""
    week = "{}-W{:02d}".format(*today.isocalendar()[:2])
    every = {element.number for element in elements()}
    for team in program.teams:
        cycle = max(team.cycles, key=lambda c: c.number, default=None)
        if cycle is None:
            continue
        recorded = set(
            db.scalars(
                select(ElementSession.element).where(
                    ElementSession.cycle_id == cycle.id, ElementSession.withdrawn_at.is_(None)
                )
            )
        )
        missing = len(every - recorded)
        if not missing:
            continue
        for member in _members_of(db, team):
            params = {"cycle": cycle.number, "count": missing}
            write(member, Kind.ELEMENTS_NOT_RECORDED, params, Target("home.landing"), f"{cycle.id}:{week}")


def _members_of(db: Session, team: Team) -> list[Membership]:
    ids = team.member_ids
    return (
        list(db.scalars(select(Membership).where(Membership.id.in_(ids), Membership.status == ACTIVE))) if ids else []
    )


def _waiting_for_grade(db: Session, program: Program) -> int:
    query = (
        select(func.count())
        .select_from(Reflection)
        .join(Cycle, Cycle.id == Reflection.cycle_id)
        .join(Team, Team.id == Cycle.team_id)
        .where(Team.program_id == program.id, ~exists().where(Grade.reflection_id == Reflection.id))
    )
    return int(db.scalar(query) or 0)
