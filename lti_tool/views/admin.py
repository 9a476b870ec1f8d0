"""Administration pages for a platform's LTI administrators: the learning-record outbox."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.web_session import csrf_token, database, require_form_token, require_session, session_url, settings
from models.roles import AppRole
from models.sessions import AppSession
from xapi import outbox

bp = Blueprint("admin", __name__, url_prefix="/admin")

RETRY = "outbox-retry"


def _admin_session(db: Session) -> AppSession:
    app_session = require_session(db)
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
        require_form_token(app_session, RETRY)
        outbox.retry_dead(db, platform_id=app_session.context.platform_id)
    return redirect(session_url("admin.outbox_page"), code=303)
