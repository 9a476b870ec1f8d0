"""Deep Linking: the picker an instructor sees when adding PLC Bridge to a course, and the signed answer."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from lti_tool.lti import deep_linking as dl
from lti_tool.lti.activities import KINDS, NEEDS_CYCLE, Activity
from lti_tool.web.activities import default_title
from lti_tool.web.session import csrf_token, database, require_form_token, require_session, session_url, settings
from models.catalog import elements
from models.roles import AppRole
from models.scope import CourseScope
from models.sessions import AppSession

bp = Blueprint("deep_linking", __name__)
FORM = "deep-link"


def _instructor_session(db: Session) -> AppSession:
    """A trainer's or administrator's session opened by a Deep Linking request; 401, 403 or 400 otherwise."""
    app_session = require_session(db)
    if app_session.membership.app_role not in (AppRole.TRAINER, AppRole.ADMIN):
        abort(403, description=_("Only the course's trainers and administrators may add PLC Bridge activities."))
    try:
        dl.deep_linking_settings(app_session)
    except dl.NotADeepLinkingSession:
        abort(
            400,
            description=_(
                "This page adds activities to a course. Open it from the course's “Add an activity” menu in the LMS."
            ),
        )
    return app_session


def parse_choice(form: Mapping[str, str], cycles: int, lang: str) -> tuple[dl.Choice | None, dict[str, str]]:
    """The picker form → one activity to add, or the problems beside each field."""
    errors: dict[str, str] = {}
    kind = (form.get("activity") or "").strip()
    if kind not in KINDS:
        errors["activity"] = _("Choose what to add.")
        return None, errors
    cycle: int | None = None
    element_number: int | None = None
    if kind in NEEDS_CYCLE:
        try:
            cycle = int(form.get("cycle", ""))
        except ValueError:
            cycle = None
        if cycle is None or not 1 <= cycle <= cycles:
            errors["cycle"] = _("Choose a cycle from 1 to %(cycles)s.", cycles=cycles)
    if kind == "session":
        try:
            element_number = int(form.get("element", ""))
        except ValueError:
            element_number = None
        if element_number not in {e.number for e in elements()}:
            errors["element"] = _("Choose one of the five PLC elements.")
    if errors:
        return None, errors
    activity = Activity(kind, cycle, element_number)
    title = (form.get("title") or "").strip()[:255] or default_title(activity, lang)
    return dl.Choice(activity, title), {}


def _picker(
    db: Session, app_session: AppSession, errors: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    scope = CourseScope(app_session.context.platform_id, app_session.context_id)
    lang = str(get_locale() or "th")[:2]
    return render_template(
        "deep_linking/picker.html",
        context=app_session.context,
        cycles=dl.planned_cycles(db, scope),
        elements=[(e.number, e.name.get(lang, e.name["en"])) for e in elements()],
        reflection_maximum=dl.reflection_maximum(),
        values=request.form if errors is not None else {},
        errors=errors or {},
        csrf=csrf_token(app_session, FORM),
        session_url=session_url,
    ), status


@bp.get("/lti/deep-link")
def picker() -> tuple[str, int]:
    with database().transaction() as db:
        return _picker(db, _instructor_session(db))


@bp.post("/lti/deep-link")
def choose() -> tuple[str, int]:
    with database().transaction() as db:
        app_session = _instructor_session(db)
        require_form_token(app_session, FORM)
        scope = CourseScope(app_session.context.platform_id, app_session.context_id)
        choice, errors = parse_choice(request.form, dl.planned_cycles(db, scope), str(get_locale() or "th")[:2])
        if choice is None:
            return _picker(db, app_session, errors, 400)
        return_url, token = dl.response_jwt(db, app_session, [choice], settings())
        return render_template("deep_linking/return.html", return_url=return_url, token=token), 200
