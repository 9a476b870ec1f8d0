"""Corrections with history: who may correct or withdraw a team's record, when, with what reason, and the kept
history of every change (who, when, the values before and after, the reason).

While the program runs, whoever recorded an item and the course's trainers may correct or withdraw it. After the
program ends, only a trainer may, with a reason, until certificates are requested. A reason is needed as well when a
trainer changes someone else's record. A record that an issued certificate rests on is locked: the certificate says
what it certified, so the certificate is revoked first.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow
from models.calendar import last_day_of_program
from models.certificates import Certificate
from models.cycles import Cycle, ElementSession, SessionAttendance, session_problems
from models.errors import InvalidInput, Problem, ProgramError
from models.forms import OBSERVATION_FORM, FormEntry, answer_problems, form_templates
from models.observations import Observation, ObservationForm
from models.people import Membership
from models.programs import Program
from models.roles import AppRole
from models.states import ProgramState

MAX_REASON_CHARS = 1000
CORRECTABLE = frozenset({ProgramState.RUNNING, ProgramState.ENDED})


class NotYourRecord(ProgramError):
    """Only the person who recorded an item, and the course's trainers, may correct or withdraw it."""

    code = "not_your_record"

    def __init__(self, membership_id: int) -> None:
        super().__init__(f"membership {membership_id} neither recorded this item nor trains the course")


class CorrectionClosed(ProgramError):
    """Records are corrected while the program runs, and by a trainer after it ends until certificates are
    requested; after that (or for a cancelled program) they stand as they are."""

    code = "correction_closed"

    def __init__(self, state: ProgramState) -> None:
        super().__init__(f"a {state} program's records can no longer be corrected", state=state)


class TrainerOnlyAfterEnd(ProgramError):
    """Once the program has ended, only a trainer corrects its records."""

    code = "trainer_only_after_end"

    def __init__(self) -> None:
        super().__init__("after the program ends only a trainer may correct its records")


class RecordLocked(ProgramError):
    """An issued certificate rests on this record: the certificate is revoked first, then the record corrected."""

    code = "record_locked"

    def __init__(self, holders: list[str]) -> None:
        super().__init__(
            f"issued certificates rest on this record ({', '.join(holders)}); revoke them first",
            holders=", ".join(holders),
        )


class RecordChange(Base):
    """One correction or withdrawal of a team's record; `before`/`after` are the values as JSON (after is None for a
    withdrawal)."""

    __tablename__ = "plc_record_changes"
    __table_args__ = (Index("ix_plc_record_changes_kind_record_id", "kind", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("plc_programs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # "session", "observation", "form"
    record_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(16))  # "corrected" or "withdrawn"
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")

    def changed_fields(self) -> list[str]:
        """The names of the values that differ (all of them for a withdrawal)."""
        after = self.after or {}
        return [name for name in self.before if self.before.get(name) != after.get(name)]


def reason_problems(program: Program, recorded_by_id: int, changer: Membership, reason: str) -> list[Problem]:
    """A reason is required for a trainer changing someone else's record and for anything after the end."""
    text = reason.strip()
    needed = program.state is not ProgramState.RUNNING or changer.id != recorded_by_id
    if needed and not text:
        return [Problem("reason", "reason_required", {})]
    if len(text) > MAX_REASON_CHARS:
        return [Problem("reason", "too_long", {"most": MAX_REASON_CHARS})]
    return []


def check_may_change(
    db: Session, program: Program, recorded_by_id: int, changer: Membership, resting_on: Collection[int]
) -> None:
    """Refuse a correction or withdrawal that the rules do not allow; `resting_on` are the memberships whose
    certificates the record counts toward (for a session: who attended, before and after the change)."""
    is_trainer = changer.app_role == AppRole.TRAINER and changer.context_id == program.context_id
    if program.state not in CORRECTABLE:
        raise CorrectionClosed(program.state)
    if not is_trainer and changer.id != recorded_by_id:
        raise NotYourRecord(changer.id)
    if program.state is ProgramState.ENDED and not is_trainer:
        raise TrainerOnlyAfterEnd()
    issued = db.scalars(
        select(Certificate).where(
            Certificate.program_id == program.id,
            Certificate.membership_id.in_(resting_on),
            Certificate.revoked_at.is_(None),
        )
    ).all()
    if issued:
        raise RecordLocked(sorted(c.holder_name for c in issued))


def may_change(program: Program, recorded_by_id: int, viewer: Membership) -> bool:
    """Whether the viewer is offered the correction form at all (the lock is checked when they act)."""
    if program.state not in CORRECTABLE:
        return False
    is_trainer = viewer.app_role == AppRole.TRAINER and viewer.context_id == program.context_id
    if program.state is ProgramState.ENDED:
        return is_trainer
    return is_trainer or viewer.id == recorded_by_id


def keep_change(
    db: Session,
    program: Program,
    kind: str,
    record_id: int,
    *,
    action: str,
    changed_by_id: int,
    before: dict[str, Any],
    after: dict[str, Any] | None,
    reason: str,
    now: datetime,
) -> RecordChange:
    change = RecordChange(
        program_id=program.id,
        kind=kind,
        record_id=record_id,
        action=action,
        changed_by_id=changed_by_id,
        changed_at=now,
        before=before,
        after=after,
        reason=reason.strip(),
    )
    db.add(change)
    db.flush()
    return change


def history(db: Session, kind: str, record_ids: Iterable[int]) -> dict[int, list[RecordChange]]:
    """The changes of each record, oldest first."""
    found: dict[int, list[RecordChange]] = {}
    ids = list(record_ids)
    if not ids:
        return found
    for change in db.scalars(
        select(RecordChange)
        .where(RecordChange.kind == kind, RecordChange.record_id.in_(ids))
        .order_by(RecordChange.changed_at, RecordChange.id)
    ):
        found.setdefault(change.record_id, []).append(change)
    return found


# --- element sessions ---------------------------------------------------------------------------------------------

SESSION = "session"


@dataclass(frozen=True)
class SessionValues:
    """Every field of a session that a correction may change, attendance included."""

    cycle_number: int
    element: int
    held_on: date
    hours: Decimal
    attendee_ids: frozenset[int]
    notes: str = ""

    @classmethod
    def of(cls, session: ElementSession) -> SessionValues:
        return cls(
            session.cycle.number, session.element, session.held_on, session.hours, session.attendee_ids, session.notes
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "cycle": self.cycle_number,
            "element": self.element,
            "held_on": self.held_on.isoformat(),
            "hours": str(self.hours.quantize(Decimal("0.01"))),
            "attendee_ids": sorted(self.attendee_ids),
            "notes": self.notes,
        }


@dataclass(frozen=True)
class SessionChanged:
    """What a correction or withdrawal did: the change kept (None when nothing differed), the attendees' statement
    ids from before (to void), and everyone whose progress may have moved."""

    session: ElementSession
    change: RecordChange | None
    voided_statement_ids: list[str]
    affected_member_ids: frozenset[int]


def correct_session(
    db: Session,
    session: ElementSession,
    values: SessionValues,
    *,
    changer: Membership,
    reason: str,
    today: date,
    now: datetime,
) -> SessionChanged:
    """Correct every field of a recorded session, keeping the values before and after in its history."""
    cycle = session.cycle
    team = cycle.team
    program = team.program
    before = SessionValues.of(session)
    check_may_change(db, program, session.created_by_id, changer, before.attendee_ids | values.attendee_ids)
    problems = session_problems(
        program,
        cycle_number=values.cycle_number,
        element=values.element,
        held_on=values.held_on,
        hours=values.hours,
        attendee_ids=values.attendee_ids,
        team_member_ids=team.member_ids,
        today=today,
    )
    problems += reason_problems(program, session.created_by_id, changer, reason)
    if problems:
        raise InvalidInput(problems)
    if values == before:
        return SessionChanged(session, None, [], frozenset())
    voided = [a.statement_id for a in session.attendance if a.statement_id]
    if values.cycle_number != cycle.number:
        target = next((c for c in team.cycles if c.number == values.cycle_number), None)
        if target is None:
            target = Cycle(number=values.cycle_number)
            team.cycles.append(target)
        session.cycle = target
    session.element = values.element
    session.held_on = values.held_on
    session.hours = values.hours
    session.notes = values.notes
    session.attendance = [SessionAttendance(membership_id=m) for m in sorted(values.attendee_ids)]
    db.flush()
    change = keep_change(
        db, program, SESSION, session.id, action="corrected", changed_by_id=changer.id, before=before.as_json(),
        after=values.as_json(), reason=reason, now=now,
    )  # fmt: skip
    db.expire(cycle, ["sessions"])
    return SessionChanged(session, change, voided, before.attendee_ids | values.attendee_ids)


def withdraw_session(
    db: Session, session: ElementSession, *, changer: Membership, reason: str, now: datetime
) -> SessionChanged:
    """Withdraw a session: it stays in the table and its history, and counts nowhere any more."""
    cycle = session.cycle
    program = cycle.team.program
    before = SessionValues.of(session)
    check_may_change(db, program, session.created_by_id, changer, before.attendee_ids)
    problems = reason_problems(program, session.created_by_id, changer, reason)
    if problems:
        raise InvalidInput(problems)
    voided = [a.statement_id for a in session.attendance if a.statement_id]
    session.withdrawn_at = now
    db.flush()
    change = keep_change(
        db, program, SESSION, session.id, action="withdrawn", changed_by_id=changer.id, before=before.as_json(),
        after=None, reason=reason, now=now,
    )  # fmt: skip
    db.expire(cycle, ["sessions"])
    return SessionChanged(session, change, voided, before.attendee_ids)


# --- Buddy observations -------------------------------------------------------------------------------------------

OBSERVATION = "observation"


def observation_values(observation: Observation) -> ObservationForm:
    """Every field of an observation that a correction may change."""
    return ObservationForm(**{f.name: getattr(observation, f.name) for f in fields(ObservationForm)})


def observation_json(values: ObservationForm) -> dict[str, Any]:
    return {f.name: getattr(values, f.name) for f in fields(ObservationForm)}


@dataclass(frozen=True)
class ObservationChanged:
    """What a correction or withdrawal of an observation did: the change kept (None when nothing differed), the
    `observed` statement to void, and whose progress may have moved (the Buddy's and the Model Teacher's)."""

    observation: Observation
    change: RecordChange | None
    voided_statement_ids: list[str]
    affected_member_ids: frozenset[int]


def _check_observation(db: Session, observation: Observation, changer: Membership) -> Program:
    """The rules of a change; only the Buddy's certificate rests on their observation (models/eligibility.py counts
    it toward the Buddy's complete cycles, not the Model Teacher's)."""
    program = observation.cycle.team.program
    check_may_change(db, program, observation.buddy_id, changer, [observation.buddy_id])
    return program


def correct_observation(
    db: Session, observation: Observation, values: ObservationForm, *, changer: Membership, reason: str, now: datetime
) -> ObservationChanged:
    """Correct every field of a Buddy's observation, keeping the values before and after in its history."""
    if observation.withdrawn_at is not None:
        raise CorrectionClosed(observation.cycle.team.program.state)
    program = _check_observation(db, observation, changer)
    template = form_templates()[OBSERVATION_FORM]
    answers = {item.id: getattr(values, item.id) for item in template.fields}
    problems = answer_problems(template, answers) + reason_problems(program, observation.buddy_id, changer, reason)
    if problems:
        raise InvalidInput(problems)
    before = observation_values(observation)
    if values == before:
        return ObservationChanged(observation, None, [], frozenset())
    voided = [observation.statement_id] if observation.statement_id else []
    for item in fields(ObservationForm):
        setattr(observation, item.name, getattr(values, item.name))
    db.flush()
    change = keep_change(
        db, program, OBSERVATION, observation.id, action="corrected", changed_by_id=changer.id,
        before=observation_json(before), after=observation_json(values), reason=reason, now=now,
    )  # fmt: skip
    return ObservationChanged(observation, change, voided, frozenset({observation.buddy_id, observation.model_id}))


def withdraw_observation(
    db: Session, observation: Observation, *, changer: Membership, reason: str, now: datetime
) -> ObservationChanged:
    """Withdraw an observation: it stays in the table and its history, and counts nowhere any more (the Buddy's
    cycle waits for an observation again)."""
    if observation.withdrawn_at is not None:
        raise CorrectionClosed(observation.cycle.team.program.state)
    program = _check_observation(db, observation, changer)
    problems = reason_problems(program, observation.buddy_id, changer, reason)
    if problems:
        raise InvalidInput(problems)
    voided = [observation.statement_id] if observation.statement_id else []
    before = observation_json(observation_values(observation))
    observation.withdrawn_at = now
    observation.statement_id = None
    db.flush()
    change = keep_change(
        db, program, OBSERVATION, observation.id, action="withdrawn", changed_by_id=changer.id, before=before,
        after=None, reason=reason, now=now,
    )  # fmt: skip
    return ObservationChanged(observation, change, voided, frozenset({observation.buddy_id, observation.model_id}))


# --- a team's tracking forms --------------------------------------------------------------------------------------

FORM = "form"


def form_reason_needed(program: Program, entry: FormEntry, changer: Membership) -> bool:
    """A tracking form is the team's: while the program runs any member updates it without a reason, a trainer
    changing what someone else saved gives one; after the end every change has one."""
    is_trainer = changer.app_role == AppRole.TRAINER and changer.context_id == program.context_id
    return program.state is not ProgramState.RUNNING or (is_trainer and changer.id != entry.updated_by_id)


def may_correct_forms(program: Program, viewer: Membership) -> bool:
    """After the end, whether the viewer is offered the saved forms to correct (a trainer, until certificates are
    requested); while the program runs the team's writers are (web/access.py)."""
    is_trainer = viewer.app_role == AppRole.TRAINER and viewer.context_id == program.context_id
    return program.state is ProgramState.ENDED and is_trainer


def correct_form(
    db: Session, entry: FormEntry, answers: dict[str, str], *, changer: Membership, reason: str, now: datetime
) -> RecordChange | None:
    """Correct a team's saved tracking form, keeping the answers before and after in its history (None when nothing
    differed). No certificate rests on a tracking form (models/eligibility.py does not read them), so none locks it;
    the team's membership is checked by the caller."""
    program = entry.cycle.team.program
    is_trainer = changer.app_role == AppRole.TRAINER and changer.context_id == program.context_id
    if program.state not in CORRECTABLE:
        raise CorrectionClosed(program.state)
    if program.state is ProgramState.ENDED and not is_trainer:
        raise TrainerOnlyAfterEnd()
    template = form_templates()[entry.form]
    clean = {item.id: answers.get(item.id, "").strip() for item in template.fields}
    year = (program.approved_on, last_day_of_program(program.approved_on)) if program.approved_on else None
    problems = answer_problems(template, clean, year)
    text = reason.strip()
    if form_reason_needed(program, entry, changer) and not text:
        problems.append(Problem("reason", "reason_required", {}))
    elif len(text) > MAX_REASON_CHARS:
        problems.append(Problem("reason", "too_long", {"most": MAX_REASON_CHARS}))
    if problems:
        raise InvalidInput(problems)
    before = dict(entry.answers)
    if clean == before:
        return None
    entry.answers = clean
    entry.updated_by_id = changer.id
    entry.updated_at = now
    db.flush()
    return keep_change(
        db, program, FORM, entry.id, action="corrected", changed_by_id=changer.id, before=before, after=clean,
        reason=reason, now=now,
    )  # fmt: skip


def withdraw_form(db: Session, entry: FormEntry, *, changer: Membership, reason: str, now: datetime) -> RecordChange:
    """Withdraw a team's saved tracking form under the rules of a correction: the row goes (the form shows as not
    filled in and may be filled in again) and its history keeps the cycle, the form and the answers before."""
    program = entry.cycle.team.program
    is_trainer = changer.app_role == AppRole.TRAINER and changer.context_id == program.context_id
    if program.state not in CORRECTABLE:
        raise CorrectionClosed(program.state)
    if program.state is ProgramState.ENDED and not is_trainer:
        raise TrainerOnlyAfterEnd()
    text = reason.strip()
    if form_reason_needed(program, entry, changer) and not text:
        raise InvalidInput([Problem("reason", "reason_required", {})])
    if len(text) > MAX_REASON_CHARS:
        raise InvalidInput([Problem("reason", "too_long", {"most": MAX_REASON_CHARS})])
    before = {"cycle_id": entry.cycle_id, "form": entry.form, "answers": dict(entry.answers)}
    record_id = entry.id
    db.delete(entry)
    db.flush()
    return keep_change(
        db, program, FORM, record_id, action="withdrawn", changed_by_id=changer.id, before=before, after=None,
        reason=reason, now=now,
    )  # fmt: skip


def form_withdrawals(db: Session, cycle_id: int) -> dict[str, list[RecordChange]]:
    """The withdrawals of a cycle's tracking forms, by form slug, oldest first (the withdrawn row is gone, so its
    history is found by the cycle and form it keeps)."""
    found: dict[str, list[RecordChange]] = {}
    for change in db.scalars(
        select(RecordChange)
        .where(RecordChange.kind == FORM, RecordChange.action == "withdrawn")
        .order_by(RecordChange.changed_at, RecordChange.id)
    ):
        if change.before.get("cycle_id") == cycle_id:
            found.setdefault(str(change.before.get("form", "")), []).append(change)
    return found
