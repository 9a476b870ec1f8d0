"""An LMS link's activity as the web shows it: the page a launch lands on, and the title of a new link to it."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _

from lti_tool.lti.activities import Activity
from lti_tool.web.session import session_url
from models.catalog import element

# activity kind -> (endpoint, how the endpoint names the cycle). Every learner of the course sees an observation
# link: its page sends the cycle's Buddy to the form and its Model Teacher to what was written of their lesson.
_ENDPOINTS: dict[str, tuple[str, str | None]] = {
    "dashboard": ("home.landing", None),
    "program": ("program.show", None),
    "cycle": ("cycles.show", "number"),
    "session": ("sessions.list_sessions", "cycle"),
    "observation": ("observations.for_cycle", "number"),
    "reflection": ("reflections.show", "number"),
}
# A trainer or administrator opening a teacher's form lands where they work on it: the observations and reflections
# of the course (to read and grade), not a form that is only a team member's to fill.
_STAFF_ENDPOINTS: dict[str, tuple[str, str | None]] = {
    "observation": ("observations.list_observations", None),
    "reflection": ("reflections.list_for_grading", None),
}
FALLBACK = "home.landing"


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


def default_title(activity: Activity, lang: str) -> str:
    """A link title in the course's language, e.g. "วงรอบ PLC ที่ 2: การสังเกตชั้นเรียน"."""
    cycle = activity.cycle
    if activity.kind == "program":
        return str(_("PLC program"))
    if activity.kind == "dashboard":
        return str(_("PLC team dashboard"))
    if activity.kind == "cycle":
        return str(_("PLC cycle %(number)s", number=cycle))
    if activity.kind == "session":
        assert activity.element is not None
        name = element(activity.element).name
        return str(_("PLC cycle %(number)s: %(element)s", number=cycle, element=name.get(lang, name["en"])))
    if activity.kind == "observation":
        return str(_("PLC cycle %(number)s: Buddy observation", number=cycle))
    return str(_("PLC cycle %(number)s: reflection", number=cycle))
