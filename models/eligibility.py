"""Certificate eligibility per teacher: complete cycles, roles played and hours, within the program year.

`eligibility` is pure: it reads plain facts (`ProgramFacts`, `TeamFacts`), so the rule is tested without a
database; `team_facts` and `program_eligibility` (models/facts.py) gather those facts from the tables in one statement.

Our reading of the Council's rule (seed 004 §2.2–2.5), where the seed leaves details open:
- A cycle is complete for a teacher when each of the five elements has at least one session in that cycle
  that the teacher attended, and the teacher submitted a reflection on the cycle. Only sessions held, and
  reflections submitted, within the program year (approval day to the same date a year later) count.
- A teacher played the Model Teacher role in a complete cycle in which the plan made them the Model, and the
  Buddy role in a complete cycle in which the plan made them a Buddy and they submitted their observation.
- Hours are those of every session within the year that the teacher attended, complete cycle or not.
- Eligible: at least 3 complete cycles (seed 004 §2.3; the Council's minimum, whatever the program planned),
  both roles played, and at least the program's minimum hours, in an approved program that was not cancelled.
- A teacher who left the course (the LMS no longer lists them, models/roster.py) before the program's last day (its
  end, or the last day of its year) is not eligible from the day they left, and is counted neither among the
  program's teachers nor its eligible ones; what they did is kept and shown. Leaving after that day changes nothing:
  the work was done (a course is often closed once its program has ended). Listed again, they count again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.calendar import last_day_of_program, program_day
from models.cycles import ELEMENT_NUMBERS
from models.people import INACTIVE, Membership
from models.plan import PlcRole
from models.programs import MIN_CYCLES, Program
from models.states import ProgramState


class Reason(NamedTuple):
    """Why a teacher is not (yet) eligible: a machine code and its params, e.g. ("too_few_cycles", {…})."""

    code: str
    params: dict[str, Any]


@dataclass(frozen=True)
class ProgramFacts:
    state: ProgramState
    approved_on: date | None
    planned_cycles: int
    min_hours: Decimal
    ended_on: date | None = None


@dataclass(frozen=True)
class SessionFact:
    cycle: int
    element: int
    held_on: date
    hours: Decimal
    attendees: frozenset[int]


@dataclass(frozen=True)
class TeamFacts:
    """What a team planned and recorded; (cycle, membership id) keys the roles, reflections and observations."""

    member_ids: frozenset[int]
    sessions: tuple[SessionFact, ...] = ()
    roles: Mapping[tuple[int, int], PlcRole] = field(default_factory=dict)
    reflections: Mapping[tuple[int, int], datetime] = field(default_factory=dict)  # → submitted at
    observations: frozenset[tuple[int, int]] = frozenset()  # (cycle, Buddy) with a submitted observation
    left: Mapping[int, date] = field(default_factory=dict)  # membership id → the day they left the course


@dataclass(frozen=True)
class CycleProgress:
    """One teacher's progress in one cycle: what the "what to do next" page shows."""

    number: int
    role: PlcRole | None
    elements_attended: frozenset[int]
    reflection_submitted: bool
    observation_submitted: bool

    @property
    def complete(self) -> bool:
        return self.elements_attended >= frozenset(ELEMENT_NUMBERS) and self.reflection_submitted

    @property
    def elements_missing(self) -> tuple[int, ...]:
        return tuple(n for n in ELEMENT_NUMBERS if n not in self.elements_attended)


@dataclass(frozen=True)
class Eligibility:
    member_id: int
    cycles: tuple[CycleProgress, ...]
    roles_played: Mapping[PlcRole, tuple[int, ...]]  # role → the complete cycles in which it counted
    hours_by_element: Mapping[int, Decimal]
    total_hours: Decimal
    reasons: tuple[Reason, ...]

    # The day the teacher left the course, when it counts against them (before the program's last day).
    left_on: date | None = None

    @property
    def eligible(self) -> bool:
        return not self.reasons

    @property
    def requirements_met(self) -> bool:
        """The work the Council requires is done, whether or not the teacher is still in the course."""
        return all(reason.code == LEFT_COURSE for reason in self.reasons)

    @property
    def complete_cycles(self) -> tuple[int, ...]:
        return tuple(c.number for c in self.cycles if c.complete)


LEFT_COURSE = "left_course"


def left_before_the_end(member_id: int, program: ProgramFacts, team: TeamFacts) -> date | None:
    """The day the member left the course, if they left before the program's last day (its end or its year's)."""
    left_on = team.left.get(member_id)
    if left_on is None:
        return None
    last_days = [
        day for day in (program.ended_on, program.approved_on and last_day_of_program(program.approved_on)) if day
    ]
    return left_on if not last_days or left_on < min(last_days) else None


def eligibility(member_id: int, program: ProgramFacts, team: TeamFacts) -> Eligibility:
    """A teacher's progress toward a certificate, and every reason they are not yet eligible."""
    in_year = _in_year(program)
    attended = [s for s in team.sessions if member_id in s.attendees and in_year(s.held_on)]
    return _eligibility(member_id, program, team, attended, in_year)


def team_eligibility(program: ProgramFacts, team: TeamFacts) -> dict[int, Eligibility]:
    """`eligibility` of every member of the team, the sessions read once for all of them (not once per member)."""
    in_year = _in_year(program)
    attended: dict[int, list[SessionFact]] = {member_id: [] for member_id in team.member_ids}
    for session in team.sessions:
        if in_year(session.held_on):
            for member_id in session.attendees:
                if member_id in attended:
                    attended[member_id].append(session)
    return {m: _eligibility(m, program, team, sessions, in_year) for m, sessions in attended.items()}


def _in_year(program: ProgramFacts) -> Callable[[date], bool]:
    """Whether a day falls within the program year (approval day to the same date a year later)."""
    first_day = program.approved_on
    if first_day is None:
        return lambda _day: False
    last_day = last_day_of_program(first_day)
    return lambda day: first_day <= day <= last_day


def _eligibility(
    member_id: int,
    program: ProgramFacts,
    team: TeamFacts,
    attended: list[SessionFact],
    in_year: Callable[[date], bool],
) -> Eligibility:
    """The rule, given the sessions of the program year the member attended."""
    hours_by_element = dict.fromkeys(ELEMENT_NUMBERS, Decimal(0))
    elements_by_cycle: dict[int, set[int]] = defaultdict(set)
    for session in attended:  # one pass: the member's sessions are read once, not once per element and per cycle
        if session.element in hours_by_element:
            hours_by_element[session.element] += session.hours
        elements_by_cycle[session.cycle].add(session.element)
    total_hours = sum(hours_by_element.values(), Decimal(0))

    cycles: list[CycleProgress] = []
    for number in range(1, program.planned_cycles + 1):
        reflected_at = team.reflections.get((number, member_id))
        cycles.append(
            CycleProgress(
                number=number,
                role=team.roles.get((number, member_id)),
                elements_attended=frozenset(elements_by_cycle.get(number, ())),
                reflection_submitted=reflected_at is not None and in_year(program_day(reflected_at)),
                observation_submitted=(number, member_id) in team.observations,
            )
        )
    roles_played = {
        PlcRole.MODEL: tuple(c.number for c in cycles if c.complete and c.role is PlcRole.MODEL),
        PlcRole.BUDDY: tuple(
            c.number for c in cycles if c.complete and c.role is PlcRole.BUDDY and c.observation_submitted
        ),
    }

    reasons: list[Reason] = []
    left_on = left_before_the_end(member_id, program, team)
    if left_on is not None:
        reasons.append(Reason(LEFT_COURSE, {"on": left_on}))
    if program.state is ProgramState.CANCELLED:
        reasons.append(Reason("program_cancelled", {}))
    elif program.approved_on is None:
        reasons.append(Reason("program_not_approved", {}))
    if member_id not in team.member_ids:
        reasons.append(Reason("not_a_member", {}))
    complete = sum(1 for c in cycles if c.complete)
    if complete < MIN_CYCLES:
        reasons.append(Reason("too_few_cycles", {"have": complete, "need": MIN_CYCLES}))
    reasons.extend(Reason("missing_role", {"role": role}) for role, played in roles_played.items() if not played)
    if total_hours < program.min_hours:
        reasons.append(Reason("too_few_hours", {"have": total_hours, "need": program.min_hours}))
    return Eligibility(member_id, tuple(cycles), roles_played, hours_by_element, total_hours, tuple(reasons), left_on)


# --- Facts from the tables --------------------------------------------------------------------------------------


def program_facts(program: Program) -> ProgramFacts:
    return ProgramFacts(program.state, program.approved_on, program.planned_cycles, program.min_hours, program.ended_on)


def left_members(db: Session, member_ids: Collection[int]) -> dict[int, date]:
    """Membership id → the day they left the course, for those of `member_ids` who have."""
    left: dict[int, date] = {}
    ids = list(member_ids)
    for start in range(0, len(ids), 500):
        for membership_id, since in db.execute(
            select(Membership.id, Membership.inactive_since).where(
                Membership.id.in_(ids[start : start + 500]), Membership.status == INACTIVE
            )
        ):
            if since is not None:
                left[membership_id] = program_day(since)
    return left


# --- What a teacher does next -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    """One thing waiting for the teacher: `code` names it ("attend_element", "observe", "reflect", "fill_form")."""

    code: str
    cycle: int
    detail: Any = None  # the element number or the form slug


def current_cycle(progress: Eligibility) -> CycleProgress | None:
    """The first cycle the teacher has not completed (a Buddy's also waits for the observation); None when done."""
    for cycle in progress.cycles:
        if not cycle.complete or (cycle.role is PlcRole.BUDDY and not cycle.observation_submitted):
            return cycle
    return None


def next_steps(progress: Eligibility, filled_forms: frozenset[str], team_forms: tuple[str, ...]) -> list[NextStep]:
    """What is waiting in the current cycle, in the Council's order of the elements."""
    cycle = current_cycle(progress)
    if cycle is None:
        return []
    steps = [NextStep("attend_element", cycle.number, n) for n in cycle.elements_missing]
    steps.extend(NextStep("fill_form", cycle.number, slug) for slug in team_forms if slug not in filled_forms)
    if cycle.role is PlcRole.BUDDY and not cycle.observation_submitted:
        steps.append(NextStep("observe", cycle.number))
    if not cycle.reflection_submitted:
        steps.append(NextStep("reflect", cycle.number))
    return steps
