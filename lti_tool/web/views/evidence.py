"""Evidence files over HTTP: reading uploads from a form, saying why one is refused, keeping files only when their
transaction commits, and serving a file, as a download, only to the people who may see what it is attached to."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, g, redirect, request, send_file
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lti_tool.services import evidence as service
from lti_tool.services.actor import Actor
from lti_tool.web import messages
from lti_tool.web.forms.base import PlcForm
from lti_tool.web.session import csrf_token, database, require_session, session_url, settings
from models import evidence as ev
from models.errors import NotFoundInCourse, ProgramError
from models.people import Membership
from models.states import ProgramState

bp = Blueprint("evidence", __name__, url_prefix="/program/evidence")

FIELD = "evidence"  # the name of every evidence file input
# A form with files may carry the most files of the most size, and its text fields; a larger request is refused
# as a whole (413) before it is read.
UPLOAD_REQUEST_BYTES = ev.MAX_FILES_PER_UPLOAD * ev.MAX_EVIDENCE_BYTES + 2 * 1024 * 1024


def allow_uploads() -> None:
    """For blueprints whose forms carry files: lift this request's size limit before anything reads the body."""
    request.max_content_length = UPLOAD_REQUEST_BYTES


def folder() -> Path:
    path = settings().evidence_path
    assert path is not None  # Settings.resolved() fills it
    return path


def read_uploads() -> list[ev.Upload]:
    """The files chosen in the form's evidence field. A file input left empty sends a part with no name: skipped.
    Each file is read to one byte past the limit, enough to know it is too large."""
    uploads = []
    for storage in request.files.getlist(FIELD):
        if not storage.filename:
            continue
        uploads.append(ev.Upload(storage.filename, storage.stream.read(ev.MAX_EVIDENCE_BYTES + 1)))
    return uploads


def refusal(refused: ev.EvidenceRefused) -> str:
    return str(messages.EVIDENCE_REFUSALS.get(refused.reason, refused.reason)) % refused.params


def upload_problems(uploads: list[ev.Upload]) -> str:
    """Why the uploads cannot be kept, naming each refused file; empty when all of them may be stored."""
    if len(uploads) > ev.MAX_FILES_PER_UPLOAD:
        return refusal(ev.EvidenceRefused("too_many_files", "", most=ev.MAX_FILES_PER_UPLOAD))
    found = []
    for upload in uploads:
        try:
            ev.check_upload(upload)
        except ev.EvidenceRefused as refused:
            found.append(refusal(refused))
    if found:
        found.append(_("Nothing was saved: choose the files again without these."))
    return " ".join(found)


@contextmanager
def kept_on_commit() -> Iterator[list[ev.Evidence]]:
    """Evidence stored inside the enclosed transaction: its files are taken off the disk again unless the
    transaction commits (enter this before the transaction, so that a failed commit is seen here too)."""
    stored: list[ev.Evidence] = []
    try:
        yield stored
    except BaseException:
        ev.remove_files(folder(), stored)
        raise


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
        path = ev.evidence_path(folder(), evidence)
    if not path.is_file():
        abort(
            404,
            description=_("The file is no longer on the server. Ask the person who attached it to attach it again."),
        )
    response = send_file(path, mimetype=evidence.content_type, conditional=True, etag=evidence.sha256, max_age=0)
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

    def evidence_remove_token() -> str:
        return csrf_token(g.plc_session, REMOVE)

    return {"may_remove_evidence": may_remove_evidence, "evidence_remove_token": evidence_remove_token}


def _back_to(evidence: ev.Evidence, viewer: Membership) -> str:
    """The page the file was listed on: the team's sessions, or the observation (its form, for its Buddy)."""
    if evidence.observation_id is not None:
        if viewer.id == evidence.uploaded_by_id:
            return session_url("observations.form", number=evidence.cycle.number)
        return session_url("observations.show", observation_id=evidence.observation_id)
    return session_url("sessions.list_sessions", team=evidence.cycle.team_id)


@bp.post("/<int:evidence_id>/remove")
def remove(evidence_id: int) -> Response:
    try:
        with database().transaction() as db:
            app_session = require_session(db)
            PlcForm.posted(app_session, REMOVE)
            removed = service.remove_evidence(db, Actor(app_session), evidence_id)
            back, stored = _back_to(removed, app_session.membership), removed.stored_name
    except NotFoundInCourse:
        abort(404, description=_("There is no such file in this course."))
    except ev.NotYourEvidence:
        abort(403, description=_("Only the person who attached this file, or a trainer of the course, may remove it."))
    except ProgramError:
        abort(
            409, description=_("Files are removed only while the program runs: its records are then kept as they are.")
        )
    (folder() / stored).unlink(missing_ok=True)  # after the commit: a rolled-back removal keeps its file
    return redirect(back, code=303)
