"""What was sent to the Council and what it approved (seed 004 §2.6, §3.1): each submission freezes the plan as a
numbered version, a snapshot of the program's details, teams, members, facilitators and roles per cycle with its
submission date; a withdrawn version keeps when and why; the approved one keeps the Council's letter (number and
date). The snapshot and the difference between two snapshots are pure functions; the caller owns the transaction.

Programs submitted before versions were kept get their version 1 from their plan as it stands, the first time their
versions are read (`versions`), with their submission and approval dates and no letter number: earlier releases let
a submitted plan change, so the plan as it stands is the best record left of what was sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from models import programs
from models.base import Base, utcnow
from models.errors import InvalidInput, Problem, ProgramStateError
from models.people import course_members
from models.plan import team_plan
from models.programs import Program
from models.states import ProgramState

# A letter number as the Council prints it ("ศธ 0206.3/1234") is short: the rule allows 64 characters, like the other
# letter numbers the product keeps (and the program's history keeps a corrected one whole); the column holds 100.
LETTER_NUMBER_LENGTH = 64
LETTER_NUMBER_COLUMN = 100
# The program's details a version keeps, in the order of the Council's application form.
DETAILS = ("name", "agency", "school_or_network", "planned_cycles", "min_hours", "learning_area", "grade_level")

Snapshot = dict[str, Any]


class PlanVersion(Base):
    """One submission of a program's plan to the Council, as it was sent."""

    __tablename__ = "plc_plan_versions"
    __table_args__ = (UniqueConstraint("program_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("plc_programs.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    snapshot: Mapped[Snapshot] = mapped_column(JSON)
    submitted_on: Mapped[date | None] = mapped_column(default=None)  # None: sent on a day not known
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_on: Mapped[date | None] = mapped_column(default=None)
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")
    council_letter_number: Mapped[str] = mapped_column(String(LETTER_NUMBER_COLUMN), default="")
    council_letter_date: Mapped[date | None] = mapped_column(default=None)  # the approval's date; None until approved

    @property
    def approved(self) -> bool:
        return self.council_letter_date is not None

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_on is not None


# --- The snapshot and the difference between two (pure) ---------------------------------------------------------


def plan_snapshot(program: Program, names: Mapping[int, str]) -> Snapshot:
    """The program's plan as plain JSON: its details, and per team its facilitator, its members (id and name) and who
    is the Model Teacher and who are the Buddies in each planned cycle. `names` maps a membership id to its name."""

    def person(membership_id: int) -> dict[str, Any]:
        return {"id": membership_id, "name": names.get(membership_id, str(membership_id))}

    teams = []
    for team in program.teams:
        plan = team_plan(team)
        teams.append(
            {
                "name": team.name,
                "facilitator": names.get(team.facilitator_id, "") if team.facilitator_id else "",
                "members": [person(member_id) for member_id in team.member_ids],
                "roles": [
                    {"cycle": number, "model": plan[number][0], "buddies": sorted(plan[number][1])}
                    for number in sorted(plan)
                ],
            }
        )
    details = {name: _text(getattr(program, name)) for name in DETAILS}
    return {"details": details, "teams": teams}


def _text(value: object) -> str:
    """A detail as text, the same whether it was just set or read back (hours always with two decimals)."""
    return format(value.quantize(Decimal("0.01")), "f") if isinstance(value, Decimal) else str(value)


@dataclass(frozen=True)
class DetailChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class RoleChange:
    """One cycle of a team planned differently: the Model Teacher and the Buddies before and after (names)."""

    cycle: int
    model_before: str
    buddies_before: list[str]
    model_after: str
    buddies_after: list[str]


@dataclass(frozen=True)
class TeamChange:
    team: str
    members_added: list[str] = field(default_factory=list)
    members_removed: list[str] = field(default_factory=list)
    facilitator: tuple[str, str] | None = None  # before, after
    roles: list[RoleChange] = field(default_factory=list)


@dataclass(frozen=True)
class PlanDiff:
    """What changed from one version of the plan to the next; teams are matched by name, members by who they are."""

    details: list[DetailChange]
    teams_added: list[tuple[str, list[str]]]  # name, members
    teams_removed: list[tuple[str, list[str]]]
    teams_changed: list[TeamChange]

    @property
    def empty(self) -> bool:
        return not (self.details or self.teams_added or self.teams_removed or self.teams_changed)


def plan_diff(before: Snapshot, after: Snapshot) -> PlanDiff:
    """The difference between two snapshots of a plan, in names a reader knows."""
    details = [
        DetailChange(name, str(before["details"].get(name, "")), str(after["details"].get(name, "")))
        for name in DETAILS
        if before["details"].get(name, "") != after["details"].get(name, "")
    ]
    teams_before = {team["name"]: team for team in before["teams"]}
    teams_after = {team["name"]: team for team in after["teams"]}
    added = [(name, _member_names(team)) for name, team in teams_after.items() if name not in teams_before]
    removed = [(name, _member_names(team)) for name, team in teams_before.items() if name not in teams_after]
    changed = [
        change
        for name, team in teams_after.items()
        if name in teams_before and (change := _team_change(teams_before[name], team)) is not None
    ]
    return PlanDiff(details, added, removed, changed)


def _member_names(team: Snapshot) -> list[str]:
    return [str(member["name"]) for member in team["members"]]


def _team_change(before: Snapshot, after: Snapshot) -> TeamChange | None:
    ids_before = {member["id"]: member["name"] for member in before["members"]}
    ids_after = {member["id"]: member["name"] for member in after["members"]}
    names = {**ids_before, **ids_after}

    def named(ids: Sequence[int]) -> list[str]:
        return [str(names.get(i, i)) for i in ids]

    roles_before = {row["cycle"]: (row["model"], row["buddies"]) for row in before["roles"]}
    roles_after = {row["cycle"]: (row["model"], row["buddies"]) for row in after["roles"]}
    roles = []
    for cycle in sorted(set(roles_before) | set(roles_after)):
        model_before, buddies_before = roles_before.get(cycle, (None, []))
        model_after, buddies_after = roles_after.get(cycle, (None, []))
        if (model_before, sorted(buddies_before)) != (model_after, sorted(buddies_after)):
            roles.append(
                RoleChange(
                    cycle,
                    str(names.get(model_before, "")) if model_before else "",
                    named(buddies_before),
                    str(names.get(model_after, "")) if model_after else "",
                    named(buddies_after),
                )
            )
    change = TeamChange(
        after["name"],
        members_added=[str(name) for i, name in ids_after.items() if i not in ids_before],
        members_removed=[str(name) for i, name in ids_before.items() if i not in ids_after],
        facilitator=(before["facilitator"], after["facilitator"])
        if before["facilitator"] != after["facilitator"]
        else None,
        roles=roles,
    )
    unchanged = not (change.members_added or change.members_removed or change.facilitator or change.roles)
    return None if unchanged else change


# --- A program's versions ------------------------------------------------------------------------------------------


def snapshot_now(db: Session, program: Program) -> Snapshot:
    """The program's plan as it stands, with the names of the course's members."""
    names = {m.id: m.person.name or m.person.sub for m in course_members(db, program.context_id)}
    return plan_snapshot(program, names)


def versions(db: Session, program: Program) -> list[PlanVersion]:
    """The program's versions, oldest first. A program submitted before versions were kept gets its version 1 here
    (see the module's docstring)."""
    found = list(
        db.scalars(select(PlanVersion).where(PlanVersion.program_id == program.id).order_by(PlanVersion.number))
    )
    if not found and _submitted_before_versions(program):
        legacy = PlanVersion(
            program_id=program.id,
            number=1,
            snapshot=snapshot_now(db, program),
            submitted_on=program.submitted_on,
            council_letter_date=program.approved_on,
        )
        try:
            with db.begin_nested():  # two first reads at once: one makes it, the other reads it
                db.add(legacy)
                db.flush()
            found = [legacy]
        except IntegrityError:
            found = list(
                db.scalars(select(PlanVersion).where(PlanVersion.program_id == program.id).order_by(PlanVersion.number))
            )
    return found


def _submitted_before_versions(program: Program) -> bool:
    if program.state is ProgramState.DRAFT:
        return False
    if program.state is ProgramState.CANCELLED:  # cancelled as a draft, or after a submission
        return program.submitted_on is not None or program.approved_on is not None
    return True


def latest_version(db: Session, program: Program) -> PlanVersion | None:
    """The program's last version sent to the Council (withdrawn or not), or None when it was never submitted."""
    found = versions(db, program)
    return found[-1] if found else None


def approved_version(db: Session, program: Program) -> PlanVersion | None:
    """The version the Council approved (with its letter's number and date), or None before the approval."""
    return next((v for v in versions(db, program) if v.approved), None)


def followed_version(db: Session, program: Program) -> PlanVersion | None:
    """The version the program's plan now follows: the approved one, else the one awaiting the Council; None while
    the plan is a draft (never sent, or its last version withdrawn)."""
    latest = latest_version(db, program)
    if latest is None or latest.withdrawn or program.state is ProgramState.DRAFT:
        return None
    return approved_version(db, program) or latest


def submission_problems(db: Session, program: Program, on: date, today: date | None) -> list[Problem]:
    """Why `on` cannot be the day this version was sent: the rules of any submission, and not before the day the
    previous version was withdrawn."""
    found = programs.submission_date_problems(program, on, today)
    latest = latest_version(db, program)
    if not found and latest is not None and latest.withdrawn_on is not None and on < latest.withdrawn_on:
        found.append(Problem("submitted_on", "before_withdrawal", {"withdrawn": latest.withdrawn_on}))
    return found


def submit(db: Session, program: Program, on: date | None, *, today: date) -> PlanVersion:
    """Draft → submitted: the plan as it stands becomes the next numbered version, sent on the day `on`."""
    if (
        program.state is ProgramState.DRAFT
        and on is not None
        and (problems := submission_problems(db, program, on, today))
    ):
        raise InvalidInput(problems)
    number = len(versions(db, program)) + 1
    programs.submit(program, on, today=today)
    version = PlanVersion(program_id=program.id, number=number, snapshot=snapshot_now(db, program), submitted_on=on)
    db.add(version)
    db.flush()
    return version


def withdraw(db: Session, program: Program, reason: str, *, today: date) -> PlanVersion:
    """Submitted → draft: the version sent is withdrawn on `today` with its reason (checked by the caller) and kept;
    the plan can then be changed and submitted again as the next version."""
    version = latest_version(db, program)
    programs.withdraw(program)
    assert version is not None  # a submitted program has a version (made above when it predates them)
    version.withdrawn_on = today
    version.withdrawn_reason = reason
    return version


def letter_number_problems(letter_number: str) -> list[Problem]:
    """The Council's letter is recorded by its number (เลขที่หนังสือ), as the letter prints it."""
    number = letter_number.strip()
    if not number:
        return [Problem("council_letter_number", "required", {})]
    if len(number) > LETTER_NUMBER_LENGTH:
        return [Problem("council_letter_number", "too_long", {"most": LETTER_NUMBER_LENGTH, "have": len(number)})]
    return []


def approve(db: Session, program: Program, letter_number: str, on: date, *, today: date) -> PlanVersion:
    """Submitted → approved by the Council's letter number `letter_number` dated `on`, which is the approval's date
    and starts the program's year: recorded against the version awaiting the Council. The date is a day that has
    come and not before the submission; both fields are checked together."""
    if program.state is not ProgramState.SUBMITTED:
        raise ProgramStateError(program.state, ProgramState.APPROVED)
    version = latest_version(db, program)
    if problems := letter_number_problems(letter_number) + programs.approval_date_problems(program, on, today):
        raise InvalidInput(problems)
    programs.approve(program, on, today=today)
    assert version is not None  # a submitted program has a version
    version.council_letter_number = letter_number.strip()
    version.council_letter_date = on
    return version


def correct_letter_number(db: Session, program: Program, letter_number: str) -> str | None:
    """Correct the number of the Council's approval letter kept with the approved version, or record it for a program
    approved before letters were kept, until certificates are requested; the number it had, or None when it is
    unchanged or still not known (InvalidInput on `council_letter_number` for emptying a recorded number or a too
    long one)."""
    programs.check_approval_correctable(program)
    version = approved_version(db, program)
    if version is None:
        raise ProgramStateError(program.state, ProgramState.APPROVED, "only an approved plan has the Council's letter")
    if not letter_number.strip() and not version.council_letter_number:
        return None  # still not known: nothing to record (the request for certificates says it is missing)
    if problems := letter_number_problems(letter_number):
        raise InvalidInput(problems)
    before, number = version.council_letter_number, letter_number.strip()
    if number == before:
        return None
    version.council_letter_number = number
    return before


def approval_date_corrected(db: Session, program: Program) -> None:
    """Keep the approved version's letter date the program's approval date after a correction."""
    if (version := approved_version(db, program)) is not None:
        version.council_letter_date = program.approved_on
