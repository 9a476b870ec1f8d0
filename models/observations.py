"""Buddy observations: a Buddy's record of the Model Teacher's lesson, and who may read it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, utcnow
from models.calendar import program_day
from models.cycles import Cycle, open_cycle
from models.errors import NotABuddy, NotYourObservation
from models.people import Membership
from models.plan import team_plan
from models.programs import check_recording_allowed
from models.roles import AppRole
from models.scope import CourseScope, get_in_course, register_scope_path, scoped
from models.teams import Team


class Observation(Base):
    """A Buddy's record of their Model Teacher's lesson: what students did and learned."""

    __tablename__ = "plc_observations"
    __table_args__ = (UniqueConstraint("cycle_id", "buddy_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("plc_cycles.id", ondelete="CASCADE"))
    buddy_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    lesson: Mapped[str] = mapped_column(Text, default="")
    students_did: Mapped[str] = mapped_column(Text, default="")
    students_learned: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    # [{"student": "…", "note": "…"}, …]: what the Buddy saw of each student followed.
    student_notes: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    suggestions: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A withdrawn observation stays in the table and its history, and counts nowhere any more.
    withdrawn_at: Mapped[datetime | None] = mapped_column(default=None)
    # The current `observed` statement's id, so that a correction or withdrawal voids exactly that one.
    statement_id: Mapped[str | None] = mapped_column(String(36), default=None)

    cycle: Mapped[Cycle] = relationship()


register_scope_path(Observation, (Observation.cycle, Cycle.team, Team.program))

OBSERVATION_IS_LIVE = Observation.withdrawn_at.is_(None)


@dataclass(frozen=True)
class ObservationForm:
    """The Buddy-observation form: the lesson, what students did and learned, evidence, notes, suggestions."""

    lesson: str
    students_did: str
    students_learned: str
    evidence: str = ""
    student_notes: list[dict[str, str]] = field(default_factory=list)
    suggestions: str = ""


def submit_observation(
    db: Session, team: Team, cycle_number: int, buddy_id: int, form: ObservationForm, now: datetime
) -> Observation:
    """A Buddy's observation of the cycle's Model Teacher; submitting again replaces the Buddy's earlier text (and
    brings a withdrawn observation back)."""
    check_recording_allowed(team.program, program_day(now))
    plan = team_plan(team).get(cycle_number, (None, []))
    model_id, buddy_ids = plan
    if buddy_id not in buddy_ids or model_id is None:
        raise NotABuddy(buddy_id, cycle_number)
    cycle = open_cycle(db, team, cycle_number, program_day(now))
    observation = db.scalars(
        select(Observation).where(Observation.cycle_id == cycle.id, Observation.buddy_id == buddy_id)
    ).one_or_none()
    if observation is None:
        observation = Observation(cycle=cycle, buddy_id=buddy_id)
        db.add(observation)
    observation.model_id = model_id
    for item in fields(form):
        setattr(observation, item.name, getattr(form, item.name))
    observation.submitted_at = now
    observation.withdrawn_at = None
    db.flush()
    return observation


def may_read_observation(viewer: Membership, observation: Observation) -> bool:
    """The Buddy who wrote it, the Model Teacher observed, and trainers of the observation's course."""
    if viewer.context_id != observation.cycle.team.program.context_id:
        return False
    return viewer.id in (observation.buddy_id, observation.model_id) or viewer.app_role == AppRole.TRAINER


def open_observation(db: Session, scope: CourseScope, viewer: Membership, observation_id: int) -> Observation:
    """The observation, if the viewer may read it (NotYourObservation otherwise)."""
    observation = get_in_course(db, scope, Observation, observation_id)
    if not may_read_observation(viewer, observation):
        raise NotYourObservation(viewer.id, observation_id)
    return observation


def observations_for(db: Session, scope: CourseScope, viewer: Membership) -> list[Observation]:
    """The course's observations that the viewer may read, by cycle."""
    rows = db.scalars(
        scoped(Observation, scope).where(OBSERVATION_IS_LIVE).order_by(Cycle.team_id, Cycle.number, Observation.id)
    )
    return [o for o in rows if may_read_observation(viewer, o)]
