"""Use case of an element session: a team records one of the Council's five elements of a cycle, with its hours, who
came and its evidence files, and everyone present gets the learning record of having attended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from lti_tool.services.actor import Actor
from lti_tool.services.cycles import require_team_recorder
from lti_tool.services.evidence import EvidenceFiles
from lti_tool.settings import Settings
from models import corrections, cycles
from models.errors import NotFoundInCourse, Notice
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
    check_duplicates: bool = False  # the team's form asks first; its "record anyway" posts again without the check

    def values(self) -> corrections.SessionValues:
        return corrections.SessionValues(
            self.cycle_number, self.element, self.held_on, self.hours, frozenset(self.attendee_ids), self.notes
        )


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
        check_duplicates=entry.check_duplicates,
    )
    session = recorded.session
    files.attach(db, session.cycle, uploads, actor.membership_id, session=session)
    events.session_recorded(db, settings, team, recorded)
    return SessionRecorded(session, recorded.notices)


def team_session(db: Session, team: Team, session_id: int) -> cycles.ElementSession:
    """One live session of the team (NotFoundInCourse otherwise)."""
    session = db.get(cycles.ElementSession, session_id)
    if session is None or session.cycle.team_id != team.id or session.withdrawn_at is not None:
        raise NotFoundInCourse("session", session_id)
    return session


def correct_session(
    db: Session,
    settings: Settings,
    actor: Actor,
    team: Team,
    session_id: int,
    entry: SessionEntry,
    reason: str,
    *,
    today: date,
    now: datetime,
) -> corrections.SessionChanged:
    """Correct a recorded session (every field, attendance included), keeping its history; the earlier learning
    records are voided and the corrected ones recorded, with completions following, in the caller's transaction."""
    require_team_recorder(actor, team)
    session = team_session(db, team, session_id)
    changed = corrections.correct_session(
        db, session, entry.values(), changer=actor.membership, reason=reason, today=today, now=now
    )
    events.session_changed(db, settings, team, changed, actor.membership)
    return changed


def withdraw_session(
    db: Session, settings: Settings, actor: Actor, team: Team, session_id: int, reason: str, *, now: datetime
) -> corrections.SessionChanged:
    """Withdraw a recorded session: it counts nowhere any more and its learning records are voided."""
    require_team_recorder(actor, team)
    session = team_session(db, team, session_id)
    changed = corrections.withdraw_session(db, session, changer=actor.membership, reason=reason, now=now)
    events.session_changed(db, settings, team, changed, actor.membership)
    return changed
