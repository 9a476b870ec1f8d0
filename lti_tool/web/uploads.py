"""Files in a posted form: reading the evidence uploads, saying why one is refused, lifting the request size limit
for pages that take files, and keeping stored files only when their transaction commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import request
from flask_babel import gettext as _

from lti_tool.services.evidence import evidence_store
from lti_tool.web import messages
from lti_tool.web.session import settings
from models import evidence as ev

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


def store() -> ev.EvidenceStore:
    """Where this process puts new evidence (`PLC_EVIDENCE_STORE`)."""
    return evidence_store(settings())


def read_uploads() -> list[ev.Upload]:
    """The files chosen in the form's evidence field. A file input left empty sends a part with no name: skipped.
    Each file stays in the request's spooled part (Werkzeug keeps a large one in a temporary file) and is streamed
    from there into the store, never read whole into memory."""
    uploads = []
    for storage in request.files.getlist(FIELD):
        if not storage.filename:
            continue
        uploads.append(ev.Upload(storage.filename, stream=storage.stream))
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
    """Evidence stored inside the enclosed transaction: its folder files are taken off the disk again unless the
    transaction commits (enter this before the transaction, so that a failed commit is seen here too); chunks in
    the database roll back with their rows."""
    stored: list[ev.Evidence] = []
    try:
        yield stored
    except BaseException:
        ev.FolderStore(folder()).discard(stored)
        raise
