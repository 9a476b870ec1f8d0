"""Use cases of a team's cycle: the student learning problem it targets with its baseline and result, and the team's
tracking forms (config/forms). The team's members and facilitator and the course's trainers write them while the
program runs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.services.actor import Actor
from models import corrections
from models.base import utcnow
from models.cycles import Cycle, CycleTarget, open_cycle, record_cycle_result, set_cycle_target
from models.errors import NotATeamMember
from models.forms import FormEntry, save_form
from models.teams import Team, may_record_for_team


def require_team_recorder(actor: Actor, team: Team) -> None:
    """Refuse anyone who may not write the team's records (models.teams.may_record_for_team)."""
    if not may_record_for_team(actor.membership, team):
        raise NotATeamMember(actor.membership_id, team.name)


def save_cycle_target(
    db: Session,
    actor: Actor,
    team: Team,
    number: int,
    target: CycleTarget,
    result: str,
    result_value: Decimal | None,
    *,
    today: date,
) -> Cycle:
    """Keep what cycle `number` aims at and what came of it, opening the cycle on first use."""
    require_team_recorder(actor, team)
    cycle = open_cycle(db, team, number, today)
    set_cycle_target(cycle, target, today, result_value)
    record_cycle_result(cycle, result, result_value, today)
    return cycle


def save_tracking_form(
    db: Session,
    actor: Actor,
    team: Team,
    number: int,
    slug: str,
    answers: Mapping[str, str],
    *,
    today: date,
    reason: str = "",
    now: datetime | None = None,
) -> FormEntry:
    """Keep the team's answers to tracking form `slug` in cycle `number`, checked against its template. Saving a
    form the team already saved corrects it under the rules of models/corrections.py (a trainer after the end, with
    a reason; the answers before and after kept). Tracking forms have no learning record."""
    require_team_recorder(actor, team)
    entry = saved_form(db, team, number, slug)
    if entry is None:
        return save_form(db, team, number, slug, dict(answers), actor.membership, today)
    corrections.correct_form(db, entry, dict(answers), changer=actor.membership, reason=reason, now=now or utcnow())
    return entry


def withdraw_tracking_form(
    db: Session, actor: Actor, team: Team, number: int, slug: str, *, reason: str, now: datetime
) -> corrections.RecordChange | None:
    """Withdraw the team's saved form `slug` of cycle `number` under the rules of a correction (None when there is
    none to withdraw); it shows as not filled in and may be filled in again, its history keeps the answers."""
    require_team_recorder(actor, team)
    entry = saved_form(db, team, number, slug)
    if entry is None:
        return None
    return corrections.withdraw_form(db, entry, changer=actor.membership, reason=reason, now=now)


def saved_form(db: Session, team: Team, number: int, slug: str) -> FormEntry | None:
    """The team's saved answers to form `slug` in cycle `number`, if any."""
    cycle = next((c for c in team.cycles if c.number == number), None)
    if cycle is None:
        return None
    return db.scalars(select(FormEntry).where(FormEntry.cycle_id == cycle.id, FormEntry.form == slug)).one_or_none()
