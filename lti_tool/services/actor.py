"""Who performs a use case: the app session of their launch (person, role, course and platform)."""

from __future__ import annotations

from dataclasses import dataclass

from models.people import Membership
from models.roles import AppRole
from models.scope import CourseScope
from models.sessions import AppSession


@dataclass(frozen=True)
class Actor:
    """The person acting, in the course they launched from. Use cases take one instead of a Flask request."""

    session: AppSession

    @property
    def membership(self) -> Membership:
        return self.session.membership

    @property
    def membership_id(self) -> int:
        return self.session.membership_id

    @property
    def role(self) -> AppRole:
        return AppRole(self.session.membership.app_role)

    @property
    def scope(self) -> CourseScope:
        return CourseScope(self.session.context.platform_id, self.session.context_id)
