"""Element sessions: the team records each of the Council's five elements of a cycle, with hours and who came."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.services import sessions
from lti_tool.services.actor import Actor
from lti_tool.services.evidence import EvidenceFiles
from lti_tool.web import confirm, messages
from lti_tool.web import uploads as files
from lti_tool.web.access import TeamView, team_view
from lti_tool.web.forms.sessions import CorrectionForm, SessionForm, WithdrawForm
from lti_tool.web.session import csrf_token, database, require_session, session_url, settings
from models import corrections
from models import evidence as ev
from models.base import utcnow
from models.calendar import program_day
from models.catalog import elements
from models.corrections import MAX_REASON_CHARS
from models.cycles import SESSION_IS_LIVE, Cycle, ElementSession, PossibleDuplicate
from models.errors import InvalidInput, NotFoundInCourse, ProgramError
from models.people import course_members
from models.roles import AppRole
from models.sessions import AppSession

bp = Blueprint("sessions", __name__, url_prefix="/program/sessions")
bp.before_request(files.allow_uploads)
RECORD = "session-record"
CORRECT = "session-correct"
WITHDRAW = "session-withdraw"


def _recorder_view(db: Session, app_session: AppSession) -> TeamView:
    """The team whose sessions are shown: a teacher's own; a trainer's choice (`?team=`)."""
    view = team_view(db, app_session)
    if not view.may_write:
        abort(403, description=_("Only the members of a PLC team record its sessions."))
    return view


def _saved(db: Session, view: TeamView, saved_id: int | None, did: str) -> tuple[str, str]:
    """What the last save did (`?saved=<id>&did=recorded|corrected|withdrawn`), and the link to the item."""
    session = db.get(ElementSession, saved_id or 0)
    if session is None or session.cycle.team_id != view.team.id or did not in messages.SESSION_SAVED:
        return "", ""
    text = str(messages.SESSION_SAVED[did]) % {"element": session.element, "cycle": session.cycle.number}
    link = "" if session.withdrawn_at else session_url("sessions.show", session_id=session.id, team=view.team.id)
    return text, link


def _page(db: Session, app_session: AppSession, view: TeamView, errors: dict[str, str] | None = None,
          notice: str = "", status: int = 200, duplicates: list[ElementSession] | None = None,
          saved_id: int | None = None) -> tuple[str, int]:  # fmt: skip
    team = view.team
    members = {m.id: m for m in course_members(db, app_session.context_id)}
    recorded = db.scalars(
        select(ElementSession).join(Cycle).where(Cycle.team_id == team.id, SESSION_IS_LIVE)
        .order_by(Cycle.number, ElementSession.element, ElementSession.held_on)
    ).all()  # fmt: skip
    changes = corrections.history(db, corrections.SESSION, [s.id for s in recorded])
    saved_id = saved_id or request.args.get("saved", type=int)
    saved, saved_link = _saved(db, view, saved_id, request.args.get("did", "recorded"))
    attached: dict[int | None, list[ev.Evidence]] = {}
    for item in db.scalars(
        select(ev.Evidence).where(ev.Evidence.session_id.in_([s.id for s in recorded])).order_by(ev.Evidence.id)
    ):
        attached.setdefault(item.session_id, []).append(item)
    page = render_template(
        "program_sessions.html",
        team=team,
        view=view,
        program=team.program,
        members=members,
        team_members=[members[mid] for mid in team.member_ids if mid in members],
        sessions=recorded,
        attached=attached,
        most_files=ev.MAX_FILES_PER_UPLOAD,
        most_mb=ev.MAX_EVIDENCE_BYTES // (1024 * 1024),
        elements=elements(),
        errors=errors or {},
        notice=notice,
        saved=saved,
        saved_link=saved_link,
        changes=changes,
        duplicates=duplicates or [],
        values=request.form if errors or duplicates else {},
        # A link to one cycle's element (the landing page, the cycle page, a Deep Linking activity) preselects it.
        preset={"cycle": request.args.get("cycle", ""), "element": request.args.get("element", "")},
        csrf=csrf_token(app_session, RECORD),
        today=program_day(utcnow()).isoformat(),
        session_url=session_url,
    )
    return page, status


@bp.get("")
def list_sessions() -> tuple[str, int]:
    with database().transaction() as db:
        app_session = require_session(db)
        return _page(db, app_session, _recorder_view(db, app_session))


@bp.post("")
def record() -> Response | tuple[str, int]:
    """Record a session with its evidence files in one transaction with its learning records; a refused field or
    file writes nothing, and the files of a transaction that does not commit are taken off the disk again."""
    notice = ""
    try:
        with files.kept_on_commit() as stored, database().transaction() as db:
            app_session = require_session(db)
            view = _recorder_view(db, app_session)
            form = SessionForm.posted(app_session, RECORD)
            form.validate()
            errors = form.problems()
            uploads = files.read_uploads()
            if problem := files.upload_problems(uploads):
                errors[files.FIELD] = problem
            if errors:
                return _page(db, app_session, view, errors=errors, status=422)
            recorded = sessions.record_session(
                db, settings(), Actor(app_session), view.team, form.entry(), uploads,
                EvidenceFiles(files.store(), stored), today=program_day(utcnow()),
            )  # fmt: skip
            notice = " ".join(str(messages.NOTICES.get(n.code, n.code)) for n in recorded.notices)
    except ev.EvidenceRefused as refused:
        return _fresh_page(errors={files.FIELD: files.refusal(refused)}, status=422)
    except InvalidInput as invalid:  # the transaction rolled back: no session, no learning record
        return _fresh_page(errors=messages.field_problems(invalid.problems, messages.SESSION_PROBLEMS), status=422)
    except PossibleDuplicate as caught:  # nothing written: the page shows the one recorded, and "record anyway"
        return _fresh_page(duplicates=list(caught.params["session_ids"]), status=409)
    except ProgramError as refused:
        return _fresh_page(notice=messages.refusal(refused), status=409)
    team_id = request.args.get("team", type=int)
    if notice:
        return _fresh_page(notice=notice, saved_id=recorded.session.id)
    return redirect(
        session_url("sessions.list_sessions", team=team_id, saved=recorded.session.id, did="recorded"), code=303
    )


def _fresh_page(
    errors: dict[str, str] | None = None,
    notice: str = "",
    status: int = 200,
    duplicates: list[int] | None = None,
    saved_id: int | None = None,
) -> tuple[str, int]:
    with database().transaction() as db:
        app_session = require_session(db)
        found = [s for s in (db.get(ElementSession, i) for i in duplicates or []) if s is not None]
        view = _recorder_view(db, app_session)
        return _page(
            db, app_session, view, errors=errors, notice=notice, status=status, duplicates=found, saved_id=saved_id
        )


# --- one session: what it says, its history, its correction and withdrawal -------------------------------------------


def _item_page(db: Session, app_session: AppSession, view: TeamView, session_id: int,
               errors: dict[str, str] | None = None, notice: str = "", status: int = 200) -> tuple[str, int]:  # fmt: skip
    try:
        session = sessions.team_session(db, view.team, session_id)
    except NotFoundInCourse:
        abort(404)
    members = {m.id: m for m in course_members(db, app_session.context_id)}
    program = view.team.program
    actor = Actor(app_session)
    did = request.args.get("did", "")
    saved = ""
    if did in messages.SESSION_SAVED and request.args.get("saved", type=int) == session.id:
        saved = str(messages.SESSION_SAVED[did]) % {"element": session.element, "cycle": session.cycle.number}
    page = render_template(
        "program_session.html",
        team=view.team,
        view=view,
        program=program,
        session=session,
        members=members,
        team_members=[members[mid] for mid in view.team.member_ids if mid in members],
        changes=corrections.history(db, corrections.SESSION, [session.id]).get(session.id, []),
        is_trainer=actor.role == AppRole.TRAINER,
        may_change=corrections.may_change(program, session.created_by_id, actor.membership),
        elements=elements(),
        errors=errors or {},
        notice=notice,
        saved=saved,
        values=request.form if errors else {},
        csrf_correct=csrf_token(app_session, CORRECT),
        today=program_day(utcnow()).isoformat(),
        session_url=session_url,
    )
    return page, status


@bp.get("/<int:session_id>")
def show(session_id: int) -> tuple[str, int]:
    with database().transaction() as db:
        app_session = require_session(db)
        return _item_page(db, app_session, _recorder_view(db, app_session), session_id)


def _fresh_item(session_id: int, errors: dict[str, str] | None = None, notice: str = "", status: int = 200
                ) -> tuple[str, int]:  # fmt: skip
    with database().transaction() as db:
        app_session = require_session(db)
        view = _recorder_view(db, app_session)
        return _item_page(db, app_session, view, session_id, errors=errors, notice=notice, status=status)


@bp.post("/<int:session_id>/correct")
def correct(session_id: int) -> Response | tuple[str, int]:
    """Correct every field of a session; its history, its learning records and completions follow in one
    transaction, or nothing changes."""
    try:
        with database().transaction() as db:
            app_session = require_session(db)
            view = _recorder_view(db, app_session)
            form = CorrectionForm.posted(app_session, CORRECT)
            form.validate()
            if errors := form.problems():
                return _item_page(db, app_session, view, session_id, errors=errors, status=422)
            now = utcnow()
            sessions.correct_session(
                db, settings(), Actor(app_session), view.team, session_id, form.entry(), form.reason.data,
                today=program_day(now), now=now,
            )  # fmt: skip
    except InvalidInput as invalid:
        return _fresh_item(session_id, messages.field_problems(invalid.problems, messages.SESSION_PROBLEMS), status=422)
    except NotFoundInCourse:
        abort(404)
    except ProgramError as refused:
        return _fresh_item(session_id, notice=messages.refusal(refused), status=409)
    team_id = request.args.get("team", type=int)
    return redirect(
        session_url("sessions.show", session_id=session_id, team=team_id, saved=session_id, did="corrected"), code=303
    )


def _withdrawal(db: Session, app_session: AppSession, view: TeamView, session_id: int,
                reason: str = "", error: str = "", refusal: str = "") -> confirm.Confirmation:  # fmt: skip
    """What withdrawing means: the session counts nowhere any more and its learning records are voided."""
    try:
        session = sessions.team_session(db, view.team, session_id)
    except NotFoundInCourse:
        abort(404)
    if not corrections.may_change(view.team.program, session.created_by_id, app_session.membership):
        abort(
            403,
            description=_("Only the person who recorded this session, or a trainer of the course, may withdraw it."),
        )
    members = {m.id: m for m in course_members(db, app_session.context_id)}
    names = ", ".join(members[m].person.name for m in session.attendee_ids if m in members)
    team_id = request.args.get("team", type=int)
    return confirm.Confirmation(
        title=_("Withdraw the session of element %(element)s, cycle %(cycle)s?", element=session.element,
                cycle=session.cycle.number),
        follows=[
            _("It will no longer count toward the teachers' hours, their eligibility for a certificate, their hours "
              "logbooks or the results report sent to the Teachers' Council."),
            _("Its learning records are voided in the learning record store; a completion that no longer holds is "
              "voided too."),
            _("Its history is kept, with who withdrew it, when and why."),
        ],
        people=[_("%(hours)s hours come off the logbook of: %(names)s.", hours=session.hours, names=names)]
        if names else [],
        inputs=[confirm.Input("reason", _("Reason for the change"), value=reason, error=error,
                              maxlength=MAX_REASON_CHARS, field_id="withdraw-reason")],
        action=session_url("sessions.withdraw_confirmed", session_id=session_id, team=team_id),
        csrf=csrf_token(app_session, WITHDRAW),
        button=_("Withdraw the session"),
        back=session_url("sessions.show", session_id=session_id, team=team_id),
        refusal=refusal,
    )  # fmt: skip


@bp.post("/<int:session_id>/withdraw")
def withdraw(session_id: int) -> Response:
    """The old direct POST: it changes nothing and leads to the confirmation page."""
    team_id = request.args.get("team", type=int)
    with database().transaction() as db:
        require_session(db)
        return redirect(session_url("sessions.withdraw_confirm", session_id=session_id, team=team_id), code=303)


@bp.get("/<int:session_id>/withdraw/confirm")
def withdraw_confirm(session_id: int) -> tuple[str, int]:
    """The confirmation page, which asks the reason: reading it changes nothing."""
    with database().transaction() as db:
        app_session = require_session(db)
        return confirm.render(_withdrawal(db, app_session, _recorder_view(db, app_session), session_id))


@bp.post("/<int:session_id>/withdraw/confirm")
def withdraw_confirmed(session_id: int) -> Response | tuple[str, int]:
    """Withdraw a session: it counts nowhere any more, its learning records are voided, its history is kept."""
    reason = request.form.get("reason", "")
    try:
        with database().transaction() as db:
            app_session = require_session(db)
            view = _recorder_view(db, app_session)
            form = WithdrawForm.posted(app_session, WITHDRAW)
            form.validate()
            if errors := form.problems():
                page = _withdrawal(db, app_session, view, session_id, reason, errors.get("reason", ""))
                return confirm.render(page, 422)
            sessions.withdraw_session(
                db, settings(), Actor(app_session), view.team, session_id, form.reason.data, now=utcnow()
            )
    except InvalidInput as invalid:  # the reason typed stays in the field, beside what is wrong with it
        errors = messages.field_problems(invalid.problems, messages.SESSION_PROBLEMS)
        return _refused_withdrawal(session_id, reason, error=errors.get("reason", ""), status=422)
    except NotFoundInCourse:
        abort(404)
    except ProgramError as refused:
        return _refused_withdrawal(session_id, reason, refusal=messages.refusal(refused), status=409)
    team_id = request.args.get("team", type=int)
    return redirect(session_url("sessions.list_sessions", team=team_id, saved=session_id, did="withdrawn"), code=303)


def _refused_withdrawal(session_id: int, reason: str, *, error: str = "", refusal: str = "", status: int
                        ) -> tuple[str, int]:  # fmt: skip
    with database().transaction() as db:
        app_session = require_session(db)
        view = _recorder_view(db, app_session)
        return confirm.render(_withdrawal(db, app_session, view, session_id, reason, error, refusal), status)
