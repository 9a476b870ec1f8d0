"""A person's learning records at their erasure: each statement the outbox holds about them is voided in every LRS
(xAPI 1.0.3 §2.3.2), and the outbox's own copies lose their e-mail and the grade comments written to them.

"About them" is a statement whose actor is the person (their LMS account or, where the platform shared it, their
e-mail). Another teacher's statement that names them (the Model Teacher in a Buddy's `observed`, the trainer of a
`scored`) is that teacher's record and stays; only the e-mail in it goes. Voiding hides a statement from an LRS's
queries; the LRS still keeps it, so its administrator purges it (the README says how).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.outbox import OutboxStatement
from models.people import Person
from models.platform import Platform
from xapi import outbox, statements
from xapi.events import EventContext
from xapi.vocabulary import Verb


@dataclass(frozen=True)
class Identity:
    """How the person appears in statements: their LMS account and, if the tool ever knew one, their e-mail."""

    issuer: str
    sub: str
    email: str | None

    def is_agent(self, agent: Any) -> bool:
        if not isinstance(agent, dict):
            return False
        if agent.get("account") == {"homePage": self.issuer, "name": self.sub}:
            return True
        return self.email is not None and agent.get("mbox") == f"mailto:{self.email}"

    def account(self) -> dict[str, Any]:
        return statements.Actor(self.issuer, self.sub).agent()


def identity(platform: Platform, person: Person) -> Identity:
    return Identity(platform.issuer, person.sub, person.email)


def _platform_statements(db: Session, platform_id: int) -> list[OutboxStatement]:
    return list(
        db.scalars(
            select(OutboxStatement)
            .where(OutboxStatement.platform_id == platform_id)
            .order_by(OutboxStatement.created_at, OutboxStatement.id)
        )
    )


def _voided_ids(rows: list[OutboxStatement]) -> set[str]:
    return {str(row.payload["object"]["id"]) for row in rows if row.verb == Verb.VOIDED}


def to_void(db: Session, platform: Platform, person: Person) -> list[str]:
    """The ids of the outbox's statements about the person that are not voided yet (a voiding statement is never
    voided itself: xAPI 1.0.3 §2.3.2)."""
    who = identity(platform, person)
    rows = _platform_statements(db, platform.id)
    voided = _voided_ids(rows)
    return [
        row.id
        for row in rows
        if row.verb != Verb.VOIDED and row.id not in voided and who.is_agent(row.payload.get("actor"))
    ]


def _without_person(value: Any, who: Identity) -> Any:
    """A statement's data with the person's e-mail agent replaced by their LMS account."""
    if isinstance(value, dict):
        if value.get("objectType", "Agent") == "Agent" and who.email and value.get("mbox") == f"mailto:{who.email}":
            return who.account()
        return {key: _without_person(item, who) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_person(item, who) for item in value]
    return value


def void_person(
    db: Session, settings: EventContext, platform: Platform, person: Person, by: Person, now: datetime
) -> int:
    """Write a voiding statement (the administrator `by` as its actor) for each statement about the person, into the
    outbox of every configured LRS; strip the person's e-mail and the comments to them from the outbox's copies.
    Call before the person's e-mail is erased. Returns how many statements are voided."""
    who = identity(platform, person)
    ids = to_void(db, platform, person)
    for row in _platform_statements(db, platform.id):
        payload = _without_person(row.payload, who)
        if who.is_agent(row.payload.get("actor")) and "response" in payload.get("result", {}):
            payload["result"] = {k: v for k, v in payload["result"].items() if k != "response"}  # a grade comment
        if payload != row.payload:
            row.payload = payload
    actor = statements.Actor(platform.issuer, by.sub)
    for statement_id in ids:
        outbox.record(
            db, statements.voided(str(uuid.uuid4()), actor, statement_id, now), platform.id, settings.lrs_names
        )
    return len(ids)
