"""LTI Names and Role Provisioning Services 2.0: the course roster, read from the platform for the teams page.

The memberships URL comes with each launch (the namesroleservice claim). A roster is read whole, following the
`Link: <…>; rel="next"` pages (NRPS §2.4.2), and applied only when every page has been read: a page that fails, or
paging that loops back to a page already read, leaves the previous roster as it was and records why. A complete read
is the course as it is: a member it leaves out has left the course (models/roster.py). A roster that lists no one is
not believed (the trainer who asked for it is in the course): it changes nothing either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import urljoin

from pydantic import BaseModel, BeforeValidator, Field, StrictStr, ValidationError, WrapValidator
from pydantic_core.core_schema import ValidatorFunctionWrapHandler

from lti_tool.lti.claims import MEMBERSHIP_CONTAINER_TYPE, SCOPE_MEMBERSHIPS
from lti_tool.lti.service_tokens import ServiceClient, ServiceError
from models.base import utcnow
from models.database import Database
from models.people import ACTIVE, INACTIVE, Context
from models.roster import RosterChange, RosterMember, sync_roster

log = logging.getLogger(__name__)

MAX_PAGES = 1000
# A roster read this recently is not read again when the teams page opens (the trainer may ask for it at once).
MAX_AGE = timedelta(minutes=5)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _roles(value: object) -> tuple[str, ...]:
    return tuple(role for role in value if isinstance(role, str)) if isinstance(value, list) else ()


def _status(value: object) -> str:
    # NRPS §2.3: Active, Inactive, or Deleted (only in a differences roster); an absent status means Active.
    return ACTIVE if value == ACTIVE else INACTIVE


Text = Annotated[str, BeforeValidator(_text)]


class Member(BaseModel):
    """One member of an NRPS membership container (NRPS §2.3). Only the user_id is required; a field of the wrong
    type counts as absent."""

    user_id: StrictStr = Field(min_length=1)
    roles: Annotated[tuple[str, ...], BeforeValidator(_roles)] = ()
    status: Annotated[str, BeforeValidator(_status)] = ACTIVE
    name: Text = ""
    given_name: Text = ""
    family_name: Text = ""
    email: Text = ""

    def roster_member(self) -> RosterMember:
        return RosterMember(
            user_id=self.user_id,
            roles=self.roles,
            status=self.status,
            name=self.name,
            given_name=self.given_name,
            family_name=self.family_name,
            email=self.email or None,
        )


def _member_or_none(value: object, handler: ValidatorFunctionWrapHandler) -> Member | None:
    try:
        member: Member = handler(value)
    except ValidationError:
        return None  # an entry without a user_id names no one: it is left out, the rest of the page is read
    return member


class MembershipPage(BaseModel):
    """One page of an NRPS membership container (NRPS §2.2, media type MEMBERSHIP_CONTAINER_TYPE)."""

    members: list[Annotated[Member | None, WrapValidator(_member_or_none)]]

    def roster_members(self) -> list[RosterMember]:
        return [member.roster_member() for member in self.members if member is not None]


class RosterUnavailable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_roster(client: ServiceClient, platform_id: int, url: str) -> list[RosterMember]:
    """Every member on every page; RosterUnavailable or ServiceError when any page cannot be read."""
    members: list[RosterMember] = []
    seen: set[str] = set()
    next_url: str | None = url
    while next_url is not None:
        if next_url in seen:
            raise RosterUnavailable(f"the roster's paging loops: its next page is one already read ({next_url})")
        if len(seen) >= MAX_PAGES:
            raise RosterUnavailable(f"the roster has more than {MAX_PAGES} pages")
        seen.add(next_url)
        response = client.request(platform_id, [SCOPE_MEMBERSHIPS], "GET", next_url, accept=MEMBERSHIP_CONTAINER_TYPE)
        if response.status_code != 200:
            raise RosterUnavailable(f"the roster page {next_url} answered HTTP {response.status_code}")
        try:
            page = MembershipPage.model_validate(response.json())
        except ValueError as problem:  # not JSON (JSONDecodeError), or JSON that is no container (ValidationError)
            raise RosterUnavailable(
                f"the roster page {next_url} is not an NRPS membership container (JSON)"
            ) from problem
        members.extend(page.roster_members())
        link = response.links.get("next", {}).get("url")
        next_url = urljoin(next_url, link) if link else None
    if not members:
        raise RosterUnavailable("the roster lists no one, not even the trainer who asked for it")
    return members


@dataclass(frozen=True)
class RefreshResult:
    read: bool  # the roster was read now
    change: RosterChange | None = None
    error: str | None = None


def refresh(database: Database, client: ServiceClient, context_id: int, *, force: bool = False) -> RefreshResult:
    """Read the course roster from the platform, unless it was read within MAX_AGE; store it or the reason it failed."""
    with database.transaction() as db:
        context = db.get(Context, context_id)
        if context is None or not context.nrps_memberships_url:
            return RefreshResult(read=False)
        if not force and context.roster_synced_at is not None and utcnow() - context.roster_synced_at < MAX_AGE:
            return RefreshResult(read=False)
        platform_id, url = context.platform_id, context.nrps_memberships_url
    read_from = utcnow()
    try:
        members = read_roster(client, platform_id, url)
    except (RosterUnavailable, ServiceError) as problem:
        reason = problem.reason
        log.warning("roster not read context=%s: %s", context_id, reason)
        with database.transaction() as db:
            context = db.get(Context, context_id)
            if context is not None:
                context.roster_error, context.roster_error_at = reason, utcnow()
        return RefreshResult(read=False, error=reason)
    now = utcnow()
    with database.transaction() as db:
        context = db.get(Context, context_id)
        if context is None:
            return RefreshResult(read=False)
        change = sync_roster(db, context, members, now, read_from)
        context.roster_synced_at, context.roster_error, context.roster_error_at = now, None, None
    if change.skipped_ids:
        log.warning(
            "roster context=%s: %d member(s) left out, their user_id is longer than the 255 characters a sub may have",
            context_id,
            change.skipped_ids,
        )
    log.info("roster read context=%s members=%d %s", context_id, len(members), change)
    return RefreshResult(read=True, change=change)
