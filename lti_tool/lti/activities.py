"""The tool-side activity an LMS link points at, named by custom parameters (plc_activity, plc_cycle, plc_element).

Deep Linking writes these into each link it returns; a launch reads them back, and the web layer sends the person
to that activity's page (lti_tool/web/activities.py). Custom parameters, not the URL, carry the activity: Moodle
needs the launch URL to equal a registered redirect URI exactly, and a course copy changes resource_link.id but
keeps the custom parameters (FIELD_NOTES).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.catalog import elements
from models.people import ResourceLink

KINDS = ("program", "cycle", "session", "observation", "reflection", "dashboard")
NEEDS_CYCLE = frozenset({"cycle", "session", "observation", "reflection"})
MAX_CYCLE = 20  # far above any plan; a larger number in a custom parameter is a typo, not an activity


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
