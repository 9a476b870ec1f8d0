"""Use cases of competency growth: a program's chosen target competencies, a teacher's self-assessment at the start
and end, a trainer's rating, and what each reader may see (a teacher their own, a trainer the course's teams).
Each writes its learning records (`assessed`, and `voided` for a changed rating) in the caller's transaction, and a
teacher's own rating updates the program's rows of the dashboard's assessed growth in it too."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from lti_tool.services.actor import Actor
from lti_tool.services.programs import course_program, require_program_editor
from models import assessments
from models.assessments import Assessment, Phase, Profile, RaterKind
from models.base import utcnow
from models.errors import NotATeamMember, NotATrainer, NotFoundInCourse
from models.programs import Program, lock
from models.roles import AppRole
from models.teams import Team, team_of
from xapi import events
from xapi.events import EventContext

RATERS = frozenset({AppRole.TRAINER})  # who may add their own rating of a teacher


def choose_targets(db: Session, actor: Actor, codes: list[str]) -> Program:
    """The course's program aims at these competencies; set with the plan, while it is a draft."""
    require_program_editor(actor)
    program = course_program(db, actor.scope)
    if program is None:
        raise NotFoundInCourse("program", 0)
    lock(program)
    assessments.set_targets(program, codes)
    return program


def _program_and_team(db: Session, actor: Actor, membership_id: int) -> tuple[Program, Team]:
    program = course_program(db, actor.scope)
    team = team_of(db, actor.scope, membership_id)
    if program is None or team is None or team.program_id != program.id:
        raise NotATeamMember(membership_id, team.name if team else "")
    return program, team


def assess_self(
    db: Session,
    settings: EventContext,
    actor: Actor,
    phase: Phase,
    levels: Mapping[str, int],
    *,
    now: datetime | None = None,
) -> list[Assessment]:
    """The actor rates themself on their program's target competencies, or changes their rating, while the phase
    is open. InvalidInput names each competency not rated with one of the scale's levels."""
    program, team = _program_and_team(db, actor, actor.membership_id)
    lock(program)
    rated = assessments.rate(
        db, program, actor.membership_id, actor.membership_id, RaterKind.SELF, phase, levels, now or utcnow()
    )
    events.competency_assessed(db, settings, team, rated, actor.membership)
    return [r.assessment for r in rated]


def rate_teacher(
    db: Session,
    settings: EventContext,
    actor: Actor,
    membership_id: int,
    phase: Phase,
    levels: Mapping[str, int],
    *,
    now: datetime | None = None,
) -> list[Assessment]:
    """A trainer's own rating of a teacher of the course's program (optional; beside the teacher's own)."""
    if actor.role not in RATERS:
        raise NotATrainer(actor.role)
    program, team = _program_and_team(db, actor, membership_id)
    lock(program)
    rated = assessments.rate(db, program, membership_id, actor.membership_id, RaterKind.TRAINER, phase, levels,
                             now or utcnow())  # fmt: skip
    events.competency_assessed(db, settings, team, rated, actor.membership)
    return [r.assessment for r in rated]


def own_profile(db: Session, actor: Actor) -> tuple[Program, list[Profile]]:
    """The actor's own levels, before and after, on their program's targets."""
    program, _team = _program_and_team(db, actor, actor.membership_id)
    rows = assessments.assessments_of(db, program, [actor.membership_id])
    return program, assessments.profile(rows, assessments.targets(program))


def team_profiles(db: Session, actor: Actor, team_id: int) -> tuple[Team, dict[int, list[Profile]]]:
    """Every member's levels in one team of the course's program: for the course's trainers and administrators."""
    if actor.role not in {AppRole.TRAINER, AppRole.ADMIN}:
        raise NotATrainer(actor.role)
    program = course_program(db, actor.scope)
    team = next((t for t in program.teams if t.id == team_id), None) if program else None
    if program is None or team is None:
        raise NotFoundInCourse("team", team_id)
    rows = assessments.assessments_of(db, program, list(team.member_ids))
    codes = assessments.targets(program)
    return team, {m: assessments.profile([r for r in rows if r.membership_id == m], codes) for m in team.member_ids}
