"""Refusals of the PLC rules: field problems, notices and the exceptions the edge turns into a page or a message."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, NamedTuple

from models.roles import AppRole
from models.states import ProgramState


class Problem(NamedTuple):
    """One thing wrong with submitted input, for the edge to show beside its field."""

    field: str
    code: str
    params: dict[str, Any]


class Notice(NamedTuple):
    """Something allowed but worth saying, such as an element recorded out of the Council's order."""

    code: str
    params: dict[str, Any]


class ProgramError(Exception):
    """A rule refused the change; `code` and `params` let the edge explain it in Thai or English."""

    code: ClassVar[str] = "program_error"

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.params = params


class ProgramStateError(ProgramError):
    code = "wrong_state"

    def __init__(self, current: ProgramState, wanted: ProgramState, message: str = "") -> None:
        super().__init__(message or f"a {current} program cannot become {wanted}", current=current, wanted=wanted)
        self.current = current
        self.wanted = wanted


class ApprovalRequired(ProgramStateError):
    """Nothing may start or be recorded before the Council approves (seed 004 §3.2)."""

    code = "approval_required"


class ProgramExpired(ProgramError):
    """The program is past one year from its approval (seed 004 §2.5)."""

    code = "program_expired"

    def __init__(self, approved_on: date, last_day: date, today: date) -> None:
        super().__init__(
            f"the program was approved on {approved_on}; its year ended on {last_day} and today is {today}",
            approved_on=approved_on,
            last_day=last_day,
            today=today,
        )


class CertificateWindowClosed(ProgramError):
    """Certificates are requested within 30 days after the program ends (seed 004 §3.3)."""

    code = "certificate_window_closed"

    def __init__(self, ended_on: date, last_day: date, today: date) -> None:
        super().__init__(
            f"the program ended on {ended_on}; certificates could be requested until {last_day}, not on {today}",
            ended_on=ended_on,
            last_day=last_day,
            today=today,
        )


class CertificatesStand(ProgramError):
    """An ended program whose certificates are issued is not reopened: the certificates rest on it."""

    code = "certificates_stand"

    def __init__(self, issued: int) -> None:
        super().__init__(f"{issued} certificates of the program stand; revoke them before reopening it", issued=issued)


class ApprovalDateAfterRecords(ProgramError):
    """The approval date cannot move past what already happened under it: the start or a recorded session."""

    code = "approval_after_records"

    def __init__(self, on: date, earliest: date) -> None:
        super().__init__(
            f"something was recorded on {earliest}, before the corrected approval date {on}", on=on, earliest=earliest
        )


class ApprovalDateInFuture(ProgramError):
    """The Council approved on a day that has come."""

    code = "approval_in_future"

    def __init__(self, on: date, today: date) -> None:
        super().__init__(f"the approval date {on} is after today {today}", on=on, today=today)


class NextProgramNotYet(ProgramError):
    """The course sets up its next program (a new year) only once its current one is done with the Council: its
    certificates requested, or it ended and the 30 days to request them passed (`until` is their last day)."""

    code = "next_program_not_yet"

    def __init__(self, current: ProgramState, until: date | None) -> None:
        super().__init__(
            f"the course's current program is {current}; a new program is set up once it requested its certificates"
            + (f" or after {until}" if until else ""),
            current=current,
            until=until,
        )
        self.current = current
        self.until = until


class PlanFrozen(ProgramError):
    """What the Council approved is what runs: the plan is not changed once approved (seed 004 §2.6)."""

    code = "plan_frozen"

    def __init__(self, state: ProgramState) -> None:
        super().__init__(f"the plan of a {state} program is frozen", state=state)


class PlanSubmitted(PlanFrozen):
    """The plan sent to the Council is kept as sent: a change means withdrawing the submission first."""

    code = "plan_submitted"


class PlanGap(NamedTuple):
    """A gap in a program's plan; `team_id` is None when it concerns the program as a whole."""

    team_id: int | None
    code: str
    params: dict[str, Any]


class PlanIncomplete(ProgramError):
    """Starting would freeze a plan in which someone never plays a role (seed 004 §2.4)."""

    code = "plan_incomplete"

    def __init__(self, gaps: list[PlanGap]) -> None:
        super().__init__(f"the plan does not give every member both roles: {gaps}", gaps=gaps)
        self.gaps = gaps


class CycleBeyondPlan(ProgramError):
    code = "cycle_beyond_plan"

    def __init__(self, number: int, planned: int) -> None:
        super().__init__(f"cycle {number} is outside the plan of cycles 1 to {planned}", cycle=number, planned=planned)


class NotInCourse(ProgramError):
    code = "not_in_course"

    def __init__(self, membership_id: int) -> None:
        super().__init__(f"membership {membership_id} is not in this program's course", membership_id=membership_id)


class NotATeamMember(ProgramError):
    code = "not_a_team_member"

    def __init__(self, membership_id: int, team: str) -> None:
        super().__init__(f"membership {membership_id} is not in team {team!r}", membership_id=membership_id, team=team)


class AlreadyInTeam(ProgramError):
    """A teacher belongs to one team per program."""

    code = "already_in_team"

    def __init__(self, membership_id: int, team: str) -> None:
        super().__init__(
            f"membership {membership_id} is already in team {team!r}", membership_id=membership_id, team=team
        )


class MemberInactive(ProgramError):
    """The platform lists this person as Inactive in the course (LTI NRPS): they join no new team."""

    code = "member_inactive"

    def __init__(self, membership_id: int, name: str) -> None:
        super().__init__(
            f"membership {membership_id} is inactive in the course", membership_id=membership_id, name=name
        )


class NotABuddy(ProgramError):
    """Only a Buddy of the cycle observes its Model Teacher's lesson."""

    code = "not_a_buddy"

    def __init__(self, membership_id: int, cycle: int) -> None:
        super().__init__(
            f"membership {membership_id} is not a Buddy in cycle {cycle}", membership_id=membership_id, cycle=cycle
        )


class NotYourObservation(ProgramError):
    """Only the Buddy who wrote it, the Model Teacher observed and the course's trainers read an observation."""

    code = "not_your_observation"

    def __init__(self, membership_id: int, observation_id: int) -> None:
        super().__init__(
            f"membership {membership_id} may not read observation {observation_id}",
            membership_id=membership_id,
            observation_id=observation_id,
        )


class NotATrainer(ProgramError):
    code = "not_a_trainer"

    def __init__(self, role: AppRole) -> None:
        super().__init__(f"only a trainer grades reflections, not a {role}", role=role)


class ReflectionGraded(ProgramError):
    """A graded reflection is kept as graded; the teacher writes no new version under the grade."""

    code = "reflection_graded"

    def __init__(self, reflection_id: int) -> None:
        super().__init__(f"reflection {reflection_id} is graded and can no longer change", reflection_id=reflection_id)


class NotFoundInCourse(ProgramError):
    code = "not_found"

    def __init__(self, entity: str, entity_id: int) -> None:
        super().__init__(f"no {entity} {entity_id} in this course", entity=entity, entity_id=entity_id)


class InvalidInput(ProgramError):
    """Input that breaks a rule, field by field; nothing was written."""

    code = "invalid_input"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.code} {p.params}" for p in problems), problems=problems)
        self.problems = problems
