"""Sign out, from every page's header: the session ends on the server (with the browser's other tabs), the browser's
cookie is removed, and the links left in the browser's history open nothing any more."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, make_response, render_template
from flask_babel import gettext as _
from sqlalchemy.orm.exc import DetachedInstanceError

from lti_tool.services.launches import sign_out as end_session
from lti_tool.web import i18n
from lti_tool.web.forms.sign_out import SIGN_OUT, SignOutForm
from lti_tool.web.session import (
    SESSION_COOKIE,
    browser_key,
    csrf_token,
    database,
    delete_tool_cookie,
    require_session,
    session_url,
)

bp = Blueprint("sign_out", __name__)


@bp.app_context_processor
def _sign_out_form() -> dict[str, Any]:
    def sign_out_form() -> dict[str, str] | None:
        """The header's form for this request's session; None on a page no session opened."""
        app_session = g.get("plc_session")
        if app_session is None:
            return None
        try:
            if app_session.ended_at is not None:
                return None
            return {"action": session_url("sign_out.sign_out"), "csrf": csrf_token(app_session, SIGN_OUT)}
        except DetachedInstanceError:  # a page refusing a post whose transaction was rolled back
            return None

    return {"sign_out_form": sign_out_form}


@bp.after_app_request
def _not_kept(response: Response) -> Response:
    """A session's pages are not kept in the browser's cache: after sign out, Back or the history asks the server,
    which opens nothing any more."""
    if g.get("plc_session") is not None and response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.post("/sign-out")
def sign_out() -> Response:
    with database().transaction() as db:
        app_session = require_session(db)
        SignOutForm.posted(app_session, SIGN_OUT)
        end_session(db, app_session, browser_key())
    message = i18n.both_languages(
        lambda: _(
            "Your session has ended on this computer: the links to it in the browser's history open nothing any more. To continue, open the activity again from your course in the LMS."
        )
    )
    title = i18n.both_languages(lambda: _("You have signed out of PLC Bridge"))
    response = make_response(render_template("signed_out.html", title=title, message=message))
    response.headers["Cache-Control"] = "no-store"
    delete_tool_cookie(response, SESSION_COOKIE)
    return response
