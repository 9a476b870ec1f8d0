"""LTI / LIS roles and the app role each maps to."""

from __future__ import annotations

import enum
from collections.abc import Iterable


class AppRole(enum.StrEnum):
    """What a person may do in PLC Bridge. ADMIN is the LMS's Administrator role, held by two different people:
    a school administrator (ผู้บริหารสถานศึกษา: an institution or course Administrator) who reads the course's teams,
    and the LMS's site administrator (ผู้ดูแลระบบ: a system Administrator); `administers_the_site` tells them apart
    so that pages name each for what they are."""

    TEACHER = "teacher"
    TRAINER = "trainer"
    ADMIN = "admin"

    @property
    def sees_course_roster(self) -> bool:
        """Trainers and administrators see everyone in the course; teachers see their own team."""
        return self is not AppRole.TEACHER


_LIS_CONTEXT = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
# Context sub-roles: membership/Instructor#TeachingAssistant (LTI 1.3 §A.2.2); the sub-role name decides.
_LIS_SUB_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership/"
_LIS_INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
_LIS_SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"

# Most privileged first: a person holding several roles gets the first that matches.
_ROLE_MAP: tuple[tuple[str, AppRole], ...] = (
    ("Administrator", AppRole.ADMIN),
    ("Instructor", AppRole.TRAINER),
    ("TeachingAssistant", AppRole.TRAINER),
    ("ContentDeveloper", AppRole.TRAINER),
    ("Learner", AppRole.TEACHER),
)


def _short_name(role: str) -> tuple[str, str]:
    """Split an LIS role URI into (scope, name); scope is 'context', 'institution', 'system' or ''."""
    if role.startswith(_LIS_SUB_ROLE) and "#" in role:
        return "context", role.rsplit("#", 1)[1]
    for prefix, scope in ((_LIS_CONTEXT, "context"), (_LIS_INSTITUTION, "institution"), (_LIS_SYSTEM, "system")):
        if role.startswith(prefix):
            return scope, role[len(prefix) :]
    # LTI 1.3 §A.2.3.1 allows simple names for context roles (deprecated but still sent by some platforms).
    if ":" not in role and "/" not in role:
        return "context", role
    return "", role


def app_role_for(lis_roles: Iterable[str]) -> AppRole | None:
    """The app role for a launch's roles claim, or None when no role maps (the launch is refused)."""
    names = {_short_name(role)[1] for role in lis_roles if _short_name(role)[0]}
    for lis_name, app_role in _ROLE_MAP:
        if lis_name in names:
            return app_role
    return None


# LIS system roles (LIS v2 §A.2.1) of the LMS's own administrators; Moodle sends system#Administrator to a site admin.
_SITE_ADMINISTRATOR_ROLES = frozenset({"Administrator", "SysAdmin"})


def administers_the_site(lis_roles: Iterable[str]) -> bool:
    """True for the LMS's site administrator (a system role), ผู้ดูแลระบบ; an Administrator of an institution or of
    a course is a school administrator, ผู้บริหารสถานศึกษา."""
    return any(scope == "system" and name in _SITE_ADMINISTRATOR_ROLES for scope, name in map(_short_name, lis_roles))
