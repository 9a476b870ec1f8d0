"""Evidence files (lesson plans, photos, student work) attached to a cycle's session or to a Buddy's observation.

The bytes live in a store (`EvidenceStore`): a folder outside the web root under random names (`FolderStore`, the
embedded default), or the database itself (`models/evidence_chunks.py`, for web processes on several hosts); the
table keeps who uploaded what, its checked type, size, digest and which store holds it. The type is read from the
file's own bytes (puremagic), never trusted from its name or the browser. Uploads are streamed into the store in
chunks: never whole in memory, the size cap and the SHA-256 digest counted on the way.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

import puremagic
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, utcnow
from models.cycles import Cycle, ElementSession
from models.errors import ProgramError
from models.observations import Observation
from models.people import Membership
from models.programs import check_recording_allowed
from models.roles import AppRole
from models.scope import register_scope_path
from models.teams import Team

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_UPLOAD = 10
# What a PLC team hands in: documents, slides, sheets, photos. Keyed by the type the bytes show.
ALLOWED_TYPES = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}
_OOXML = {".docx", ".pptx", ".xlsx"}
CHUNK_BYTES = 256 * 1024  # what an upload is copied, stored (in the database) and served in
SNIFF_BYTES = 65536
FOLDER = "folder"  # Evidence.storage: the bytes are a file in the evidence folder
DATABASE = "database"  # ... or chunks in plc_evidence_chunks


class EvidenceRefused(ProgramError):
    """An upload that is too large, empty or of a type the tool does not keep; nothing was stored."""

    code = "evidence_refused"

    def __init__(self, reason: str, filename: str, **params: object) -> None:
        super().__init__(f"{filename}: {reason}", reason=reason, filename=filename, **params)
        self.reason = reason


class Evidence(Base):
    __tablename__ = "plc_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("plc_cycles.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("plc_element_sessions.id", ondelete="CASCADE"), index=True, default=None
    )
    observation_id: Mapped[int | None] = mapped_column(
        ForeignKey("plc_observations.id", ondelete="CASCADE"), index=True, default=None
    )
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # Where the bytes are: FOLDER (a file named stored_name in the evidence folder) or DATABASE (chunks).
    storage: Mapped[str] = mapped_column(String(16), default=FOLDER, server_default=FOLDER)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    cycle: Mapped[Cycle] = relationship()


register_scope_path(Evidence, (Evidence.cycle, Cycle.team, Team.program))


@dataclass(frozen=True)
class Upload:
    """A file to keep: its bytes (`data`), or a seekable file holding them (`stream`, the request's spooled part),
    which is read in chunks and never whole."""

    filename: str
    data: bytes = b""
    stream: BinaryIO | None = None

    def size(self) -> int:
        if self.stream is None:
            return len(self.data)
        end = self.stream.seek(0, 2)
        self.stream.seek(0)
        return end

    def head(self) -> bytes:
        """The first bytes, enough to tell the type."""
        if self.stream is None:
            return self.data[:SNIFF_BYTES]
        self.stream.seek(0)
        head = self.stream.read(SNIFF_BYTES)
        self.stream.seek(0)
        return head

    def chunks(self) -> Iterator[bytes]:
        if self.stream is None:
            yield from (self.data[at : at + CHUNK_BYTES] for at in range(0, len(self.data), CHUNK_BYTES))
            return
        self.stream.seek(0)
        while block := self.stream.read(CHUNK_BYTES):
            yield block


class Counted:
    """Bytes on their way into a store: counted against the size cap and digested as they pass."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.size = 0
        self._digest = hashlib.sha256()

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def through(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.size += len(chunk)
            if self.size > MAX_EVIDENCE_BYTES:  # the file grew after its check: refused while it streams
                raise EvidenceRefused("too_large", self.filename, most_mb=MAX_EVIDENCE_BYTES // (1024 * 1024))
            self._digest.update(chunk)
            yield chunk


class EvidenceStore(Protocol):
    """Where new evidence bytes go. `write` streams an upload in and sets the row's size and digest; `abandon` takes
    back, inside the transaction, what a failed `store_evidence` wrote; `discard` takes the bytes of rows that are
    gone, or never committed, off the store once the transaction's fate is known (the database's chunks leave with
    their rows, so it has nothing to do there)."""

    kind: str

    def write(self, db: Session, evidence: Evidence, upload: Upload) -> None: ...

    def abandon(self, db: Session, evidence: list[Evidence]) -> None: ...

    def discard(self, evidence: Iterable[Evidence]) -> None: ...


class FolderStore:
    """The evidence folder: one file per evidence, named by its random stored name (the embedded default)."""

    kind = FOLDER

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def write(self, db: Session, evidence: Evidence, upload: Upload) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        counted = Counted(evidence.original_name)
        # "x": never overwrite; a random name that already exists is a bug worth an error.
        with (self.folder / evidence.stored_name).open("xb") as file:
            try:
                for chunk in counted.through(upload.chunks()):
                    file.write(chunk)
            except BaseException:
                (self.folder / evidence.stored_name).unlink(missing_ok=True)
                raise
        evidence.size, evidence.sha256 = counted.size, counted.sha256

    def abandon(self, db: Session, evidence: list[Evidence]) -> None:
        self.discard(evidence)

    def discard(self, evidence: Iterable[Evidence]) -> None:
        remove_stored_files(self.folder, [item.stored_name for item in evidence if item.storage == FOLDER])


def remove_stored_files(folder: Path, names: Iterable[str]) -> int:
    """Delete files of the evidence folder by their stored names (missing ones are fine); how many were there."""
    gone = 0
    for name in names:
        path = folder / name
        if path.is_file():
            gone += 1
        path.unlink(missing_ok=True)
    return gone


def sniff_type(data: bytes, filename: str) -> str | None:
    """The allowed MIME type that the bytes show, or None. Office files are ZIPs: their inner names decide."""
    try:
        matches = puremagic.magic_string(data[:SNIFF_BYTES] if len(data) > SNIFF_BYTES else data, filename)
    except (puremagic.PureError, ValueError):
        return None
    for match in matches:
        mime = match.mime_type or ""
        if mime in ALLOWED_TYPES and ALLOWED_TYPES[mime] not in _OOXML:
            return mime
        if match.extension in _OOXML or mime in ALLOWED_TYPES:
            # puremagic reads an OOXML file by its [Content_Types] and part names.
            for allowed, extension in ALLOWED_TYPES.items():
                if extension == match.extension or allowed == mime:
                    return allowed
    return None


def _clean_name(filename: str) -> str:
    """The name to show and offer on download: the last path part only, without control characters (a name
    is text to display, never a path on our disk nor a header line)."""
    printable = "".join(ch for ch in filename if ch.isprintable())
    name = Path(printable.replace("\\", "/")).name.strip()
    return name[-255:] if len(name) > 255 else name or "file"


def check_upload(upload: Upload) -> str:
    """The upload's checked MIME type, or EvidenceRefused with the reason."""
    name = _clean_name(upload.filename)
    size = upload.size()
    if not size:
        raise EvidenceRefused("empty", name)
    if size > MAX_EVIDENCE_BYTES:
        raise EvidenceRefused("too_large", name, most_mb=MAX_EVIDENCE_BYTES // (1024 * 1024))
    mime = sniff_type(upload.head(), name)
    if mime is None:
        raise EvidenceRefused("type_not_allowed", name)
    return mime


def store_evidence(
    db: Session,
    store: EvidenceStore | Path,
    cycle: Cycle,
    uploads: list[Upload],
    by_id: int,
    *,
    session: ElementSession | None = None,
    observation: Observation | None = None,
) -> list[Evidence]:
    """Check every upload first, then stream them into the store (a folder given as a Path is a FolderStore): one
    refused file stores none of them."""
    if len(uploads) > MAX_FILES_PER_UPLOAD:
        raise EvidenceRefused("too_many_files", "", most=MAX_FILES_PER_UPLOAD)
    target = FolderStore(store) if isinstance(store, Path) else store
    checked = [(upload, check_upload(upload)) for upload in uploads]
    stored: list[Evidence] = []
    try:
        for upload, mime in checked:
            evidence = _row(cycle, upload, mime, secrets.token_hex(16), by_id, session, observation)
            evidence.storage = target.kind
            stored.append(evidence)
            target.write(db, evidence, upload)
    except BaseException:
        target.abandon(db, stored)  # one file failed to write: none of them stays
        raise
    db.add_all(stored)
    db.flush()
    return stored


def _row(
    cycle: Cycle,
    upload: Upload,
    mime: str,
    stored_name: str,
    by_id: int,
    session: ElementSession | None,
    observation: Observation | None,
) -> Evidence:
    return Evidence(
        cycle=cycle,
        session_id=session.id if session is not None else None,
        observation_id=observation.id if observation is not None else None,
        uploaded_by_id=by_id,
        original_name=_clean_name(upload.filename),
        stored_name=stored_name,
        content_type=mime,
        size=0,  # the store counts and digests the bytes as they stream in
        sha256="",
    )


def remove_files(folder: Path, evidence: list[Evidence]) -> None:
    """Take stored files off the disk again, for a transaction that did not commit."""
    FolderStore(folder).discard(evidence)


def evidence_path(folder: Path, evidence: Evidence) -> Path:
    return folder / evidence.stored_name


def evidence_of_session(db: Session, session_id: int) -> list[Evidence]:
    return list(db.scalars(select(Evidence).where(Evidence.session_id == session_id).order_by(Evidence.id)))


def evidence_of_observation(db: Session, observation_id: int) -> list[Evidence]:
    return list(db.scalars(select(Evidence).where(Evidence.observation_id == observation_id).order_by(Evidence.id)))


class NotYourEvidence(ProgramError):
    """Only the person who attached a file, or a trainer of the course, takes it off again."""

    code = "not_your_evidence"

    def __init__(self, membership_id: int, evidence_id: int) -> None:
        super().__init__(
            f"membership {membership_id} may not remove evidence {evidence_id}",
            membership_id=membership_id,
            evidence_id=evidence_id,
        )


def may_remove(viewer: Membership, evidence: Evidence) -> bool:
    """The person who attached it, or a trainer of the course (who also corrects a team's records)."""
    if viewer.context_id != evidence.cycle.team.program.context_id:
        return False
    return viewer.id == evidence.uploaded_by_id or viewer.app_role == AppRole.TRAINER


def remove_evidence(db: Session, evidence: Evidence, viewer: Membership, today: date) -> Path:
    """Take a wrongly attached file off its record while the program runs (the records of an ended program are
    what the results report and the certificates stand on). Returns the file's name in the evidence folder, for the
    caller to delete once the transaction has committed."""
    if not may_remove(viewer, evidence):
        raise NotYourEvidence(viewer.id, evidence.id)
    check_recording_allowed(evidence.cycle.team.program, today)
    stored = Path(evidence.stored_name)
    db.delete(evidence)
    db.flush()
    return stored
