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
from lti_tool.web import messages
from lti_tool.web import uploads as files
from lti_tool.web.access import TeamView, team_view
from lti_tool.web.forms.sessions import SessionForm
from lti_tool.web.session import csrf_token, database, require_session, session_url, settings
from models import evidence as ev
from models.base import utcnow
from models.calendar import program_day
from models.catalog import elements
from models.cycles import Cycle, ElementSession
from models.errors import InvalidInput, ProgramError
from models.people import course_members
from models.sessions import AppSession

bp = Blueprint("sessions", __name__, url_prefix="/program/sessions")
bp.before_request(files.allow_uploads)
RECORD = "session-record"


def _recorder_view(db: Session, app_session: AppSession) -> TeamView:
    """The team whose sessions are shown: a teacher's own; a trainer's choice (`?team=`)."""
    view = team_view(db, app_session)
    if not view.may_write:
        abort(403, description=_("Only the members of a PLC team record its sessions."))
    return view


def _page(db: Session, app_session: AppSession, view: TeamView, errors: dict[str, str] | None = None,
          notice: str = "", status: int = 200) -> tuple[str, int]:  # fmt: skip
    team = view.team
    members = {m.id: m for m in course_members(db, app_session.context_id)}
    recorded = db.scalars(
        select(ElementSession).join(Cycle).where(Cycle.team_id == team.id)
        .order_by(Cycle.number, ElementSession.element, ElementSession.held_on)
    ).all()  # fmt: skip
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
        values=request.form if errors else {},
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
                EvidenceFiles(files.folder(), stored), today=program_day(utcnow()),
            )  # fmt: skip
            notice = " ".join(str(messages.NOTICES.get(n.code, n.code)) for n in recorded.notices)
    except ev.EvidenceRefused as refused:
        return _fresh_page(errors={files.FIELD: files.refusal(refused)}, status=422)
    except InvalidInput as invalid:  # the transaction rolled back: no session, no learning record
        return _fresh_page(errors=messages.field_problems(invalid.problems, messages.SESSION_PROBLEMS), status=422)
    except ProgramError as refused:
        return _fresh_page(notice=messages.refusal(refused), status=409)
    if notice:
        return _fresh_page(notice=notice)
    return redirect(session_url("sessions.list_sessions", team=request.args.get("team", type=int)), code=303)


def _fresh_page(errors: dict[str, str] | None = None, notice: str = "", status: int = 200) -> tuple[str, int]:
    with database().transaction() as db:
        app_session = require_session(db)
        return _page(db, app_session, _recorder_view(db, app_session), errors=errors, notice=notice, status=status)
