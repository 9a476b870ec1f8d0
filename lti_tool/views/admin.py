"""Administration pages for a platform's LTI administrators: the learning-record outbox."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lti_tool.views.lti import database
from lti_tool.web_session import csrf_token, csrf_valid, current_session, session_url, settings
from models.roles import AppRole
from models.sessions import AppSession
from xapi import outbox

bp = Blueprint("admin", __name__, url_prefix="/admin")

RETRY = "outbox-retry"


def _admin_session(db: object) -> AppSession:
    app_session = current_session(db)  # type: ignore[arg-type]
    if app_session is None:
        abort(
            401,
            description=_(
                "Your PLC Bridge session has ended or was never opened. Open the activity again from your course in the LMS."
            ),
        )
    if app_session.membership.app_role != AppRole.ADMIN:
        abort(403, description=_("Only the platform's administrators may see this page."))
    return app_session


@bp.get("/outbox")
def outbox_page() -> str:
    with database().transaction() as db:
        app_session = _admin_session(db)
        platform_id = app_session.context.platform_id
        return render_template(
            "admin/outbox.html",
            rows=outbox.status(db, settings().lrs_names, platform_id),
            dead=outbox.dead_letters(db, platform_id),
            configured=bool(settings().lrs),
            csrf=csrf_token(app_session, RETRY),
            session_url=session_url,
        )


@bp.post("/outbox/retry")
def outbox_retry() -> Response:
    with database().transaction() as db:
        app_session = _admin_session(db)
        if not csrf_valid(app_session, RETRY, request.form.get("csrf")):
            abort(400, description=_("This form has expired. Reload the page and try again."))
        outbox.retry_dead(db, platform_id=app_session.context.platform_id)
    return redirect(session_url("admin.outbox_page"), code=303)
