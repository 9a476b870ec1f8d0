"""Deep Linking: the picker an instructor sees when adding PLC Bridge to a course, and the signed answer."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from lti_tool.lti import deep_linking as dl
from lti_tool.services import deep_linking as service
from lti_tool.services.actor import Actor
from lti_tool.services.deep_linking import INSTRUCTORS
from lti_tool.web.access import course_scope, require_role
from lti_tool.web.forms.deep_linking import DeepLinkPost
from lti_tool.web.session import csrf_token, database, require_session, session_url, settings
from models.catalog import elements
from models.sessions import AppSession

bp = Blueprint("deep_linking", __name__)
FORM = "deep-link"


def _instructor_session(db: Session) -> AppSession:
    """A trainer's or administrator's session opened by a Deep Linking request; 401, 403 or 400 otherwise."""
    app_session = require_session(db)
    require_role(
        app_session, INSTRUCTORS, _("Only the course's trainers and administrators may add PLC Bridge activities.")
    )
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


def _lang() -> str:
    return str(get_locale() or "th")[:2]


def _picker(
    db: Session, app_session: AppSession, errors: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    lang = _lang()
    return render_template(
        "deep_linking/picker.html",
        context=app_session.context,
        cycles=dl.planned_cycles(db, course_scope(app_session)),
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
        posted = DeepLinkPost.posted(app_session, FORM)
        posted.planned_cycles = dl.planned_cycles(db, course_scope(app_session))
        if not posted.validate():
            return _picker(db, app_session, posted.problems(), 400)
        choice = posted.choice(_lang())
        return_url, token = service.link_activity(db, settings(), Actor(app_session), choice)
        return render_template("deep_linking/return.html", return_url=return_url, token=token), 200
