"""The tool-side activity an LMS link points at, named by custom parameters (plc_activity, plc_cycle, plc_element).

Deep Linking writes these into each link it returns; a launch reads them back and goes to that activity's page.
Custom parameters, not the URL, carry the activity: Moodle needs the launch URL to equal a registered redirect URI
exactly, and a course copy changes resource_link.id but keeps the custom parameters (FIELD_NOTES).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.web.session import session_url
from models.catalog import elements
from models.people import ResourceLink

KINDS = ("program", "cycle", "session", "observation", "reflection", "dashboard")
NEEDS_CYCLE = frozenset({"cycle", "session", "observation", "reflection"})
MAX_CYCLE = 20  # far above any plan; a larger number in a custom parameter is a typo, not an activity

# activity kind -> (endpoint, how the endpoint names the cycle)
_ENDPOINTS: dict[str, tuple[str, str | None]] = {
    "dashboard": ("home.landing", None),
    "program": ("program.show", None),
    "cycle": ("cycles.show", "number"),
    "session": ("sessions.list_sessions", "cycle"),
    "observation": ("observations.form", "number"),
    "reflection": ("reflections.show", "number"),
}
# A trainer or administrator opening a teacher's form lands where they work on it: the observations and reflections
# of the course (to read and grade), not a form that is only a team member's to fill.
_STAFF_ENDPOINTS: dict[str, tuple[str, str | None]] = {
    "observation": ("observations.list_observations", None),
    "reflection": ("reflections.list_for_grading", None),
}
FALLBACK = "home.landing"


@dataclass(frozen=True)
class Activity:
    kind: str
    cycle: int | None = None
    element: int | None = None

    def custom_parameters(self) -> dict[str, str]:
        """The custom parameters of a link to this activity; strings, as Moodle stores and sends them."""
        custom = {"plc_activity": self.kind}
        if self.cycle is not None:
            custom["plc_cycle"] = str(self.cycle)
        if self.element is not None:
            custom["plc_element"] = str(self.element)
        return custom


def _number(value: Any, lowest: int, highest: int) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if lowest <= number <= highest else None


def from_custom(custom: Mapping[str, Any] | None) -> Activity | None:
    """The activity a launch's custom claim names, or None when it names none or names it wrongly.

    An unreplaced Moodle substitution (a value such as "$ResourceLink.id") is not a number and counts as absent."""
    if not isinstance(custom, Mapping):
        return None
    kind = str(custom.get("plc_activity") or "").strip().lower()
    if kind not in KINDS:
        return None
    cycle = _number(custom.get("plc_cycle"), 1, MAX_CYCLE)
    if kind in NEEDS_CYCLE and cycle is None:
        return None
    element = _number(custom.get("plc_element"), 1, len(elements())) if kind == "session" else None
    return Activity(kind, cycle if kind in NEEDS_CYCLE else None, element)


def activity_url(activity: Activity | None, staff: bool = False) -> str:
    """Where a launch for this activity lands, carrying the session; the landing page when the activity's page
    does not exist in this version of the tool. `staff`: the person launches as a trainer or administrator."""
    if activity is None:
        return session_url(FALLBACK)
    endpoint, cycle_param = (_STAFF_ENDPOINTS if staff else {}).get(activity.kind) or _ENDPOINTS[activity.kind]
    if endpoint not in current_app.view_functions:
        return session_url(FALLBACK)
    values: dict[str, Any] = {}
    if cycle_param and activity.cycle is not None:
        values[cycle_param] = activity.cycle
    if activity.element is not None:
        values["element"] = activity.element
    return session_url(endpoint, **values)


def reflection_link(db: Session, context_id: int, cycle: int) -> ResourceLink | None:
    """The course's LMS activity for the reflection of cycle `cycle` (a Deep Linking link with plc_activity=reflection
    and plc_cycle=cycle; the newest if there are several): its gradebook column is where that reflection's grade goes.
    A course's other links (the dashboard, a cycle page, a plain tool link) have no column for one cycle's reflection,
    and sending every cycle's grade to one column would overwrite the earlier grades."""
    wanted = Activity("reflection", cycle)
    links = db.scalars(
        select(ResourceLink).where(ResourceLink.context_id == context_id).order_by(ResourceLink.updated_at.desc())
    )
    return next((link for link in links if from_custom(link.custom) == wanted), None)
