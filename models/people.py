"""People, course contexts, memberships and resource links, as the platform describes them at launch."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, bindparam, select, update
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship
from sqlalchemy.orm.attributes import set_committed_value

from models.base import Base, utcnow
from models.calendar import program_day
from models.platform import Deployment, Platform

ACTIVE, INACTIVE = "Active", "Inactive"


class Person(Base):
    """A person as one platform knows them: the key is issuer (platform) + LTI `sub`."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    given_name: Mapped[str] = mapped_column(String(255), default="")
    family_name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    locale: Mapped[str | None] = mapped_column(String(35), default=None)
    # Erased at their request (models/erasure.py): the name is the district's pseudonym, and a later launch or roster
    # read does not bring back what the LMS says of them.
    erased_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    platform: Mapped[Platform] = relationship()


class Context(Base):
    """A course (LTI context), keyed by issuer + deployment + context id."""

    __tablename__ = "contexts"
    __table_args__ = (UniqueConstraint("deployment_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(512), default="")
    label: Mapped[str] = mapped_column(String(255), default="")
    # LTI AGS: the course's line-items container and the AGS scopes, from the newest launch in the course that carried
    # the endpoint claim (any link, or a Deep Linking request): where a grade finds its cycle's line item.
    ags_lineitems: Mapped[str | None] = mapped_column(String(1024), default=None)
    ags_scopes: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    # LTI NRPS: the roster URL from the launch's namesroleservice claim, and how the last roster read went.
    nrps_memberships_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    roster_synced_at: Mapped[datetime | None] = mapped_column(default=None)
    roster_error: Mapped[str | None] = mapped_column(Text, default=None)
    roster_error_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    platform: Mapped[Platform] = relationship()
    deployment: Mapped[Deployment] = relationship()


class Membership(Base):
    """A person's LTI roles in a course, and the app role they map to."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("context_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    lti_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    app_role: Mapped[str] = mapped_column(String(16))
    # The platform's membership status (LTI NRPS): "Active", or "Inactive" for someone who has left the course: listed
    # as Inactive, or missing from a complete roster read (Moodle leaves suspended and unenrolled members out).
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE, server_default=ACTIVE)
    # When the member became inactive (None while active): from that day they are out of new teams and eligibility.
    inactive_since: Mapped[datetime | None] = mapped_column(default=None)
    # When the person last launched the tool here; for someone known only from the roster, when it was read.
    last_launch_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_active(self) -> bool:
        return self.status != INACTIVE

    @property
    def left_on(self) -> date | None:
        """The day (in Thailand) the member left the course, while they are inactive."""
        if self.is_active:
            return None
        return program_day(self.inactive_since) if self.inactive_since is not None else None

    context: Mapped[Context] = relationship()
    person: Mapped[Person] = relationship()


class ResourceLink(Base):
    """A placement of the tool in a course; custom parameters name the tool-side activity."""

    __tablename__ = "resource_links"
    __table_args__ = (UniqueConstraint("context_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"), index=True)
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(512), default="")
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # LTI AGS endpoint claim of the latest launch: the context's line items container, the link's own line item
    # (when the platform made one), and the scopes the platform grants.
    ags_lineitems: Mapped[str | None] = mapped_column(String(1024), default=None)
    ags_lineitem: Mapped[str | None] = mapped_column(String(1024), default=None)
    ags_scopes: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    # The line item the tool found or created by resourceId/tag when the platform gave the link none.
    tool_lineitem: Mapped[str | None] = mapped_column(String(1024), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    context: Mapped[Context] = relationship()


def stamp_launch(db: Session, membership: Membership, now: datetime) -> None:
    """Note that the member launched now: one UPDATE built once, run at once on the session's connection rather
    than at the next flush (the stamp moves no figure of the live dashboards; models/live_figures.py)."""
    db.connection().execute(_stamp_launch_statement(), {"membership_id": membership.id, "now": now})
    set_committed_value(membership, "last_launch_at", now)


@cache
def _stamp_launch_statement() -> Any:
    return update(Membership).where(Membership.id == bindparam("membership_id")).values(last_launch_at=bindparam("now"))


def members_by_id(db: Session, context_id: int, ids: Iterable[int]) -> dict[int, Membership]:
    """The named members of this course, with their person, by membership id: what a page that names a few people
    (a reflection's author and graders, one teacher's progress) reads instead of the whole roster. An id of another
    course is left out; no ids, no statement."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = db.scalars(
        select(Membership)
        .where(Membership.context_id == context_id, Membership.id.in_(wanted))
        .options(joinedload(Membership.person))
    )
    return {m.id: m for m in rows}


def course_members(db: Session, context_id: int) -> list[Membership]:
    """Everyone who has launched the tool in this course (one course of one platform), newest first."""
    return list(
        db.scalars(
            select(Membership)
            .where(Membership.context_id == context_id)
            .options(joinedload(Membership.person))
            .order_by(Membership.last_launch_at.desc())
        )
    )
