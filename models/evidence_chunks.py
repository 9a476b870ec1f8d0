"""Evidence bytes in the database, so that every web process on every host reads the same files (and a dump of the
database holds them): `plc_evidence_chunks`, one row per 256 KiB of a file, written as the upload streams in and read
back one chunk at a time. A chunk belongs to its evidence row (ON DELETE CASCADE): the bytes go in the same
transaction as the row, whoever deletes it (a removal, an erasure, the retention run, a deleted cycle).

`move_to_database` moves one file of the evidence folder in, checked by its digest (`plc-bridge evidence migrate`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy import ForeignKey, LargeBinary, delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base
from models.database import Database
from models.evidence import CHUNK_BYTES, DATABASE, FOLDER, Counted, Evidence, Upload


class EvidenceChunk(Base):
    __tablename__ = "plc_evidence_chunks"

    evidence_id: Mapped[int] = mapped_column(ForeignKey("plc_evidence.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


def _write_chunks(db: Session, evidence_id: int, chunks: Iterable[bytes]) -> int:
    """Insert the chunks in order (each statement carries one chunk: memory holds one at a time); how many."""
    seq = 0
    for chunk in chunks:
        db.execute(insert(EvidenceChunk), {"evidence_id": evidence_id, "seq": seq, "data": chunk})
        seq += 1
    return seq


class DatabaseStore:
    """New evidence goes into `plc_evidence_chunks` (the default on PostgreSQL)."""

    kind = DATABASE

    def write(self, db: Session, evidence: Evidence, upload: Upload) -> None:
        db.add(evidence)
        db.flush()  # the row's id, for its chunks
        counted = Counted(evidence.original_name)
        _write_chunks(db, evidence.id, counted.through(upload.chunks()))
        evidence.size, evidence.sha256 = counted.size, counted.sha256

    def abandon(self, db: Session, evidence: list[Evidence]) -> None:
        """Take back the rows (and so their chunks) a failed upload flushed, should the caller keep its
        transaction; a transaction that failed itself is rolled back by its owner and takes them along."""
        try:
            for item in evidence:
                if item in db and item.id is not None:
                    db.delete(item)
            db.flush()
        except SQLAlchemyError:
            pass  # the session has failed: its rollback removes them

    def discard(self, evidence: Iterable[Evidence]) -> None:
        """Nothing to do: the chunks committed or rolled back with their rows."""


def read_chunks(database: Database, evidence_id: int) -> Iterator[bytes]:
    """The stored bytes, one chunk per short transaction, for a response that streams them after its request's own
    transaction has ended (a file removed meanwhile ends the stream early)."""
    seq = 0
    while True:
        with database.transaction() as db:
            chunk = db.scalar(
                select(EvidenceChunk.data).where(EvidenceChunk.evidence_id == evidence_id, EvidenceChunk.seq == seq)
            )
        if chunk is None:
            return
        yield bytes(chunk)
        seq += 1


def chunks_in(db: Session, evidence_id: int) -> Iterator[bytes]:
    """The stored bytes inside the caller's transaction (checks, backups, tests)."""
    seq = 0
    while (
        chunk := db.scalar(
            select(EvidenceChunk.data).where(EvidenceChunk.evidence_id == evidence_id, EvidenceChunk.seq == seq)
        )
    ) is not None:
        yield bytes(chunk)
        seq += 1


def stored_digest(db: Session, evidence_id: int) -> tuple[int, str]:
    """Size and SHA-256 of what the database holds for one evidence."""
    digest, size = hashlib.sha256(), 0
    for chunk in chunks_in(db, evidence_id):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def chunk_count(db: Session, evidence_ids: Iterable[int] | None = None) -> int:
    query = select(func.count()).select_from(EvidenceChunk)
    if evidence_ids is not None:
        query = query.where(EvidenceChunk.evidence_id.in_(list(evidence_ids)))
    return int(db.scalar(query) or 0)


# --- Moving the evidence folder's files into the database --------------------------------------------------------


class Moved(StrEnum):
    MOVED = "moved"  # copied in, digest checked; the file may go once the transaction commits
    WOULD_MOVE = "would_move"  # a dry run: the file is there and its digest is the row's
    ALREADY = "already_in_database"
    MISSING = "file_missing"  # the row's file is not in the folder: the row stays as it is
    MISMATCH = "digest_mismatch"  # the file's bytes are not the ones uploaded: refused, nothing changes


@dataclass(frozen=True)
class MoveOutcome:
    outcome: Moved
    detail: str = ""


def evidence_in_database(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(Evidence).where(Evidence.storage == DATABASE)) or 0)


def folder_evidence_ids(db: Session) -> list[int]:
    """Every evidence row whose bytes are in the folder, oldest first (a maintenance reading over all platforms)."""
    return list(db.scalars(select(Evidence.id).where(Evidence.storage == FOLDER).order_by(Evidence.id)))


def _file_digest(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def move_to_database(db: Session, folder: Path, evidence_id: int, *, dry_run: bool = False) -> MoveOutcome:
    """Move one evidence's file into the database, in the caller's transaction: the chunks, then their digest read
    back from the database, then the row marked as stored there. A digest that differs from the row's (a file
    changed or damaged on the disk) refuses the move and changes nothing. The file itself is the caller's to delete
    after the commit."""
    evidence = db.get(Evidence, evidence_id, with_for_update=True)
    if evidence is None or evidence.storage == DATABASE:
        return MoveOutcome(Moved.ALREADY)
    path = folder / evidence.stored_name
    if not path.is_file():
        return MoveOutcome(Moved.MISSING, str(path))
    size, digest = _file_digest(path)
    if (size, digest) != (evidence.size, evidence.sha256):
        return MoveOutcome(Moved.MISMATCH, f"{path}: {size} bytes, sha256 {digest}; the row says {evidence.sha256}")
    if dry_run:
        return MoveOutcome(Moved.WOULD_MOVE)
    db.execute(delete(EvidenceChunk).where(EvidenceChunk.evidence_id == evidence.id))  # none, unless half a run
    with path.open("rb") as file:
        _write_chunks(db, evidence.id, iter(lambda: file.read(CHUNK_BYTES), b""))
    if stored_digest(db, evidence.id) != (evidence.size, evidence.sha256):
        raise RuntimeError(f"evidence {evidence.id}: the database does not hold the bytes just written")
    evidence.storage = DATABASE
    db.flush()
    return MoveOutcome(Moved.MOVED, evidence.stored_name)


def moved_files_left(db: Session, folder: Path) -> list[str]:
    """Files of rows already in the database that are still in the folder (a run stopped between its commit and
    the file's deletion)."""
    if not folder.is_dir():
        return []
    present = {path.name for path in folder.iterdir() if path.is_file()}
    if not present:
        return []
    names = db.scalars(select(Evidence.stored_name).where(Evidence.storage == DATABASE))
    return sorted(name for name in names if name in present)
