"""Who read what (PDPA): the one place a page's read of another person's record is logged, in the request's
transaction, and the platform's site administrator's search of that log."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lti_tool.services.actor import Actor
from lti_tool.services.admin import NotAnAdministrator, administers_the_platform
from models.base import utcnow
from models.people import Membership
from models.read_log import ReadKind, ReadLogEntry, ReadPage, ReadRow, ReadSearch, all_reads, record_read, search_reads

PER_PAGE = 50


def log_read(db: Session, actor: Actor, whose: Membership | int, kind: ReadKind, record_id: int) -> ReadLogEntry | None:
    """Log the actor's read of `whose` record (a membership or its id); nothing when it is their own."""
    subject = whose if isinstance(whose, Membership) else db.get(Membership, whose)
    if subject is None:
        return None
    return record_read(db, actor.membership, subject, kind, record_id, utcnow())


def _platform(actor: Actor) -> int:
    if not administers_the_platform(actor.membership):
        raise NotAnAdministrator(actor.role)
    return actor.scope.platform_id


def search(db: Session, actor: Actor, wanted: ReadSearch, page: int = 1) -> ReadPage:
    """One page of the administrator's platform's read log (never another platform's)."""
    return search_reads(db, _platform(actor), wanted, page, PER_PAGE)


def export(db: Session, actor: Actor, wanted: ReadSearch) -> list[ReadRow]:
    """Every entry of the administrator's platform that matches, for the CSV download."""
    return all_reads(db, _platform(actor), wanted)
