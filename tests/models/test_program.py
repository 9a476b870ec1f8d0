"""PLC program rules: the Council's states, the one-year limit, the certificate window, the frozen plan, element
sessions, Buddy observations, reflections and grades. Synthetic data (tests/factories.py) on SQLite and PostgreSQL,
both migrated to head; every test is rolled back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.base import Base
from models.calendar import last_day_for_certificates, last_day_of_program, program_day
from models.catalog import elements
from models.cycles import (
    ELEMENT_NUMBERS,
    CycleTarget,
    ElementSession,
    open_cycle,
    record_cycle_result,
    session_problems,
    set_cycle_target,
)
from models.database import Database
from models.errors import (
    AlreadyInTeam,
    ApprovalRequired,
    CertificateWindowClosed,
    CycleBeyondPlan,
    InvalidInput,
    NotABuddy,
    NotATeamMember,
    NotATrainer,
    NotFoundInCourse,
    NotInCourse,
    NotYourObservation,
    PlanFrozen,
    PlanIncomplete,
    PlanSubmitted,
    ProgramExpired,
    ProgramStateError,
    ReflectionGraded,
)
from models.facts import program_eligibility
from models.measures import COUNT, MEAN_SCORE
from models.migrate import alembic_config, upgrade
from models.observations import (
    Observation,
    ObservationForm,
    may_read_observation,
    observations_for,
    open_observation,
    submit_observation,
)
from models.people import Membership
from models.plan import PlcRole, role_in_cycle, team_plan
from models.programs import (
    Program,
    ProgramDetails,
    approve,
    cancel,
    edit_program,
    end,
    is_expired,
    new_program,
    request_certificates,
    start,
    submit,
)
from models.reflections import Grade, Reflection, grade_reflection, submit_reflection
from models.roles import AppRole
from models.rotation import plan_rotation
from models.scope import CourseScope, get_in_course, scoped
from models.states import ProgramState
from models.teams import (
    CycleAssignment,
    Team,
    add_team,
    add_team_member,
    apply_rotation,
    assign_cycle,
    may_record_for_team,
    remove_team,
    remove_team_member,
    set_facilitator,
)
from tests.factories import (
    APPROVED_ON,
    ENDED_ON,
    FORM,
    LAST_DAY,
    NOW,
    STARTED_ON,
    TODAY,
    Course,
    buddy_and_model,
    planned_program,
    program_in,
    record,
    running,
)

S = ProgramState


def refused_problems(db: Session, team: Team, **changes: object) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as refused:
        record(db, team, **{"element": 1, **changes})  # type: ignore[arg-type]
    assert db.scalar(select(func.count()).select_from(ElementSession)) == 0
    return [(p.field, p.code) for p in refused.value.problems]


# --- States -----------------------------------------------------------------------------------------------------


def test_the_migration_removes_and_restores_the_program_tables(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'round-trip.sqlite3'}")
    upgrade(database.engine)
    config = alembic_config(database.url)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    assert not [t for t in inspect(database.engine).get_table_names() if t.startswith("plc_")]
    upgrade(database.engine)
    assert {t for t in inspect(database.engine).get_table_names() if t.startswith("plc_")} == {
        t for t in Base.metadata.tables if t.startswith("plc_")
    }
    database.dispose()


def test_a_new_program_is_a_draft_of_its_course(db: Session, course: Course) -> None:
    program = planned_program(db, course)
    db.flush()
    db.expire_all()
    assert program.state is S.DRAFT
    assert role_in_cycle(program.teams[0], 1, program.teams[0].member_ids[0]) is PlcRole.MODEL
    assert (program.platform_id, program.context_id) == (course.scope.platform_id, course.scope.context_id)
    assert program.approved_on is None and program.last_day is None


def test_a_program_in_a_course_of_another_platform_is_refused(
    db: Session, course: Course, other_course: Course
) -> None:
    with pytest.raises(NotFoundInCourse):
        new_program(db, CourseScope(other_course.scope.platform_id, course.scope.context_id), ProgramDetails("x"))


def test_a_draft_is_submitted(db: Session, course: Course) -> None:
    program = planned_program(db, course)
    submit(program)
    assert program.state is S.SUBMITTED


def test_approval_records_the_councils_date(db: Session, course: Course) -> None:
    program = program_in(db, course, S.SUBMITTED)
    approve(program, APPROVED_ON, today=APPROVED_ON)
    assert program.state is S.APPROVED
    assert program.approved_on == APPROVED_ON and program.last_day == LAST_DAY


def test_approval_without_a_date_is_refused(db: Session, course: Course) -> None:
    program = program_in(db, course, S.SUBMITTED)
    with pytest.raises(ApprovalRequired):
        approve(program, None, today=APPROVED_ON)  # type: ignore[arg-type]
    assert program.state is S.SUBMITTED and program.approved_on is None


def test_an_approved_program_starts_and_records_its_start(db: Session, course: Course) -> None:
    program = program_in(db, course, S.APPROVED)
    start(program, STARTED_ON)
    assert program.state is S.RUNNING and program.started_on == STARTED_ON


@pytest.mark.parametrize("state", [S.DRAFT, S.SUBMITTED])
def test_nothing_starts_before_the_council_approves(db: Session, course: Course, state: ProgramState) -> None:
    program = program_in(db, course, state)
    with pytest.raises(ApprovalRequired):
        start(program, STARTED_ON)
    assert program.state is state


def test_a_program_cannot_start_before_its_approval_date(db: Session, course: Course) -> None:
    program = program_in(db, course, S.APPROVED)
    with pytest.raises(ApprovalRequired):
        start(program, APPROVED_ON - timedelta(days=1))
    assert program.state is S.APPROVED


def test_a_program_starts_on_its_approval_day(db: Session, course: Course) -> None:
    program = program_in(db, course, S.APPROVED)
    start(program, APPROVED_ON)
    assert program.state is S.RUNNING


def test_a_program_starts_on_the_last_day_of_its_year(db: Session, course: Course) -> None:
    program = program_in(db, course, S.APPROVED)
    start(program, LAST_DAY)
    assert program.state is S.RUNNING


def test_a_program_cannot_start_after_its_year(db: Session, course: Course) -> None:
    program = program_in(db, course, S.APPROVED)
    with pytest.raises(ProgramExpired) as refused:
        start(program, LAST_DAY + timedelta(days=1))
    assert refused.value.params["last_day"] == LAST_DAY
    assert program.state is S.APPROVED


def approved_as_is(program: Program) -> Program:
    """The draft, with whatever plan it has, submitted and approved (the plan cannot change after that)."""
    submit(program)
    approve(program, APPROVED_ON, today=APPROVED_ON)
    return program


def test_a_program_without_teams_cannot_start(db: Session, course: Course) -> None:
    program = planned_program(db, course)
    remove_team(db, program.teams[0])
    approved_as_is(program)
    with pytest.raises(PlanIncomplete) as refused:
        start(program, STARTED_ON)
    assert [gap.code for gap in refused.value.gaps] == ["no_teams"]
    assert program.state is S.APPROVED


def test_a_team_of_one_cannot_start(db: Session, course: Course) -> None:
    program = planned_program(db, course)
    team = program.teams[0]
    for member_id in team.member_ids[1:]:
        remove_team_member(team, member_id)
    approved_as_is(program)
    with pytest.raises(PlanIncomplete) as refused:
        start(program, STARTED_ON)
    assert "team_too_small" in [gap.code for gap in refused.value.gaps]


def test_a_plan_in_which_someone_is_never_the_model_cannot_start(db: Session, course: Course) -> None:
    program = planned_program(db, course)
    team = program.teams[0]
    first, second, third = team.member_ids
    for cycle in (1, 2, 3):
        assign_cycle(team, cycle, first, [second, third])
    approved_as_is(program)
    with pytest.raises(PlanIncomplete) as refused:
        start(program, STARTED_ON)
    assert {(g.code, g.params.get("member_id")) for g in refused.value.gaps} == {
        ("never_model", second),
        ("never_model", third),
        ("never_buddy", first),
    }
    assert program.state is S.APPROVED


def test_a_running_program_ends_today(db: Session, course: Course) -> None:
    program = program_in(db, course, S.RUNNING)
    end(program, ENDED_ON)
    assert program.state is S.ENDED and program.ended_on == ENDED_ON


def test_a_program_ended_after_its_year_ends_on_the_last_day_of_the_year(db: Session, course: Course) -> None:
    program = program_in(db, course, S.RUNNING)
    end(program, LAST_DAY + timedelta(days=10))
    assert program.ended_on == LAST_DAY


@pytest.mark.parametrize("days_after_end", [0, 1, 30])
def test_certificates_are_requested_within_30_days_after_the_end(
    db: Session, course: Course, days_after_end: int
) -> None:
    program = program_in(db, course, S.ENDED)
    request_certificates(program, ENDED_ON + timedelta(days=days_after_end))
    assert program.state is S.CERTIFICATES_REQUESTED
    assert program.certificates_requested_on == ENDED_ON + timedelta(days=days_after_end)


@pytest.mark.parametrize("days_after_end", [31, 365])
def test_certificates_after_30_days_are_refused(db: Session, course: Course, days_after_end: int) -> None:
    program = program_in(db, course, S.ENDED)
    with pytest.raises(CertificateWindowClosed) as refused:
        request_certificates(program, ENDED_ON + timedelta(days=days_after_end))
    assert refused.value.params["last_day"] == date(2027, 4, 30)
    assert program.state is S.ENDED and program.certificates_requested_on is None


def test_a_program_ended_late_counts_its_certificate_window_from_the_last_day_of_its_year(
    db: Session, course: Course
) -> None:
    program = program_in(db, course, S.RUNNING)
    end(program, LAST_DAY + timedelta(days=20))
    with pytest.raises(CertificateWindowClosed):
        request_certificates(program, LAST_DAY + timedelta(days=31))


@pytest.mark.parametrize("state", [S.DRAFT, S.SUBMITTED, S.APPROVED, S.RUNNING])
def test_a_program_is_cancelled_from_any_state_before_it_ends(db: Session, course: Course, state: ProgramState) -> None:
    program = program_in(db, course, state)
    cancel(program)
    assert program.state is S.CANCELLED


TRANSITIONS: dict[str, tuple[Callable[[Program], None], set[ProgramState]]] = {
    "submit": (submit, {S.DRAFT}),
    "approve": (lambda p: approve(p, APPROVED_ON, today=APPROVED_ON), {S.SUBMITTED}),
    "start": (lambda p: start(p, STARTED_ON), {S.APPROVED}),
    "end": (lambda p: end(p, ENDED_ON), {S.RUNNING}),
    "request_certificates": (lambda p: request_certificates(p, ENDED_ON), {S.ENDED}),
    "cancel": (cancel, {S.DRAFT, S.SUBMITTED, S.APPROVED, S.RUNNING}),
}
REFUSED = [(name, state) for name, (_, allowed) in TRANSITIONS.items() for state in S if state not in allowed]


@pytest.mark.parametrize(("transition", "state"), REFUSED)
def test_a_transition_from_a_state_that_does_not_allow_it_is_refused(
    db: Session, course: Course, transition: str, state: ProgramState
) -> None:
    program = program_in(db, course, state)
    with pytest.raises(ProgramStateError) as refused:
        TRANSITIONS[transition][0](program)
    assert refused.value.current is state
    assert program.state is state


def test_the_program_year_ends_on_the_same_date_a_year_after_approval() -> None:
    assert last_day_of_program(date(2026, 7, 9)) == date(2027, 7, 9)


def test_a_program_approved_on_29_february_ends_on_28_february() -> None:
    assert last_day_of_program(date(2028, 2, 29)) == date(2029, 2, 28)


def test_the_certificate_window_closes_30_days_after_the_end() -> None:
    assert last_day_for_certificates(date(2027, 1, 15)) == date(2027, 2, 14)


def test_a_running_program_past_its_year_is_expired(db: Session, course: Course) -> None:
    program, _ = running(db, course)
    assert not is_expired(program, LAST_DAY)
    assert is_expired(program, LAST_DAY + timedelta(days=1))


def test_program_days_are_thai_calendar_days() -> None:
    assert program_day(datetime(2026, 6, 30, 17, 30, tzinfo=UTC)) == date(2026, 7, 1)
    assert program_day(datetime(2026, 6, 30, 16, 59, tzinfo=UTC)) == date(2026, 6, 30)


def test_the_five_elements_are_the_catalogs() -> None:
    assert ELEMENT_NUMBERS == tuple(e.number for e in elements())


# --- Program details --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cycles", [0, 2])
def test_a_program_of_fewer_than_3_cycles_is_refused(db: Session, course: Course, cycles: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        new_program(db, course.scope, ProgramDetails("PLC", planned_cycles=cycles))
    assert [(p.field, p.code) for p in refused.value.problems] == [("planned_cycles", "too_few")]


@pytest.mark.parametrize("hours", ["-1", "1.005", "NaN"])
def test_minimum_hours_that_are_negative_or_too_precise_are_refused(db: Session, course: Course, hours: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        new_program(db, course.scope, ProgramDetails("PLC", min_hours=Decimal(hours)))
    assert [p.field for p in refused.value.problems] == ["min_hours"]


def test_a_program_without_a_name_is_refused(db: Session, course: Course) -> None:
    with pytest.raises(InvalidInput):
        new_program(db, course.scope, ProgramDetails("  "))


def test_the_database_refuses_a_program_of_two_cycles(db: Session, course: Course) -> None:
    db.add(
        Program(platform_id=course.scope.platform_id, context_id=course.scope.context_id, name="x", planned_cycles=2)
    )
    with pytest.raises(IntegrityError):
        db.flush()


# --- The plan and its freeze ------------------------------------------------------------------------------------


def test_the_plan_changes_while_it_is_a_draft(db: Session, course: Course) -> None:
    program = program_in(db, course, S.DRAFT)
    team = add_team(db, program, "ทีมสอง")
    add_team_member(db, team, course.teachers[5].id)
    assert [t.name for t in program.teams] == ["ทีมคณิต", "ทีมสอง"]


PLAN_EDITS: dict[str, Callable[[Session, Program, Course], object]] = {
    "edit_program": lambda db, p, c: edit_program(p, ProgramDetails("renamed", planned_cycles=4)),
    "add_team": lambda db, p, c: add_team(db, p, "late team"),
    "remove_team": lambda db, p, c: remove_team(db, p.teams[0]),
    "set_facilitator": lambda db, p, c: set_facilitator(db, p.teams[0], c.teachers[0].id),
    "add_team_member": lambda db, p, c: add_team_member(db, p.teams[0], c.teachers[6].id),
    "remove_team_member": lambda db, p, c: remove_team_member(p.teams[0], p.teams[0].member_ids[0]),
    "assign_cycle": lambda db, p, c: assign_cycle(p.teams[0], 1, p.teams[0].member_ids[1], [p.teams[0].member_ids[0]]),
    "apply_rotation": lambda db, p, c: apply_rotation(p.teams[0], plan_rotation(p.teams[0].member_ids[::-1], 3)),
}


@pytest.mark.parametrize("edit", sorted(PLAN_EDITS))
def test_a_submitted_plan_is_kept_as_sent_and_an_edit_says_to_withdraw_first(
    db: Session, course: Course, edit: str
) -> None:
    program = program_in(db, course, S.SUBMITTED)
    plan_before = team_plan(program.teams[0])
    with pytest.raises(PlanSubmitted) as refused:
        PLAN_EDITS[edit](db, program, course)
    assert refused.value.code == "plan_submitted"
    assert team_plan(program.teams[0]) == plan_before and len(program.teams) == 1 and program.name.startswith("PLC")


@pytest.mark.parametrize("edit", sorted(PLAN_EDITS))
def test_an_approved_plan_never_changes(db: Session, course: Course, edit: str) -> None:
    program = program_in(db, course, S.APPROVED)
    with pytest.raises(PlanFrozen) as refused:
        PLAN_EDITS[edit](db, program, course)
    assert refused.value.code == "plan_frozen" and len(program.teams) == 1


@pytest.mark.parametrize("edit", sorted(PLAN_EDITS))
def test_every_plan_edit_is_refused_once_the_program_runs(db: Session, course: Course, edit: str) -> None:
    program, team = running(db, course)
    plan_before = team_plan(team)
    with pytest.raises(PlanFrozen) as refused:
        PLAN_EDITS[edit](db, program, course)
    assert refused.value.params["state"] is S.RUNNING
    assert team_plan(team) == plan_before and program.name.startswith("PLC") and len(program.teams) == 1


@pytest.mark.parametrize("state", [S.ENDED, S.CERTIFICATES_REQUESTED, S.CANCELLED])
def test_the_plan_stays_frozen_after_the_program_runs(db: Session, course: Course, state: ProgramState) -> None:
    program = program_in(db, course, state)
    with pytest.raises(PlanFrozen):
        add_team(db, program, "late team")


def test_a_frozen_plan_can_still_be_read(db: Session, course: Course) -> None:
    _, team = running(db, course)
    first, second, third = team.member_ids
    assert team_plan(team) == {1: (first, [second, third]), 2: (second, [first, third]), 3: (third, [first, second])}
    assert role_in_cycle(team, 2, second) is PlcRole.MODEL and role_in_cycle(team, 2, first) is PlcRole.BUDDY


def test_shortening_the_program_drops_the_roles_of_the_cycles_it_loses(db: Session, course: Course) -> None:
    program = planned_program(db, course, members=3, cycles=5)
    edit_program(program, ProgramDetails("PLC", planned_cycles=3))
    assert sorted(team_plan(program.teams[0])) == [1, 2, 3]


def test_a_member_of_another_course_cannot_join_a_team(db: Session, course: Course, other_course: Course) -> None:
    program = planned_program(db, course)
    with pytest.raises(NotInCourse):
        add_team_member(db, program.teams[0], other_course.teachers[0].id)


def test_a_facilitator_from_another_course_is_refused(db: Session, course: Course, other_course: Course) -> None:
    program = planned_program(db, course)
    with pytest.raises(NotInCourse):
        set_facilitator(db, program.teams[0], other_course.trainer.id)


def test_a_teacher_belongs_to_one_team_per_program(db: Session, course: Course) -> None:
    program = planned_program(db, course)
    second = add_team(db, program, "ทีมสอง")
    with pytest.raises(AlreadyInTeam):
        add_team_member(db, second, course.teachers[0].id)


def test_two_teams_of_a_program_need_different_names(db: Session, course: Course) -> None:
    program = planned_program(db, course)
    with pytest.raises(InvalidInput):
        add_team(db, program, "ทีมคณิต")


def test_only_team_members_are_given_roles(db: Session, course: Course) -> None:
    program = planned_program(db, course)
    with pytest.raises(NotATeamMember):
        assign_cycle(program.teams[0], 1, course.teachers[7].id, program.teams[0].member_ids)


@pytest.mark.parametrize("cycle", [0, 4])
def test_roles_for_a_cycle_outside_the_plan_are_refused(db: Session, course: Course, cycle: int) -> None:
    program = planned_program(db, course, cycles=3)
    team = program.teams[0]
    with pytest.raises(CycleBeyondPlan):
        assign_cycle(team, cycle, team.member_ids[0], team.member_ids[1:])


def test_the_model_is_not_also_a_buddy_in_the_same_cycle(db: Session, course: Course) -> None:
    program = planned_program(db, course)
    team = program.teams[0]
    with pytest.raises(InvalidInput):
        assign_cycle(team, 1, team.member_ids[0], team.member_ids)


def test_the_database_keeps_one_model_per_team_and_cycle(db: Session, course: Course) -> None:
    program = planned_program(db, course)
    team = program.teams[0]
    db.add(CycleAssignment(team_id=team.id, cycle_number=1, membership_id=course.teachers[2].id, role=PlcRole.MODEL))
    with pytest.raises(IntegrityError):
        db.flush()


def test_removing_a_member_removes_their_roles(db: Session, course: Course) -> None:
    program = planned_program(db, course)
    team = program.teams[0]
    leaving = team.member_ids[2]
    remove_team_member(team, leaving)
    db.flush()
    assert leaving not in team.member_ids
    assert db.scalar(select(func.count()).where(CycleAssignment.membership_id == leaving)) == 0


# --- Cycles and element sessions --------------------------------------------------------------------------------


def test_a_session_is_recorded_with_who_was_there(db: Session, course: Course) -> None:
    _, team = running(db, course)
    recorded = record(db, team, 1, hours=Decimal("1.5"), attendee_ids=team.member_ids[:2], notes="ตกลงบรรทัดฐาน")
    session = recorded.session
    assert (session.cycle.number, session.element, session.hours) == (1, 1, Decimal("1.50"))
    assert session.attendee_ids == frozenset(team.member_ids[:2])
    assert recorded.notices == []


@pytest.mark.parametrize("hours", ["0", "-1", "-0.5"])
def test_hours_that_are_not_positive_are_refused(db: Session, course: Course, hours: str) -> None:
    _, team = running(db, course)
    assert refused_problems(db, team, hours=Decimal(hours)) == [("hours", "not_positive")]


@pytest.mark.parametrize("hours", ["24.01", "25", "100"])
def test_more_than_a_day_of_hours_is_refused(db: Session, course: Course, hours: str) -> None:
    _, team = running(db, course)
    assert refused_problems(db, team, hours=Decimal(hours)) == [("hours", "more_than_a_day")]


def test_a_whole_day_of_hours_is_accepted(db: Session, course: Course) -> None:
    _, team = running(db, course)
    record(db, team, 1, hours=Decimal(24))


def test_hours_finer_than_hundredths_are_refused(db: Session, course: Course) -> None:
    _, team = running(db, course)
    assert refused_problems(db, team, hours=Decimal("1.333")) == [("hours", "too_precise")]


def test_a_session_dated_before_the_approval_is_refused(db: Session, course: Course) -> None:
    _, team = running(db, course)
    assert refused_problems(db, team, held_on=APPROVED_ON - timedelta(days=1)) == [("held_on", "before_approval")]


def test_a_session_dated_after_the_program_year_is_refused(db: Session, course: Course) -> None:
    _, team = running(db, course)
    late = LAST_DAY + timedelta(days=1)
    assert refused_problems(db, team, held_on=late, today=LAST_DAY) == [("held_on", "after_program_year")]


def test_sessions_on_the_first_and_last_days_of_the_program_year_are_accepted(db: Session, course: Course) -> None:
    _, team = running(db, course)
    record(db, team, 1, held_on=APPROVED_ON)
    record(db, team, 2, held_on=LAST_DAY, today=LAST_DAY)


def test_a_session_dated_in_the_future_is_refused(db: Session, course: Course) -> None:
    _, team = running(db, course)
    assert refused_problems(db, team, held_on=TODAY + timedelta(days=1)) == [("held_on", "in_the_future")]


@pytest.mark.parametrize("cycle", [0, 4, 99])
def test_a_session_in_a_cycle_beyond_the_plan_is_refused(db: Session, course: Course, cycle: int) -> None:
    _, team = running(db, course, cycles=3)
    assert refused_problems(db, team, cycle_number=cycle) == [("cycle", "beyond_plan")]


@pytest.mark.parametrize("element", [0, 6])
def test_an_element_the_council_does_not_list_is_refused(db: Session, course: Course, element: int) -> None:
    _, team = running(db, course)
    assert refused_problems(db, team, element=element) == [("element", "unknown")]


def test_attendees_from_outside_the_team_are_refused(db: Session, course: Course) -> None:
    _, team = running(db, course)
    outsider = course.teachers[7].id
    assert refused_problems(db, team, attendee_ids=[team.member_ids[0], outsider]) == [("attendees", "not_in_team")]


def test_a_session_that_nobody_attended_is_refused(db: Session, course: Course) -> None:
    _, team = running(db, course)
    assert refused_problems(db, team, attendee_ids=[]) == [("attendees", "none_present")]


def test_every_problem_of_a_session_is_reported_at_once(db: Session, course: Course) -> None:
    _, team = running(db, course)
    problems = refused_problems(db, team, cycle_number=9, hours=Decimal(-2), held_on=date(2020, 1, 1))
    assert problems == [("cycle", "beyond_plan"), ("hours", "not_positive"), ("held_on", "before_approval")]


def test_a_good_session_has_no_problems(db: Session, course: Course) -> None:
    program, team = running(db, course)
    problems = session_problems(
        program,
        cycle_number=3,
        element=5,
        held_on=TODAY,
        hours=Decimal("0.25"),
        attendee_ids=team.member_ids,
        team_member_ids=team.member_ids,
        today=TODAY,
    )
    assert problems == []


@pytest.mark.parametrize("state", [S.DRAFT, S.SUBMITTED])
def test_nothing_is_recorded_before_approval(db: Session, course: Course, state: ProgramState) -> None:
    program = program_in(db, course, state)
    with pytest.raises(ApprovalRequired):
        record(db, program.teams[0], 1)


@pytest.mark.parametrize("state", [S.APPROVED, S.ENDED, S.CERTIFICATES_REQUESTED, S.CANCELLED])
def test_nothing_is_recorded_unless_the_program_runs(db: Session, course: Course, state: ProgramState) -> None:
    program = program_in(db, course, state)
    with pytest.raises(ProgramStateError) as refused:
        record(db, program.teams[0], 1)
    assert not isinstance(refused.value, ApprovalRequired)
    assert db.scalar(select(func.count()).select_from(ElementSession)) == 0


def test_nothing_is_recorded_after_the_program_year(db: Session, course: Course) -> None:
    _, team = running(db, course)
    with pytest.raises(ProgramExpired):
        record(db, team, 1, held_on=LAST_DAY, today=LAST_DAY + timedelta(days=1))


def test_a_session_recorded_by_someone_outside_the_course_is_refused(
    db: Session, course: Course, other_course: Course
) -> None:
    _, team = running(db, course)
    with pytest.raises(NotInCourse):
        record(db, team, 1, recorded_by_id=other_course.trainer.id)


def test_an_element_recorded_before_earlier_ones_is_kept_with_a_notice(db: Session, course: Course) -> None:
    _, team = running(db, course)
    record(db, team, 1)
    recorded = record(db, team, 4)
    assert [(n.code, n.params) for n in recorded.notices] == [
        ("element_out_of_order", {"element": 4, "missing": [2, 3]})
    ]
    assert db.scalar(select(func.count()).select_from(ElementSession)) == 2


def test_elements_recorded_in_the_councils_order_give_no_notice(db: Session, course: Course) -> None:
    _, team = running(db, course)
    notices = [record(db, team, element).notices for element in ELEMENT_NUMBERS]
    assert notices == [[], [], [], [], []]


def test_an_element_may_take_several_sessions(db: Session, course: Course) -> None:
    _, team = running(db, course)
    record(db, team, 1)
    record(db, team, 1, hours=Decimal(1))
    assert [s.element for s in team.cycles[0].sessions] == [1, 1]


def test_a_cycle_records_its_student_learning_problem_and_its_result(db: Session, course: Course) -> None:
    _, team = running(db, course)
    cycle = open_cycle(db, team, 1, TODAY)
    target = CycleTarget(
        "เศษส่วน", "คณิต", "ป 4", "ป.4/2 (synthetic)", "แบบทดสอบก่อนเรียน", Decimal("12.5"),
        measure="คะแนนแบบทดสอบเศษส่วน", measure_kind=MEAN_SCORE, measure_out_of=Decimal(20), pupils=30,
    )  # fmt: skip
    set_cycle_target(cycle, target, TODAY)
    record_cycle_result(cycle, "แบบทดสอบหลังเรียน", Decimal("16"), TODAY)
    assert (cycle.problem, cycle.baseline_value, cycle.result_value) == ("เศษส่วน", Decimal("12.5"), Decimal("16"))
    # A common spelling is kept as the curriculum's entry.
    assert (cycle.learning_area, cycle.grade_level) == ("คณิตศาสตร์", "ป.4")


def test_a_cycle_value_beyond_its_measure_or_without_one_is_refused(db: Session, course: Course) -> None:
    _, team = running(db, course)
    cycle = open_cycle(db, team, 1, TODAY)
    with pytest.raises(InvalidInput) as no_measure:
        set_cycle_target(cycle, CycleTarget("เศษส่วน", baseline_value=Decimal(40)), TODAY)
    assert [p.field for p in no_measure.value.problems] == ["measure_kind"]
    set_cycle_target(cycle, CycleTarget("เศษส่วน", measure_kind=COUNT, pupils=12, baseline_value=Decimal(5)), TODAY)
    with pytest.raises(InvalidInput) as beyond:
        record_cycle_result(cycle, "", Decimal(13), TODAY)
    assert [(p.field, p.code) for p in beyond.value.problems] == [("result_value", "beyond_measure")]


def test_a_cycle_beyond_the_plan_is_not_opened(db: Session, course: Course) -> None:
    _, team = running(db, course, cycles=3)
    with pytest.raises(CycleBeyondPlan):
        open_cycle(db, team, 4, TODAY)


def test_members_facilitator_and_trainers_may_record_for_a_team(db: Session, course: Course) -> None:
    _, team = running(db, course)
    member = db.get(Membership, team.member_ids[0])
    assert member is not None
    assert may_record_for_team(member, team) and may_record_for_team(course.trainer, team)


def test_a_teacher_of_another_team_or_course_may_not_record_for_a_team(
    db: Session, course: Course, other_course: Course
) -> None:
    _, team = running(db, course)
    assert not may_record_for_team(course.teachers[7], team)
    assert not may_record_for_team(other_course.trainer, team)


# --- Buddy observations -----------------------------------------------------------------------------------------


def test_a_buddy_submits_an_observation_of_the_cycles_model(db: Session, course: Course) -> None:
    _, team = running(db, course)
    buddy, model, _ = buddy_and_model(team)
    observation = submit_observation(db, team, 1, buddy, FORM, NOW)
    assert (observation.buddy_id, observation.model_id, observation.submitted_at) == (buddy, model, NOW)
    assert observation.student_notes == FORM.student_notes


def test_resubmitting_replaces_the_buddys_observation(db: Session, course: Course) -> None:
    _, team = running(db, course)
    buddy, _, _ = buddy_and_model(team)
    submit_observation(db, team, 1, buddy, FORM, NOW)
    submit_observation(db, team, 1, buddy, ObservationForm("บทเรียนใหม่", "ทำ", "เรียนรู้"), NOW + timedelta(hours=1))
    assert db.scalars(select(Observation.lesson)).all() == ["บทเรียนใหม่"]


def test_the_model_cannot_observe_their_own_lesson(db: Session, course: Course) -> None:
    _, team = running(db, course)
    _, model, _ = buddy_and_model(team)
    with pytest.raises(NotABuddy):
        submit_observation(db, team, 1, model, FORM, NOW)


def test_a_teacher_outside_the_team_cannot_observe(db: Session, course: Course) -> None:
    _, team = running(db, course)
    with pytest.raises(NotABuddy):
        submit_observation(db, team, 1, course.teachers[7].id, FORM, NOW)


def test_no_observation_is_submitted_before_the_program_runs(db: Session, course: Course) -> None:
    program = program_in(db, course, S.APPROVED)
    buddy, _, _ = buddy_and_model(program.teams[0])
    with pytest.raises(ProgramStateError):
        submit_observation(db, program.teams[0], 1, buddy, FORM, NOW)


def test_the_buddy_who_wrote_it_and_the_model_observed_may_read_it(db: Session, course: Course) -> None:
    _, team = running(db, course)
    buddy, model, _ = buddy_and_model(team)
    observation = submit_observation(db, team, 1, buddy, FORM, NOW)
    for reader in (buddy, model):
        viewer = db.get(Membership, reader)
        assert viewer is not None and may_read_observation(viewer, observation)


def test_a_trainer_of_the_course_may_read_it(db: Session, course: Course) -> None:
    _, team = running(db, course)
    buddy, _, _ = buddy_and_model(team)
    observation = submit_observation(db, team, 1, buddy, FORM, NOW)
    assert open_observation(db, course.scope, course.trainer, observation.id) is observation


def test_a_buddy_of_another_pair_cannot_open_the_observation(db: Session, course: Course) -> None:
    _, team = running(db, course)
    buddy, _, buddies = buddy_and_model(team)
    observation = submit_observation(db, team, 1, buddy, FORM, NOW)
    other_buddy = db.get(Membership, buddies[1])
    assert other_buddy is not None
    with pytest.raises(NotYourObservation):
        open_observation(db, course.scope, other_buddy, observation.id)


@pytest.mark.parametrize("who", ["teacher of another team", "school administrator"])
def test_others_in_the_course_may_not_read_an_observation(db: Session, course: Course, who: str) -> None:
    _, team = running(db, course)
    buddy, _, _ = buddy_and_model(team)
    observation = submit_observation(db, team, 1, buddy, FORM, NOW)
    viewer = course.teachers[7] if who == "teacher of another team" else course.admin
    assert not may_read_observation(viewer, observation)


def test_a_trainer_of_another_course_cannot_find_the_observation(
    db: Session, course: Course, other_course: Course
) -> None:
    _, team = running(db, course)
    buddy, _, _ = buddy_and_model(team)
    observation = submit_observation(db, team, 1, buddy, FORM, NOW)
    assert not may_read_observation(other_course.trainer, observation)
    with pytest.raises(NotFoundInCourse):
        open_observation(db, other_course.scope, other_course.trainer, observation.id)


def test_a_teacher_lists_only_their_own_pairs_observations(db: Session, course: Course) -> None:
    _, team = running(db, course)
    buddy, model, buddies = buddy_and_model(team)
    mine = submit_observation(db, team, 1, buddy, FORM, NOW)
    theirs = submit_observation(db, team, 1, buddies[1], FORM, NOW)
    viewers = {m.id: m for m in course.teachers}
    assert observations_for(db, course.scope, viewers[buddy]) == [mine]
    assert observations_for(db, course.scope, viewers[model]) == [mine, theirs]
    assert observations_for(db, course.scope, course.trainer) == [mine, theirs]


# --- Reflections and grades -------------------------------------------------------------------------------------


def reflection_of(db: Session, course: Course) -> Reflection:
    _, team = running(db, course)
    return submit_reflection(db, team, 1, team.member_ids[0], "นักเรียนเข้าใจเศษส่วนมากขึ้น", NOW)


def grade(db: Session, reflection: Reflection, grader: Membership, role: AppRole, **changes: object) -> Grade:
    values: dict[str, object] = {
        "grader_id": grader.id,
        "grader_role": role,
        "rubric_id": "reflection-v1",
        "scores": {"depth": 3, "evidence": 2},
        "max_score": 8,
        "comment": "ดีมาก",
        "now": NOW,
    }
    values.update(changes)
    return grade_reflection(db, reflection, **values)  # type: ignore[arg-type]


def test_a_member_submits_a_reflection_on_a_cycle(db: Session, course: Course) -> None:
    reflection = reflection_of(db, course)
    assert (reflection.cycle.number, reflection.submitted_at) == (1, NOW)


def test_a_blank_reflection_is_refused(db: Session, course: Course) -> None:
    _, team = running(db, course)
    with pytest.raises(InvalidInput):
        submit_reflection(db, team, 1, team.member_ids[0], " \n", NOW)


def test_a_teacher_outside_the_team_cannot_reflect_on_its_cycle(db: Session, course: Course) -> None:
    _, team = running(db, course)
    with pytest.raises(NotATeamMember):
        submit_reflection(db, team, 1, course.teachers[7].id, "text", NOW)


def test_a_reflection_is_rewritten_until_it_is_graded(db: Session, course: Course) -> None:
    reflection = reflection_of(db, course)
    team = reflection.cycle.team
    submit_reflection(db, team, 1, reflection.membership_id, "ฉบับแก้", NOW + timedelta(hours=1))
    assert reflection.text == "ฉบับแก้"
    grade(db, reflection, course.trainer, AppRole.TRAINER)
    with pytest.raises(ReflectionGraded):
        submit_reflection(db, team, 1, reflection.membership_id, "อีกฉบับ", NOW + timedelta(hours=2))
    assert reflection.text == "ฉบับแก้"


def test_a_trainer_grades_a_reflection(db: Session, course: Course) -> None:
    reflection = reflection_of(db, course)
    graded = grade(db, reflection, course.trainer, AppRole.TRAINER)
    assert (graded.total, graded.max_score, graded.scores) == (Decimal(5), Decimal(8), {"depth": 3, "evidence": 2})
    assert reflection.current_grade is graded


@pytest.mark.parametrize("role", [AppRole.TEACHER, AppRole.ADMIN])
def test_only_a_trainer_grades(db: Session, course: Course, role: AppRole) -> None:
    reflection = reflection_of(db, course)
    grader = course.teachers[1] if role is AppRole.TEACHER else course.admin
    with pytest.raises(NotATrainer):
        grade(db, reflection, grader, role)
    assert db.scalar(select(func.count()).select_from(Grade)) == 0


def test_a_trainer_of_another_course_cannot_grade(db: Session, course: Course, other_course: Course) -> None:
    reflection = reflection_of(db, course)
    with pytest.raises(NotInCourse):
        grade(db, reflection, other_course.trainer, AppRole.TRAINER)


def test_regrading_keeps_the_history_and_the_newest_grade_is_current(db: Session, course: Course) -> None:
    reflection = reflection_of(db, course)
    first = grade(db, reflection, course.trainer, AppRole.TRAINER)
    second = grade(
        db, reflection, course.trainer, AppRole.TRAINER, scores={"depth": 4, "evidence": 4}, now=NOW + timedelta(days=1)
    )
    db.expire(reflection)
    assert [g.id for g in reflection.grades] == [first.id, second.id]
    assert reflection.current_grade is not None and reflection.current_grade.total == Decimal(8)


@pytest.mark.parametrize(
    ("scores", "max_score", "problem"),
    [
        ({"depth": 5, "evidence": 4}, 8, ("scores", "above_max")),
        ({"depth": -1}, 8, ("scores", "negative")),
        ({}, 8, ("scores", "required")),
        ({"depth": 1}, 0, ("max_score", "not_positive")),
    ],
)
def test_a_grade_outside_the_rubric_is_refused(
    db: Session, course: Course, scores: dict[str, int], max_score: int, problem: tuple[str, str]
) -> None:
    reflection = reflection_of(db, course)
    with pytest.raises(InvalidInput) as refused:
        grade(db, reflection, course.trainer, AppRole.TRAINER, scores=scores, max_score=max_score)
    assert [(p.field, p.code) for p in refused.value.problems] == [problem]


# --- The course scope -------------------------------------------------------------------------------------------


def test_a_program_of_another_course_is_not_found(db: Session, course: Course, other_course: Course) -> None:
    program = planned_program(db, course)
    assert get_in_course(db, course.scope, Program, program.id) is program
    with pytest.raises(NotFoundInCourse):
        get_in_course(db, other_course.scope, Program, program.id)


def test_scoped_queries_return_only_the_courses_rows(db: Session, course: Course, other_course: Course) -> None:
    _, ours = running(db, course)
    _, theirs = running(db, other_course)
    record(db, ours, 1)
    record(db, theirs, 1)
    assert db.scalars(scoped(Team, course.scope)).all() == [ours]
    assert db.scalars(scoped(Team, other_course.scope)).all() == [theirs]
    assert {a.team_id for a in db.scalars(scoped(CycleAssignment, course.scope))} == {ours.id}
    assert [s.cycle.team_id for s in db.scalars(scoped(ElementSession, other_course.scope))] == [theirs.id]


# --- Eligibility from what the team recorded --------------------------------------------------------------------


def test_program_eligibility_reads_what_the_team_recorded(db: Session, course: Course) -> None:
    program, team = running(db, course, members=2, cycles=3)
    first, second = team.member_ids
    for cycle in (1, 2, 3):
        for element in ELEMENT_NUMBERS:
            record(db, team, element, cycle=cycle, hours=Decimal(2))
        buddy = second if team_plan(team)[cycle][0] == first else first
        submit_observation(db, team, cycle, buddy, FORM, NOW)
        for member in (first, second):
            submit_reflection(db, team, cycle, member, "สะท้อนผล", NOW)
    result = program_eligibility(db, program)
    assert result[first].eligible and result[second].eligible
    assert result[first].total_hours == Decimal(30)
    assert result[first].roles_played == {PlcRole.MODEL: (1, 3), PlcRole.BUDDY: (2,)}
