"""Administration pages for a platform's LTI administrators: the learning-record outbox, the score outbox, the read
log (who read another person's record, PDPA), and the notices (their deliveries by LINE and e-mail, the district's
LINE Official Account and its monthly quota)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import StringField

from lti_tool.services import admin as service
from lti_tool.services import line_linking, read_log
from lti_tool.services.actor import Actor
from lti_tool.web import confirm, messages
from lti_tool.web.access import require_role
from lti_tool.web.csv_export import csv_response
from lti_tool.web.forms.base import PlcForm
from lti_tool.web.forms.read_log import ReadLogSearch
from lti_tool.web.grade_delivery import delivery
from lti_tool.web.i18n import format_datetime_local
from lti_tool.web.session import csrf_token, database, require_session, session_url, settings
from models import scores
from models.errors import InvalidInput, NotFoundInCourse, ProgramError
from models.people import Person
from models.roles import AppRole
from models.sessions import AppSession
from xapi import outbox

bp = Blueprint("admin", __name__, url_prefix="/admin")

RETRY = "outbox-retry"
RESEND_SCORES = "scores-resend"
DISMISS_SCORE = "score-dismiss"
RESEND_NOTICES = "notices-resend"
RESEND_ALL_NOTICES = "notices-resend-all"
LINE_SETTINGS = "line-settings"
LINE_OFF = "line-off"


class DismissPost(PlcForm):
    reason = StringField(filters=[lambda value: value or ""])


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
    """Scores on their way to the LMS gradebook (LTI AGS): what waits, what failed and why, what was closed."""
    with database().transaction() as db:
        app_session = _admin_session(db)
        platform_id = app_session.context.platform_id
        posts = scores.waiting(db, platform_id)
        closed = scores.closed(db, platform_id)
        subs = {post.user_id for post in [*posts, *closed]}
        query = select(Person.sub, Person.name).where(Person.platform_id == platform_id, Person.sub.in_(subs))
        names = {sub: name for sub, name in db.execute(query)}
        zone = settings().timezone
        return render_template(
            "admin/scores.html",
            status=scores.status(db, platform_id),
            posts=posts,
            closed=closed,
            names=names,
            courses=scores.course_titles(db, [post.id for post in [*posts, *closed]]),
            deliveries={post.id: delivery(post, post.grade.reflection.cycle.number, zone) for post in posts},
            resent=request.args.get("resent", type=int),
            dismissed=request.args.get("dismissed") == "1",
            csrf=csrf_token(app_session, RESEND_SCORES),
            session_url=session_url,
        )


@bp.post("/scores/resend")
def scores_resend() -> Response:
    with database().transaction() as db:
        app_session = _admin_session(db)
        PlcForm.posted(app_session, RESEND_SCORES)
        count = service.resend_scores(db, Actor(app_session))
    return redirect(session_url("admin.scores_page", resent=count), code=303)


def _dismissal(app_session: AppSession, post: scores.ScorePost, name: str, reason: str = "", error: str = "",
               refusal: str = "") -> confirm.Confirmation:  # fmt: skip
    """What dismissing a failed score means: it is never sent again, and the reason is kept with it."""
    return confirm.Confirmation(
        title=_("Dismiss the failed score of %(name)s?", name=name),
        follows=[
            _("PLC Bridge stops sending this score to the LMS gradebook. This cannot be undone."),
            _("Your reason, your name and the date are kept with the score on this page."),
            _("The grade itself stays in PLC Bridge; a new grade of the reflection is sent as usual."),
        ],
        people=[_("The teacher's grade does not reach the LMS gradebook from this score.")],
        inputs=[
            confirm.Input(
                "reason",
                _("Reason for dismissing"),
                value=reason,
                error=error,
                maxlength=scores.MAX_DISMISS_REASON,
                field_id=f"reason-{post.id}",
            )
        ],
        action=session_url("admin.dismiss_score", post_id=post.id),
        csrf=csrf_token(app_session, DISMISS_SCORE),
        button=_("Dismiss the score"),
        back=session_url("admin.scores_page"),
        refusal=refusal,
    )


def _post_and_name(db: Session, app_session: AppSession, post_id: int) -> tuple[scores.ScorePost, str]:
    try:
        post = service.score_of_the_platform(db, Actor(app_session), post_id)
    except NotFoundInCourse:
        abort(404, description=_("There is no such score on your platform."))
    name = db.scalar(select(Person.name).where(Person.platform_id == post.platform_id, Person.sub == post.user_id))
    return post, name or post.user_id


@bp.get("/scores/<int:post_id>/dismiss")
def dismiss_confirm(post_id: int) -> tuple[str, int]:
    """The confirmation page, which asks the reason: reading it changes nothing."""
    with database().transaction() as db:
        app_session = _admin_session(db)
        post, name = _post_and_name(db, app_session, post_id)
        if post.state != scores.ScoreState.FAILED.value:
            refusal = messages.refusal(scores.ScoreNotFailed(post.state))
            return confirm.render(_dismissal(app_session, post, name, refusal=refusal), 409)
        return confirm.render(_dismissal(app_session, post, name))


@bp.post("/scores/<int:post_id>/dismiss")
def dismiss_score(post_id: int) -> Response | tuple[str, int]:
    """The confirmation page's own POST: the one place a failed score is dismissed."""
    reason = request.form.get("reason", "")
    try:
        with database().transaction() as db:
            app_session = _admin_session(db)
            posted = DismissPost.posted(app_session, DISMISS_SCORE)
            service.dismiss_score(db, Actor(app_session), post_id, posted.reason.data)
    except InvalidInput as invalid:  # the text typed stays in the field, beside what is wrong with it
        problem = invalid.problems[0]
        error = str(messages.DISMISS_PROBLEMS.get(problem.code, problem.code)) % problem.params
        with database().transaction() as db:
            app_session = _admin_session(db)
            post, name = _post_and_name(db, app_session, post_id)
            return confirm.render(_dismissal(app_session, post, name, reason, error), 422)
    except ProgramError as refused:
        with database().transaction() as db:
            app_session = _admin_session(db)
            post, name = _post_and_name(db, app_session, post_id)
            return confirm.render(_dismissal(app_session, post, name, refusal=messages.refusal(refused)), 409)
    return redirect(session_url("admin.scores_page", dismissed=1), code=303)


# --- Who read what (PDPA) ---------------------------------------------------------------------------------------


def _search_args(form: ReadLogSearch) -> dict[str, str]:
    """The search as query parameters, for the page links and the CSV link (empty ones left out)."""
    wanted = form.search()
    args = {"reader": wanted.reader, "subject": wanted.subject}
    args["since"] = wanted.since.isoformat() if wanted.since else ""
    args["until"] = wanted.until.isoformat() if wanted.until else ""
    return {key: value for key, value in args.items() if value}


@bp.get("/read-log")
def read_log_page() -> tuple[str, int]:
    """The platform's read log, searched by reader, person read and days; 50 entries a page, newest first."""
    with database().transaction() as db:
        app_session = _admin_session(db)
        form = ReadLogSearch(request.args)
        valid = form.validate()
        found = read_log.search(db, Actor(app_session), form.search(), request.args.get("page", 1, type=int))
        page = render_template(
            "admin/read_log.html",
            form=form,
            errors=form.problems(),
            found=found,
            kinds=messages.READ_KINDS,
            args=_search_args(form),
            read_log_days=settings().read_log_days,
            session_url=session_url,
        )
        return page, 200 if valid else 422


@bp.get("/read-log.csv")
def read_log_csv() -> Response:
    """The same search, every matching entry, as CSV (UTF-8 with a byte-order mark, so Excel shows Thai)."""
    with database().transaction() as db:
        app_session = _admin_session(db)
        form = ReadLogSearch(request.args)
        form.validate()
        rows = read_log.export(db, Actor(app_session), form.search())
        zone = settings().timezone
        header = [
            "เวลา (Time, ISO 8601 UTC)",
            "เวลา พ.ศ. (Time, Buddhist Era)",
            "ผู้อ่าน (Reader)",
            "ผู้เป็นเจ้าของข้อมูล (Person read)",
            "ข้อมูล (What)",
            "รหัส (Record id)",
            "รายวิชา (Course)",
        ]
        lines = [
            [
                row.entry.read_at.isoformat(timespec="seconds"),
                format_datetime_local(row.entry.read_at, zone, "th"),
                row.reader,
                row.subject,
                f"{messages.READ_KINDS.get(row.entry.kind, row.entry.kind)} ({row.entry.kind})",
                row.entry.record_id,
                row.course,
            ]
            for row in rows
        ]
    return csv_response("plc-read-log.csv", header, lines)


def _notices_page(
    errors: dict[str, str] | None = None, typed: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    with database().transaction() as db:
        source = line_linking.quota_token(db, Actor(_admin_session(db)))
    timeout = min(settings().line_timeout_seconds, 3.0)
    quota = line_linking.line_quota(source, settings().line_api_base_url, timeout)  # no transaction open meanwhile
    with database().transaction() as db:
        app_session = _admin_session(db)
        shown = line_linking.notices_admin(db, Actor(app_session))
        platform_id = app_session.context.platform_id
        page = render_template(
            "admin/notices.html",
            shown=shown,
            webhook_url=f"{settings().public_base_url}/line/webhook/{platform_id}",
            quota=quota,
            email_on=settings().smtp is not None,
            errors=errors or {},
            typed=typed or {},
            resent=request.args.get("resent", type=int),
            saved=request.args.get("saved") == "1",
            switched_off=request.args.get("off") == "1",
            csrf_resend=csrf_token(app_session, RESEND_NOTICES),
            csrf_line=csrf_token(app_session, LINE_SETTINGS),
            session_url=session_url,
        )
    return page, status


@bp.get("/notices")
def notices_page() -> tuple[str, int]:
    return _notices_page()


@bp.post("/notices/resend")
def notices_resend() -> Response:
    """One parked notice again (its own button); all of them go through the confirmation page."""
    with database().transaction() as db:
        app_session = _admin_session(db)
        PlcForm.posted(app_session, RESEND_NOTICES)
        one = request.form.get("delivery", type=int)
        if one is None:
            return redirect(session_url("admin.confirm_resend_all"), code=303)
        count = line_linking.resend_notices(db, Actor(app_session), one)
    return redirect(session_url("admin.notices_page", resent=count), code=303)


@bp.get("/notices/resend-all")
def confirm_resend_all() -> tuple[str, int]:
    """Sending every parked and held notice again asks first; reading this page changes nothing."""
    with database().transaction() as db:
        app_session = _admin_session(db)
        return confirm.render(
            confirm.Confirmation(
                title=_("Send every parked and held notice again?"),
                follows=[
                    _("Every parked LINE message and e-mail of this platform is sent again, from the next pass on."),
                    _(
                        "LINE messages held for the month's quota go too, and the quota mark is cleared: if LINE's "
                        "quota is still spent, they are held again."
                    ),
                    _(
                        "A notice that reached its person before (an e-mail whose sending was cut short) may arrive twice."
                    ),
                ],
                action=session_url("admin.resend_all_notices"),
                csrf=csrf_token(app_session, RESEND_ALL_NOTICES),
                button=_("Send them all again"),
                back=session_url("admin.notices_page"),
            )
        )


@bp.post("/notices/resend-all")
def resend_all_notices() -> Response:
    with database().transaction() as db:
        app_session = _admin_session(db)
        PlcForm.posted(app_session, RESEND_ALL_NOTICES)
        count = line_linking.resend_notices(db, Actor(app_session))
    return redirect(session_url("admin.notices_page", resent=count), code=303)


@bp.get("/notices/line/off")
def confirm_line_off() -> tuple[str, int]:
    """Switching LINE notices off asks first (the token and the secret are wiped); reading this changes nothing."""
    with database().transaction() as db:
        app_session = _admin_session(db)
        return confirm.render(
            confirm.Confirmation(
                title=_("Switch LINE notices off?"),
                follows=[
                    _("PLC Bridge forgets the channel access token and the channel secret of the LINE account."),
                    _(
                        "No LINE message goes out and the account's webhook is refused until both are set again; "
                        "the notices stay in the people's notice lists, and by e-mail where it is on."
                    ),
                    _("The people's LINE links are kept: they need not link again when LINE is switched on."),
                ],
                action=session_url("admin.line_off"),
                csrf=csrf_token(app_session, LINE_OFF),
                button=_("Switch LINE notices off"),
                back=session_url("admin.notices_page"),
            )
        )


@bp.post("/notices/line/off")
def line_off() -> Response:
    with database().transaction() as db:
        app_session = _admin_session(db)
        PlcForm.posted(app_session, LINE_OFF)
        line_linking.switch_line_off(db, Actor(app_session))
    return redirect(session_url("admin.notices_page", off="1"), code=303)


@bp.post("/notices/line")
def line_settings() -> Response | tuple[str, int]:
    typed = {name: request.form.get(name, "") for name in ("basic_id",)}
    try:
        with database().transaction() as db:
            app_session = _admin_session(db)
            PlcForm.posted(app_session, LINE_SETTINGS)
            actor = Actor(app_session)
            line_linking.set_line_account(
                db,
                actor,
                request.form.get("access_token", ""),
                request.form.get("channel_secret", ""),
                request.form.get("basic_id", ""),
            )
    except InvalidInput as invalid:
        errors = {p.field: str(messages.LINE_PROBLEMS.get(p.code, p.code)) for p in invalid.problems}
        return _notices_page(errors, typed, 422)
    return redirect(session_url("admin.notices_page", saved="1"), code=303)
