"""Administration pages for a platform's LTI administrators: the learning-record outbox and the score outbox."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.services import admin as service
from lti_tool.services.actor import Actor
from lti_tool.web.access import require_role
from lti_tool.web.forms.base import PlcForm
from lti_tool.web.session import csrf_token, database, require_session, session_url, settings
from models import scores
from models.people import Person
from models.roles import AppRole
from models.sessions import AppSession
from xapi import outbox

bp = Blueprint("admin", __name__, url_prefix="/admin")

RETRY = "outbox-retry"
RESEND_SCORES = "scores-resend"


def _admin_session(db: Session) -> AppSession:
    app_session = require_session(db)
    message = _("Only the platform's administrators may see this page.")
    require_role(app_session, {AppRole.ADMIN}, message)
    if not service.administers_the_platform(app_session.membership):  # a school administrator, not the site's
        abort(403, description=message)
    return app_session


@bp.get("/outbox")
def outbox_page() -> str:
    with database().transaction() as db:
        app_session = _admin_session(db)
        platform_id = app_session.context.platform_id
        configured = bool(settings().lrs)
        return render_template(
            "admin/outbox.html",
            rows=outbox.status(db, settings().lrs_names, platform_id),
            # Once an LRS is configured, what was written for none counts as waiting for it (its worker queues it).
            unaddressed=None if configured else outbox.unaddressed(db, platform_id),
            dead=outbox.dead_letters(db, platform_id),
            configured=configured,
            csrf=csrf_token(app_session, RETRY),
            session_url=session_url,
        )


@bp.post("/outbox/retry")
def outbox_retry() -> Response:
    with database().transaction() as db:
        app_session = _admin_session(db)
        PlcForm.posted(app_session, RETRY)
        service.retry_learning_records(db, Actor(app_session))
    return redirect(session_url("admin.outbox_page"), code=303)


@bp.get("/scores")
def scores_page() -> str:
    """Scores on their way to the LMS gradebook (LTI AGS): what waits, what failed and why."""
    with database().transaction() as db:
        app_session = _admin_session(db)
        platform_id = app_session.context.platform_id
        posts = scores.waiting(db, platform_id)
        subs = {post.user_id for post in posts}
        query = select(Person.sub, Person.name).where(Person.platform_id == platform_id, Person.sub.in_(subs))
        names = {sub: name for sub, name in db.execute(query)}
        return render_template(
            "admin/scores.html",
            status=scores.status(db, platform_id),
            posts=posts,
            names=names,
            csrf=csrf_token(app_session, RESEND_SCORES),
            session_url=session_url,
        )


@bp.post("/scores/resend")
def scores_resend() -> Response:
    with database().transaction() as db:
        app_session = _admin_session(db)
        PlcForm.posted(app_session, RESEND_SCORES)
        service.resend_scores(db, Actor(app_session))
    return redirect(session_url("admin.scores_page"), code=303)
