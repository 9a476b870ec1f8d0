"""Factories for synthetic domain data: a course with its people, a planned program with one team, a program in any
state, a recorded element session. Plain functions on a Session; they flush and never commit. The dates are the
calendar that the program rules are tested against."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from models.cycles import RecordedSession, record_session
from models.observations import ObservationForm
from models.people import Context, Membership, Person
from models.plan import team_plan
from models.platform import Deployment, Platform
from models.programs import (
    Program,
    ProgramDetails,
    approve,
    cancel,
    end,
    new_program,
    request_certificates,
    start,
    submit,
)
from models.roles import AppRole
from models.rotation import plan_rotation
from models.scope import CourseScope
from models.states import ProgramState
from models.synthetic import Size, seed_district
from models.teams import Team, add_team, add_team_member, apply_rotation

APPROVED_ON = date(2026, 6, 1)
STARTED_ON = date(2026, 6, 15)
TODAY = date(2026, 7, 1)
NOW = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)  # 10:00 in Bangkok
LAST_DAY = date(2027, 6, 1)
ENDED_ON = date(2027, 3, 31)


@dataclass
class Course:
    scope: CourseScope
    trainer: Membership
    admin: Membership
    teachers: list[Membership]


# A synthetic district small enough for tests that compare whole tables (models/synthetic.py's sizes are benchmarks').
TINY_DISTRICT = Size("tiny", networks=1, schools=3, teachers=60, teams=8, years=(2025, 2026))


def seed_tiny_district(db: Session, name: str) -> None:
    """TINY_DISTRICT's schools, teachers, programs and their records, in a course of its own, as of 20 Nov 2026."""
    seed_district(db, platform_of(db, name), TINY_DISTRICT, today=date(2026, 11, 20))


def platform_of(db: Session, name: str) -> Platform:
    """The platform of a new course of its own with no teachers (make_course): a tenant for a synthetic district."""
    course = make_course(db, name, teachers=0)
    found = db.get(Platform, course.scope.platform_id)
    assert found is not None
    return found


def make_course(db: Session, name: str, teachers: int = 8) -> Course:
    """A course on a platform of its own (issuer named after the course) with a trainer, an admin and teachers."""
    platform = Platform(
        issuer=f"https://lms.example.org/{name}",
        client_id="plc-bridge",
        auth_login_url="https://lms.example.org/auth",
        auth_token_url="https://lms.example.org/token",
        key_set_url="https://lms.example.org/certs",
    )
    context = Context(platform=platform, deployment=Deployment(platform=platform, deployment_id="1"), context_id=name)

    def member(sub: str, role: AppRole) -> Membership:
        return Membership(context=context, person=Person(platform=platform, sub=sub, name=sub), app_role=role.value)

    course = Course(
        CourseScope(0, 0),
        trainer=member("trainer", AppRole.TRAINER),
        admin=member("admin", AppRole.ADMIN),
        teachers=[member(f"teacher-{n}", AppRole.TEACHER) for n in range(1, teachers + 1)],
    )
    db.add_all([course.trainer, course.admin, *course.teachers])
    db.flush()
    course.scope = CourseScope(platform.id, context.id)
    return course


def program_with_figures(
    db: Session, course: Course, district_id: int, network_id: int | None, year: int, area: str, teachers: int
) -> Program:
    """A planned program of the course whose dashboard row (models/dashboard_stats.ProgramStats) is written as given:
    running, one team of `teachers`, one cycle, in `area` and ป.6, nothing else counted (a test sets the figures the
    public summaries work on, without recording them)."""
    from models.dashboard_stats import ProgramStats

    program = planned_program(db, course)
    db.add(ProgramStats(program_id=program.id, district_id=district_id, network_id=network_id, school_id=None,
                        year=year, state="running", learning_area=area, grade_level="ป.6", teams=1, teachers=teachers,
                        cycles=1, cycles_completed=0, teachers_eligible=0, teacher_hours=0, hours_e1=0, hours_e2=0,
                        hours_e3=0, hours_e4=0, hours_e5=0, model_lessons=0, observations=0, reflections=0,
                        reflections_graded=0))  # fmt: skip
    return program


def planned_program(db: Session, course: Course, members: int = 3, cycles: int = 3) -> Program:
    """A draft with one team whose plan comes from the rotation planner."""
    details = ProgramDetails(
        name="PLC คณิตศาสตร์ ป.4 (synthetic)",
        agency="สำนักงานเขตพื้นที่การศึกษาตัวอย่าง",
        planned_cycles=cycles,
        min_hours=Decimal("20"),
    )
    program = new_program(db, course.scope, details)
    team = add_team(db, program, "ทีมคณิต", facilitator_id=course.trainer.id)
    for teacher in course.teachers[:members]:
        add_team_member(db, team, teacher.id)
    apply_rotation(team, plan_rotation(team.member_ids, cycles))
    return program


NEXT: dict[ProgramState, Callable[[Program], None]] = {
    ProgramState.DRAFT: submit,
    ProgramState.SUBMITTED: lambda p: approve(p, APPROVED_ON, today=APPROVED_ON),
    ProgramState.APPROVED: lambda p: start(p, STARTED_ON),
    ProgramState.RUNNING: lambda p: end(p, ENDED_ON),
    ProgramState.ENDED: lambda p: request_certificates(p, ENDED_ON),
}


def program_in(db: Session, course: Course, state: ProgramState, members: int = 3, cycles: int = 3) -> Program:
    """A planned program taken through the Council's states (on the dates above) until it is in `state`."""
    program = planned_program(db, course, members, cycles)
    if state is ProgramState.CANCELLED:
        cancel(program)
    while program.state is not state:
        NEXT[program.state](program)
    return program


def running(db: Session, course: Course, members: int = 3, cycles: int = 3) -> tuple[Program, Team]:
    program = program_in(db, course, ProgramState.RUNNING, members, cycles)
    return program, program.teams[0]


def record(db: Session, team: Team, element: int, cycle: int = 1, **changes: object) -> RecordedSession:
    """Element `element` of `cycle`, held today for two hours by the whole team; `changes` override any field."""
    values: dict[str, object] = {
        "cycle_number": cycle,
        "element": element,
        "held_on": TODAY,
        "hours": Decimal("2"),
        "attendee_ids": team.member_ids,
        "recorded_by_id": team.member_ids[0],
        "today": TODAY,
    }
    values.update(changes)
    return record_session(db, team, **values)  # type: ignore[arg-type]


FORM = ObservationForm(
    lesson="เศษส่วน ป.4: แบ่งพิซซ่า (synthetic)",
    students_did="จับคู่แบ่งกระดาษเป็นส่วนเท่า ๆ กัน",
    students_learned="เปรียบเทียบ 1/2 กับ 1/4 ได้",
    evidence="ใบงาน 12 แผ่น",
    student_notes=[{"student": "นักเรียน ก", "note": "ยังสับสนตัวส่วน"}],
    suggestions="ให้เวลาอภิปรายมากขึ้น",
)


def buddy_and_model(team: Team, cycle: int = 1) -> tuple[int, int, list[int]]:
    model, buddies = team_plan(team)[cycle]
    assert model is not None
    return buddies[0], model, buddies
