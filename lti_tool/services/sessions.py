"""Use case of an element session: a team records one of the Council's five elements of a cycle, with its hours, who
came and its evidence files, and everyone present gets the learning record of having attended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from lti_tool.services.actor import Actor
from lti_tool.services.cycles import require_team_recorder
from lti_tool.services.evidence import EvidenceFiles
from lti_tool.settings import Settings
from models import cycles
from models.errors import Notice
from models.evidence import Upload
from models.teams import Team
from xapi import events


@dataclass(frozen=True)
class SessionEntry:
    """A session as the team enters it."""

    cycle_number: int
    element: int
    held_on: date
    hours: Decimal
    attendee_ids: list[int]
    notes: str = ""


@dataclass(frozen=True)
class SessionRecorded:
    session: cycles.ElementSession
    notices: list[Notice]  # allowed but worth saying, such as an element recorded out of the Council's order


def record_session(
    db: Session,
    settings: Settings,
    actor: Actor,
    team: Team,
    entry: SessionEntry,
    uploads: list[Upload],
    files: EvidenceFiles,
    *,
    today: date,
) -> SessionRecorded:
    """Record a session with its evidence files (kept in `files`, which the edge takes off the disk again unless its
    transaction commits) and the attendees' learning records. A refused field (InvalidInput) or file
    (EvidenceRefused) raises, and the caller's transaction must then roll back."""
    require_team_recorder(actor, team)
    recorded = cycles.record_session(
        db,
        team,
        cycle_number=entry.cycle_number,
        element=entry.element,
        held_on=entry.held_on,
        hours=entry.hours,
        attendee_ids=entry.attendee_ids,
        recorded_by_id=actor.membership_id,
        today=today,
        notes=entry.notes,
    )
    session = recorded.session
    files.attach(db, session.cycle, uploads, actor.membership_id, session=session)
    events.session_recorded(db, settings, team, recorded)
    return SessionRecorded(session, recorded.notices)
