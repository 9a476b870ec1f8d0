"""PLC teams (กลุ่ม PLC) of a program, their members and each member's role per cycle; changing them is changing
the plan, which freezes when the program starts."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, UniqueConstraint, bindparam, select, text
from sqlalchemy.orm import Mapped, Session, contains_eager, mapped_column, relationship

from models.base import Base, enum_values, utcnow
from models.errors import AlreadyInTeam, InvalidInput, MemberInactive, NotATeamMember, Problem
from models.people import Membership
from models.plan import PlcRole
from models.programs import Program, check_cycle_in_plan, check_plan_editable, course_membership
from models.roles import AppRole
from models.rotation import Rotation
from models.scope import CourseScope, register_scope_path, scope_parameters, scoped_statement
from models.states import ProgramState

if TYPE_CHECKING:
    from models.cycles import Cycle


class Team(Base):
    """A PLC team (กลุ่ม PLC) of a program, with the member who facilitates it."""

    __tablename__ = "plc_teams"
    __table_args__ = (UniqueConstraint("program_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("plc_programs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    program: Mapped[Program] = relationship(back_populates="teams")
    facilitator: Mapped[Membership | None] = relationship()
    members: Mapped[list[TeamMember]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="TeamMember.id"
    )
    assignments: Mapped[list[CycleAssignment]] = relationship(
        back_populates="team",
        cascade="all, delete-orphan",
        order_by="(CycleAssignment.cycle_number, CycleAssignment.id)",
    )
    cycles: Mapped[list[Cycle]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="Cycle.number"
    )

    @property
    def member_ids(self) -> list[int]:
        return [m.membership_id for m in self.members]


class TeamMember(Base):
    __tablename__ = "plc_team_members"
    __table_args__ = (UniqueConstraint("team_id", "membership_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("plc_teams.id", ondelete="CASCADE"))
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), index=True)

    team: Mapped[Team] = relationship(back_populates="members")
    membership: Mapped[Membership] = relationship()


class CycleAssignment(Base):
    """A member's planned role in one cycle of their team."""

    __tablename__ = "plc_cycle_assignments"
    __table_args__ = (
        UniqueConstraint("team_id", "cycle_number", "membership_id"),
        CheckConstraint("cycle_number >= 1", name="cycle_number_positive"),
        # One Model Teacher per team and cycle.
        Index(
            "uq_plc_cycle_assignments_one_model",
            "team_id",
            "cycle_number",
            unique=True,
            sqlite_where=text("role = 'model'"),
            postgresql_where=text("role = 'model'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("plc_teams.id", ondelete="CASCADE"))
    cycle_number: Mapped[int]
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), index=True)
    role: Mapped[PlcRole] = mapped_column(
        Enum(
            PlcRole, name="plc_role", native_enum=False, create_constraint=True, length=16, values_callable=enum_values
        )
    )

    team: Mapped[Team] = relationship(back_populates="assignments")


register_scope_path(Team, (Team.program,))
register_scope_path(TeamMember, (TeamMember.team, Team.program))
register_scope_path(CycleAssignment, (CycleAssignment.team, Team.program))


def add_team(db: Session, program: Program, name: str, facilitator_id: int | None = None) -> Team:
    check_plan_editable(program)
    if not name.strip():
        raise InvalidInput([Problem("name", "required", {})])
    if any(team.name == name for team in program.teams):
        raise InvalidInput([Problem("name", "taken", {"name": name})])
    if facilitator_id is not None:
        course_membership(db, program, facilitator_id)
    team = Team(name=name, facilitator_id=facilitator_id)
    program.teams.append(team)
    db.flush()
    return team


def set_facilitator(db: Session, team: Team, membership_id: int | None) -> None:
    """The facilitator may be a trainer or a member of the team; a plan change like any other."""
    check_plan_editable(team.program)
    if membership_id is not None:
        course_membership(db, team.program, membership_id)
    team.facilitator_id = membership_id


def remove_team(db: Session, team: Team) -> None:
    check_plan_editable(team.program)
    # Flush first: SQLAlchemy 2.1 tries to DELETE the team's still-pending rows by an id they do not have yet.
    db.flush()
    team.program.teams.remove(team)
    db.flush()


def add_team_member(db: Session, team: Team, membership_id: int) -> TeamMember:
    check_plan_editable(team.program)
    membership = course_membership(db, team.program, membership_id)
    if not membership.is_active:
        raise MemberInactive(membership_id, membership.person.name or membership.person.sub)
    for other in team.program.teams:
        if membership_id in other.member_ids:
            raise AlreadyInTeam(membership_id, other.name)
    member = TeamMember(membership_id=membership_id)
    team.members.append(member)
    db.flush()
    return member


def remove_team_member(team: Team, membership_id: int) -> None:
    """Takes the member and their planned roles out of the team."""
    check_plan_editable(team.program)
    require_member(team, membership_id)
    team.members = [m for m in team.members if m.membership_id != membership_id]
    team.assignments = [a for a in team.assignments if a.membership_id != membership_id]


def assign_cycle(team: Team, cycle_number: int, model_id: int, buddy_ids: Collection[int]) -> None:
    """Set who is the Model Teacher and who are the Buddies in one cycle, replacing what was planned."""
    check_plan_editable(team.program)
    check_cycle_in_plan(team.program, cycle_number)
    for membership_id in (model_id, *buddy_ids):
        require_member(team, membership_id)
    if model_id in buddy_ids:
        raise InvalidInput([Problem("buddies", "model_is_buddy", {"member_id": model_id})])
    team.assignments = [a for a in team.assignments if a.cycle_number != cycle_number]
    team.assignments.append(CycleAssignment(cycle_number=cycle_number, membership_id=model_id, role=PlcRole.MODEL))
    team.assignments.extend(
        CycleAssignment(cycle_number=cycle_number, membership_id=buddy, role=PlcRole.BUDDY)
        for buddy in dict.fromkeys(buddy_ids)
    )


def apply_rotation(team: Team, rotation: Rotation) -> None:
    """Replace the team's whole plan with a rotation (from `models.rotation.plan_rotation`)."""
    check_plan_editable(team.program)
    team.assignments = []
    for cycle_number, (model_id, buddy_ids) in sorted(rotation.items()):
        assign_cycle(team, cycle_number, model_id, buddy_ids)


def team_of(db: Session, scope: CourseScope, membership_id: int) -> Team | None:
    """The member's team in the course's current program (its newest not cancelled), if any (a teacher is in one
    team per program); never a team of a cancelled or an earlier program. Read with its program."""
    return program_and_team_of(db, scope, membership_id)[1]


def require_member(team: Team, membership_id: int) -> None:
    if membership_id not in team.member_ids:
        raise NotATeamMember(membership_id, team.name)


def program_and_team_of(db: Session, scope: CourseScope, membership_id: int) -> tuple[Program | None, Team | None]:
    """The course's current program (its newest not cancelled) and the member's team in it, in one statement: a
    teacher's landing page, whether the course has no program yet, they are in no team of it, or in one."""
    row = db.execute(_program_and_team_query(), {**scope_parameters(scope), "membership_id": membership_id}).first()
    return (row[0], row[1]) if row is not None else (None, None)


@cache
def _program_and_team_query() -> Any:
    mine = select(TeamMember.team_id).where(TeamMember.membership_id == bindparam("membership_id"))
    return (
        scoped_statement(Program)
        .add_columns(Team)
        .outerjoin(Team, (Team.program_id == Program.id) & Team.id.in_(mine))
        .where(Program.state != ProgramState.CANCELLED)
        .order_by(Program.id.desc(), Team.id)
        .limit(1)
        .options(contains_eager(Team.program))  # the team's program is the row's: no load of it later
    )


def may_record_for_team(viewer: Membership, team: Team) -> bool:
    """Members and the facilitator record their team's sessions; the course's trainers may record for any team."""
    if viewer.context_id != team.program.context_id:
        return False
    return viewer.id in team.member_ids or viewer.id == team.facilitator_id or viewer.app_role == AppRole.TRAINER


def may_read_team(viewer: Membership, team: Team) -> bool:
    """A team's members and facilitator, and the course's trainers and (supporting, read-only) administrators."""
    if viewer.context_id != team.program.context_id:
        return False
    return may_record_for_team(viewer, team) or viewer.app_role == AppRole.ADMIN
