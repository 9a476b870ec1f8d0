"""A site administrator erases a person at their request (Thailand's PDPA): finding them on the platform, saying
beforehand what goes and what stays, and the erasure itself with its learning records voided in every LRS, in the
caller's transaction. What stays and what goes is `models/erasure.py`'s reading; the evidence files leave the disk at
the edge once the transaction has committed (as a removed file does, `web/views/evidence.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lti_tool.services.actor import Actor
from lti_tool.services.admin import NotAnAdministrator, administers_the_platform
from models import erasure
from models.base import utcnow
from models.errors import InvalidInput, NotFoundInCourse
from models.people import Person
from models.platform import Platform
from xapi import erasure as records
from xapi.events import EventContext

MAX_FOUND = 50


@dataclass(frozen=True)
class ErasurePreview:
    """What an erasure of this person would do: the tool's holdings, and the learning records it would void."""

    held: erasure.Holdings
    learning_records: int


@dataclass(frozen=True)
class Erased:
    erasure: erasure.PersonErasure
    learning_records: int
    stored_files: list[str]  # evidence files' names in the evidence folder, for the caller to delete after commit


def _platform_of(actor: Actor) -> int:
    if not administers_the_platform(actor.membership):
        raise NotAnAdministrator(actor.role)
    return actor.scope.platform_id


def find_people(db: Session, actor: Actor, query: str) -> list[Person]:
    """People of the administrator's platform whose name holds `query`, or whose LMS user id is `query`."""
    platform_id = _platform_of(actor)
    text = query.strip()
    if not text:
        return []
    pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(
        db.scalars(
            select(Person)
            .where(
                Person.platform_id == platform_id,
                or_(func.lower(Person.name).like(pattern, escape="\\"), Person.sub == text),
            )
            .order_by(Person.name, Person.id)
            .limit(MAX_FOUND)
        )
    )


def person_of_the_platform(db: Session, actor: Actor, person_id: int) -> Person:
    """A person of the administrator's platform; NotFoundInCourse for another platform's or none."""
    person = db.get(Person, person_id)
    if person is None or person.platform_id != _platform_of(actor):
        raise NotFoundInCourse("Person", person_id)
    return person


def preview_erasure(db: Session, actor: Actor, person_id: int) -> ErasurePreview:
    """What erasing the person would take away and keep; reading it changes nothing."""
    person = person_of_the_platform(db, actor, person_id)
    platform = db.get(Platform, person.platform_id)
    assert platform is not None
    return ErasurePreview(erasure.holdings(db, person), len(records.to_void(db, platform, person)))


def erase_person(
    db: Session, settings: EventContext, actor: Actor, person_id: int, pseudonym: str, reason: str
) -> Erased:
    """Erase the person under the district's pseudonym, void their learning records in every LRS and keep the
    erasure (who, when, why, the pseudonym). InvalidInput for a bad pseudonym or reason, AlreadyErased,
    CannotEraseYourself, NotAnAdministrator and NotFoundInCourse refuse it; nothing is changed then."""
    person = person_of_the_platform(db, actor, person_id)
    if person.id == actor.membership.person_id:
        raise erasure.CannotEraseYourself(person.id)
    if person.erased_at is not None:
        raise erasure.AlreadyErased(person.id)
    if problems := erasure.pseudonym_problems(db, person.platform_id, pseudonym, reason):
        raise InvalidInput(problems)
    platform = db.get(Platform, person.platform_id)
    assert platform is not None
    now = utcnow()
    voided = records.void_person(db, settings, platform, person, actor.membership.person, now)
    held = erasure.holdings(db, person)
    kept, stored = erasure.erase(
        db, held, pseudonym=pseudonym, reason=reason, erased_by_id=actor.membership.person_id, now=now
    )
    kept.counts = {**kept.counts, "learning_records": voided}
    db.flush()
    return Erased(kept, voided, stored)
