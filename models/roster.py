"""A course roster as the platform lists it (LTI NRPS), applied to people and memberships in one go.

Members who never launched the tool get their Person and Membership rows here, so a trainer can put them in a team
before they first open PLC Bridge. The rows are read and written in batches: a course of thousands stays quick.

A roster read whole is the course as it is: a member it leaves out has left the course (Moodle's NRPS lists active
enrolments only, so a suspended or unenrolled member is missing rather than listed as Inactive). They are marked
inactive with the time, like a member listed as Inactive, and kept with everything they did; listed again, they are
active again. Only a complete read may say so: the caller applies a roster only when every page was read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.people import ACTIVE, INACTIVE, Context, Membership, Person
from models.roles import app_role_for

BATCH = 500  # rows per IN (...) list and per bulk statement: well under every database's parameter limit
MAX_SUB = 255  # OpenID Connect Core §2: a `sub` never exceeds 255 ASCII characters; people.sub holds exactly that


@dataclass(frozen=True)
class RosterMember:
    """One member of the roster: `user_id` is the LTI `sub` the person launches with."""

    user_id: str
    roles: tuple[str, ...]
    status: str = ACTIVE
    name: str = ""
    given_name: str = ""
    family_name: str = ""
    email: str | None = None


@dataclass(frozen=True)
class RosterChange:
    people_added: int
    memberships_added: int
    memberships_updated: int
    skipped_roles: int  # members whose roles map to no app role (observers, mentors, …)
    # Members whose user_id is longer than a `sub` may be (OIDC Core §2): no launch can ever be theirs, and cutting
    # the id short could make two people one, so they are left out (and logged by the caller).
    skipped_ids: int = 0
    left: int = 0  # members who became inactive: listed as Inactive, or missing from the roster
    returned: int = 0  # inactive members listed as Active again


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[i : i + BATCH] for i in range(0, len(items), BATCH)]


def sync_roster(
    db: Session, context: Context, members: Sequence[RosterMember], now: datetime, read_from: datetime | None = None
) -> RosterChange:
    """Upsert people and memberships of `context` from a whole roster; statuses and roles follow the platform, and a
    member the roster leaves out is inactive from `now`. `read_from` is when the read began: someone whose first
    launch came after it may be missing from what was read, and is left as they are."""
    read_from = now if read_from is None else read_from
    wanted: dict[str, tuple[RosterMember, str]] = {}
    skipped = skipped_ids = 0
    for member in members:
        if len(member.user_id) > MAX_SUB:
            skipped_ids += 1
            continue
        mapped = app_role_for(member.roles)
        if mapped is None:
            skipped += 1
            continue
        wanted[member.user_id] = (member, mapped.value)

    subs = list(wanted)
    people: dict[str, int] = {}
    for chunk in _chunks(subs):
        people.update(
            (sub, person_id)
            for sub, person_id in db.execute(
                select(Person.sub, Person.id).where(Person.platform_id == context.platform_id, Person.sub.in_(chunk))
            ).all()
        )
    new_people = [
        {
            "platform_id": context.platform_id,
            "sub": sub,
            "name": (member.name or " ".join(filter(None, [member.given_name, member.family_name])))[:255],
            "given_name": member.given_name[:255],
            "family_name": member.family_name[:255],
            "email": member.email[:320] if member.email else None,
            "created_at": now,
            "updated_at": now,
        }
        for sub, (member, _role) in wanted.items()
        if sub not in people
    ]
    # ON CONFLICT DO NOTHING, then read back: another trainer's roster read or the person's own first launch may
    # have added the same person since the read above (unique platform_id + sub); theirs is the row to use.
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    people_added = 0
    for chunk in _chunks(new_people):
        people_added += len(
            db.execute(
                insert(Person).on_conflict_do_nothing(index_elements=["platform_id", "sub"]).returning(Person.id),
                list(chunk),
            ).all()
        )
    if new_people:
        for chunk in _chunks([row["sub"] for row in new_people]):
            people.update(
                (sub, person_id)
                for sub, person_id in db.execute(
                    select(Person.sub, Person.id).where(
                        Person.platform_id == context.platform_id, Person.sub.in_(chunk)
                    )
                ).all()
            )

    existing: dict[int, tuple[int, str, str, list[str], datetime | None]] = {}
    for chunk in _chunks([people[sub] for sub in subs]):
        for row in db.execute(
            select(
                Membership.person_id,
                Membership.id,
                Membership.app_role,
                Membership.status,
                Membership.lti_roles,
                Membership.inactive_since,
            ).where(Membership.context_id == context.id, Membership.person_id.in_(chunk))
        ):
            existing[row.person_id] = (row.id, row.app_role, row.status, list(row.lti_roles or []), row.inactive_since)

    new_memberships: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    left = returned = 0
    for sub, (member, app_role) in wanted.items():
        status = INACTIVE if member.status != ACTIVE else ACTIVE
        person_id = people[sub]
        if person_id not in existing:
            new_memberships.append(
                {
                    "context_id": context.id,
                    "person_id": person_id,
                    "lti_roles": list(member.roles),
                    "app_role": app_role,
                    "status": status,
                    "inactive_since": now if status == INACTIVE else None,
                    "last_launch_at": now,
                }
            )
            continue
        membership_id, old_role, old_status, old_roles, old_since = existing[person_id]
        since = old_since
        if status != old_status:
            since = now if status == INACTIVE else None
            left, returned = (left + 1, returned) if status == INACTIVE else (left, returned + 1)
        elif status == INACTIVE and since is None:
            since = now  # inactive since before the time was kept
        if (old_role, old_status, old_roles, old_since) != (app_role, status, list(member.roles), since):
            changed.append(
                {
                    "id": membership_id,
                    "app_role": app_role,
                    "status": status,
                    "lti_roles": list(member.roles),
                    "inactive_since": since,
                }
            )
    memberships_added = 0
    for chunk in _chunks(new_memberships):
        # A membership made meanwhile (a launch, another read) is kept as it is; the next read brings its roles.
        memberships_added += len(
            db.execute(
                insert(Membership)
                .on_conflict_do_nothing(index_elements=["context_id", "person_id"])
                .returning(Membership.id),
                list(chunk),
            ).all()
        )
    for chunk in _chunks(changed):
        db.execute(update(Membership), list(chunk))
    missing = _missing(db, context, {member.user_id for member in members}, read_from)
    for chunk in _chunks(missing):
        db.execute(update(Membership), [{"id": mid, "status": INACTIVE, "inactive_since": now} for mid in chunk])
    # Bulk updates the flush never sees: the live figures of these members' programs are recomputed on commit.
    from models.live_figures import note_memberships  # the live figures read nearly every model, this one too

    note_memberships(db, [row["id"] for row in changed] + list(missing))
    return RosterChange(
        people_added,
        memberships_added,
        len(changed) + len(missing),
        skipped,
        skipped_ids,
        left + len(missing),
        returned,
    )


def _missing(db: Session, context: Context, listed: set[str], read_from: datetime) -> list[int]:
    """Active memberships of the course whose person the roster does not list (whatever their role: a member the
    roster lists under a role we do not map is still in the course), leaving out those who launched since the read
    began."""
    return [
        membership_id
        for membership_id, sub in db.execute(
            select(Membership.id, Person.sub)
            .join(Person, Person.id == Membership.person_id)
            .where(
                Membership.context_id == context.id,
                Membership.status != INACTIVE,
                Membership.last_launch_at < read_from,
            )
        )
        if sub not in listed
    ]
