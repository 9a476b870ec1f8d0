"""Buddy observations: which lesson a Buddy observes, and submitting the observation with its evidence files and
learning records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.services.actor import Actor
from lti_tool.services.evidence import EvidenceFiles
from models.base import utcnow
from models.cycles import Cycle
from models.errors import NotABuddy, ProgramError
from models.evidence import Upload
from models.observations import Observation, ObservationForm
from models.observations import submit_observation as save_observation
from models.people import Membership
from models.plan import PlcRole, role_in_cycle, team_plan
from models.teams import Team, team_of
from xapi import events
from xapi.events import EventContext


class NoModelTeacher(ProgramError):
    """The team's plan names no Model Teacher for the cycle, so there is no lesson to observe."""

    code = "no_model_teacher"

    def __init__(self, cycle: int) -> None:
        super().__init__(f"cycle {cycle} has no Model Teacher", number=cycle)


def observed_lesson(db: Session, actor: Actor, cycle_number: int) -> tuple[Team, Membership]:
    """The actor's team and the Model Teacher they observe in the cycle (NotABuddy unless they are its Buddy)."""
    team = team_of(db, actor.scope, actor.membership_id)
    if team is None or role_in_cycle(team, cycle_number, actor.membership_id) != PlcRole.BUDDY:
        raise NotABuddy(actor.membership_id, cycle_number)
    model_id = team_plan(team)[cycle_number][0]
    model = db.get(Membership, model_id) if model_id is not None else None
    if model is None:
        raise NoModelTeacher(cycle_number)
    return team, model


def own_observation(db: Session, team: Team, cycle_number: int, buddy_id: int) -> Observation | None:
    """What the Buddy submitted for the cycle so far, if anything."""
    return db.scalars(
        select(Observation)
        .join(Cycle)
        .where(Cycle.team_id == team.id, Cycle.number == cycle_number, Observation.buddy_id == buddy_id)
    ).one_or_none()


def submit_observation(
    db: Session,
    settings: EventContext,
    actor: Actor,
    cycle_number: int,
    form: ObservationForm,
    uploads: list[Upload],
    files: EvidenceFiles,
    *,
    now: datetime | None = None,
) -> Observation:
    """Submit (or resubmit) the Buddy's observation with any new evidence files and its learning records, at `now`
    (the clock's time unless given); a resubmission that changes nothing records nothing."""
    team, _model = observed_lesson(db, actor, cycle_number)
    me = actor.membership_id
    before = events.observation_fingerprint(db, own_observation(db, team, cycle_number, me))
    observation = save_observation(db, team, cycle_number, me, form, now or utcnow())
    files.attach(db, observation.cycle, uploads, me, observation=observation)
    events.observation_submitted(db, settings, team, observation, before)
    return observation
