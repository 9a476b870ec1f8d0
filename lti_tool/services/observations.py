"""Buddy observations: which lesson a Buddy observes, and submitting the observation with its evidence files and
learning records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.services import notices
from lti_tool.services.actor import Actor
from lti_tool.services.evidence import EvidenceFiles
from models import corrections
from models.base import utcnow
from models.cycles import Cycle
from models.errors import NotABuddy, NotFoundInCourse, ProgramError
from models.evidence import Upload
from models.observations import Observation, ObservationForm, observations_for, open_observation
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


@dataclass(frozen=True)
class CyclePart:
    """What a teacher has to do with the observations of cycle `number` of their team: as its Buddy, fill in the
    form; as its Model Teacher, read what each Buddy wrote of their lesson (`lesson`: every Buddy of the plan with
    their observation, or None while it is not written); otherwise nothing, and `roles` says in which cycles of
    their team's plan they do have a part (empty without a team)."""

    number: int
    team: Team | None
    role: PlcRole | None
    lesson: list[tuple[Membership, Observation | None]] = field(default_factory=list)
    roles: dict[int, PlcRole] = field(default_factory=dict)


def part_in_cycle(db: Session, actor: Actor, number: int) -> CyclePart:
    """The actor's part in cycle `number` of their team in the course's current program (reading changes nothing)."""
    team = team_of(db, actor.scope, actor.membership_id)
    if team is None:
        return CyclePart(number, None, None)
    me = actor.membership_id
    roles = {a.cycle_number: a.role for a in team.assignments if a.membership_id == me}
    role = roles.get(number)
    lesson: list[tuple[Membership, Observation | None]] = []
    if role is PlcRole.MODEL:
        written = {
            o.buddy_id: o
            for o in observations_for(db, actor.scope, actor.membership)
            if o.cycle.team_id == team.id and o.cycle.number == number and o.model_id == me
        }
        _model, buddy_ids = team_plan(team)[number]
        for buddy_id in [*buddy_ids, *(b for b in written if b not in buddy_ids)]:
            buddy = db.get(Membership, buddy_id)
            if buddy is not None:
                lesson.append((buddy, written.get(buddy_id)))
    return CyclePart(number, team, role, lesson, dict(sorted(roles.items())))


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
    team, model = observed_lesson(db, actor, cycle_number)
    me = actor.membership_id
    earlier = own_observation(db, team, cycle_number, me)
    live = earlier if earlier is not None and earlier.withdrawn_at is None else None
    before = events.observation_fingerprint(db, live)
    earlier_values = corrections.observation_values(live) if live is not None else None
    observation = save_observation(db, team, cycle_number, me, form, now or utcnow())
    if earlier_values is not None and earlier_values != form:  # the Buddy rewrote it: kept in its history too
        corrections.keep_change(
            db, team.program, corrections.OBSERVATION, observation.id, action="corrected", changed_by_id=me,
            before=corrections.observation_json(earlier_values), after=corrections.observation_json(form), reason="",
            now=observation.submitted_at,
        )  # fmt: skip
    files.attach(db, observation.cycle, uploads, me, observation=observation)
    events.observation_submitted(db, settings, team, observation, before)
    if live is None:  # a first submission (or one after a withdrawal) is news to the Model Teacher; a rewrite is not
        notices.observation_arrived(db, observation, model)
    return observation


def changeable_observation(db: Session, actor: Actor, observation_id: int) -> Observation:
    """A live observation of the course that the actor may read (NotFoundInCourse for a withdrawn one)."""
    observation = open_observation(db, actor.scope, actor.membership, observation_id)
    if observation.withdrawn_at is not None:
        raise NotFoundInCourse("observation", observation_id)
    return observation


def correct_observation(
    db: Session, settings: EventContext, actor: Actor, observation_id: int, form: ObservationForm, reason: str,
    *, now: datetime,
) -> corrections.ObservationChanged:  # fmt: skip
    """The Buddy who wrote it or a course trainer corrects every field of an observation, keeping its history; the
    earlier `observed` statement is voided and the corrected one recorded, with completions following."""
    observation = changeable_observation(db, actor, observation_id)
    changed = corrections.correct_observation(db, observation, form, changer=actor.membership, reason=reason, now=now)
    events.observation_changed(db, settings, observation.cycle.team, changed, actor.membership)
    return changed


def withdraw_observation(
    db: Session, settings: EventContext, actor: Actor, observation_id: int, reason: str, *, now: datetime
) -> corrections.ObservationChanged:
    """Withdraw an observation: it counts nowhere any more, its `observed` statement is voided, completions that no
    longer hold are voided."""
    observation = changeable_observation(db, actor, observation_id)
    changed = corrections.withdraw_observation(db, observation, changer=actor.membership, reason=reason, now=now)
    events.observation_changed(db, settings, observation.cycle.team, changed, actor.membership)
    return changed
