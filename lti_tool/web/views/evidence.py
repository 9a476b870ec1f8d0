"""Evidence files over HTTP: serving a file, as a download, only to the people who may see what it is attached to
(from the evidence folder, or streamed chunk by chunk from the database), and taking a wrongly attached file off
again."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, g, redirect, request, send_file
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.services import evidence as service
from lti_tool.services import read_log
from lti_tool.services.actor import Actor
from lti_tool.web import confirm
from lti_tool.web.forms.base import PlcForm
from lti_tool.web.i18n import format_date_local as be_date
from lti_tool.web.session import LINK_PARAM, csrf_token, database, link_token, require_session, session_url
from lti_tool.web.uploads import folder
from models import evidence as ev
from models.cycles import ElementSession
from models.errors import NotFoundInCourse, ProgramError
from models.evidence_chunks import read_chunks
from models.people import Membership
from models.read_log import ReadKind
from models.scope import get_in_course
from models.sessions import AppSession
from models.states import ProgramState

bp = Blueprint("evidence", __name__, url_prefix="/program/evidence")


def _ascii_name(evidence: ev.Evidence) -> str:
    """A plain-ASCII name for old clients that ignore filename*: the name's Latin letters, or evidence-<id>."""
    suffix = Path(evidence.original_name).suffix
    stem = unicodedata.normalize("NFKD", evidence.original_name[: -len(suffix) or None])
    stem = "".join(ch for ch in stem.encode("ascii", "ignore").decode() if ch.isalnum() or ch in " -_.").strip()
    suffix = "".join(ch for ch in suffix.encode("ascii", "ignore").decode() if ch.isalnum() or ch == ".")
    return (stem or f"evidence-{evidence.id}") + suffix


@bp.get("/<int:evidence_id>")
def download(evidence_id: int) -> Response:
    with database().transaction() as db:
        app_session = require_session(db)
        try:
            evidence = service.open_evidence(db, Actor(app_session), evidence_id)
        except NotFoundInCourse:
            abort(404, description=_("There is no such file in this course."))
        except service.NotYourFile:
            abort(403, description=_("This file belongs to a record you may not read."))
        read_log.log_read(db, Actor(app_session), evidence.uploaded_by_id, ReadKind.EVIDENCE, evidence.id)
        path = ev.evidence_path(folder(), evidence)
    if evidence.storage == ev.DATABASE:
        # A generator over short transactions, one chunk each: the file never sits whole in memory.
        response = Response(
            read_chunks(database(), evidence.id), mimetype=evidence.content_type, direct_passthrough=True
        )
        response.content_length = evidence.size
        response.set_etag(evidence.sha256)
        response.make_conditional(request)
    elif path.is_file():
        response = send_file(path, mimetype=evidence.content_type, conditional=True, etag=evidence.sha256, max_age=0)
    else:
        abort(
            404,
            description=_("The file is no longer on the server. Ask the person who attached it to attach it again."),
        )
    # RFC 6266 / RFC 8187: the UTF-8 name (Thai) for today's browsers, a plain one for the rest.
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{_ascii_name(evidence)}\"; filename*=UTF-8''{quote(evidence.original_name, safe='')}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- Taking a wrongly attached file off again -------------------------------------------------------------------

REMOVE = "evidence-remove"


@bp.app_context_processor
def _removal() -> dict[str, Any]:
    """For pages that list files: whether this session's person may remove one, and the remove form's token."""

    def may_remove_evidence(item: ev.Evidence) -> bool:
        app_session = g.get("plc_session")
        return (
            app_session is not None
            and ev.may_remove(app_session.membership, item)
            and item.cycle.team.program.state is ProgramState.RUNNING
        )

    def evidence_remove_link() -> dict[str, str]:
        """The hidden fields of a remove button's GET form (a GET form drops its action's query)."""
        return {LINK_PARAM: link_token(g.plc_session)}

    return {"may_remove_evidence": may_remove_evidence, "evidence_remove_link": evidence_remove_link}


def _back_to(evidence: ev.Evidence, viewer: Membership) -> str:
    """The page the file was listed on: the team's sessions, or the observation (its form, for its Buddy)."""
    if evidence.observation_id is not None:
        if viewer.id == evidence.uploaded_by_id:
            return session_url("observations.form", number=evidence.cycle.number)
        return session_url("observations.show", observation_id=evidence.observation_id)
    return session_url("sessions.list_sessions", team=evidence.cycle.team_id)


def _attached_to(db: Session, evidence: ev.Evidence) -> str:
    """What the file is attached to, in words: the element session or the observation of a cycle."""
    team = evidence.cycle.team.name
    session = db.get(ElementSession, evidence.session_id) if evidence.session_id is not None else None
    if session is not None:
        return _(
            "the session of element %(element)s, cycle %(cycle)s of team %(team)s, held on %(day)s",
            element=session.element,
            cycle=evidence.cycle.number,
            team=team,
            day=be_date(session.held_on),
        )
    return _("the classroom observation of cycle %(cycle)s of team %(team)s", cycle=evidence.cycle.number, team=team)


def _removal_confirmation(db: Session, app_session: AppSession, evidence: ev.Evidence) -> confirm.Confirmation:
    return confirm.Confirmation(
        title=_("Remove the file %(name)s?", name=evidence.original_name),
        follows=[
            _(
                "The file %(name)s is taken off %(what)s.",
                name=evidence.original_name,
                what=_attached_to(db, evidence),
            ),
            _("It is deleted from the server and cannot be brought back: if it was the right file, attach it again."),
            _("The record itself stays as it is; files can be removed only while the program runs."),
        ],
        action=session_url("evidence.remove_confirmed", evidence_id=evidence.id),
        csrf=csrf_token(app_session, REMOVE),
        button=_("Remove the file"),
        back=_back_to(evidence, app_session.membership),
    )


def _removable(db: Session, app_session: AppSession, evidence_id: int) -> ev.Evidence:
    """The file, if this person may take it off (404 outside the course, 403 for anyone but its uploader or a
    trainer)."""
    try:
        evidence = get_in_course(db, Actor(app_session).scope, ev.Evidence, evidence_id)
    except NotFoundInCourse:
        abort(404, description=_("There is no such file in this course."))
    if not ev.may_remove(app_session.membership, evidence):
        abort(403, description=_("Only the person who attached this file, or a trainer of the course, may remove it."))
    return evidence


@bp.post("/<int:evidence_id>/remove")
def remove(evidence_id: int) -> Response:
    """The old direct POST: it changes nothing and leads to the confirmation page."""
    with database().transaction() as db:
        require_session(db)
        return redirect(session_url("evidence.remove_confirm", evidence_id=evidence_id), code=303)


@bp.get("/<int:evidence_id>/remove/confirm")
def remove_confirm(evidence_id: int) -> tuple[str, int]:
    """The confirmation page: reading it changes nothing."""
    with database().transaction() as db:
        app_session = require_session(db)
        return confirm.render(_removal_confirmation(db, app_session, _removable(db, app_session, evidence_id)))


@bp.post("/<int:evidence_id>/remove/confirm")
def remove_confirmed(evidence_id: int) -> Response:
    """The confirmation page's own POST: the one place a file is removed."""
    try:
        with database().transaction() as db:
            app_session = require_session(db)
            PlcForm.posted(app_session, REMOVE)
            removed = service.remove_evidence(db, Actor(app_session), evidence_id)
            back, stored = _back_to(removed, app_session.membership), removed.stored_name
            in_folder = removed.storage == ev.FOLDER  # the database's bytes went with the row
    except NotFoundInCourse:
        abort(404, description=_("There is no such file in this course."))
    except ev.NotYourEvidence:
        abort(403, description=_("Only the person who attached this file, or a trainer of the course, may remove it."))
    except ProgramError:
        abort(
            409, description=_("Files are removed only while the program runs: its records are then kept as they are.")
        )
    if in_folder:
        (folder() / stored).unlink(missing_ok=True)  # after the commit: a rolled-back removal keeps its file
    return redirect(back, code=303)
