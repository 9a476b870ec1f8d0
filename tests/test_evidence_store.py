"""The evidence stores on both databases: an upload streamed into `plc_evidence_chunks` in 256 KiB chunks with its
size and digest counted on the way, the size cap enforced while it streams, and the bytes gone with their row in the
same transaction when a person is erased or the retention run takes an ended program's files."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.services.evidence import evidence_store
from lti_tool.settings import Settings
from models import erasure
from models.evidence import (
    CHUNK_BYTES,
    DATABASE,
    FOLDER,
    MAX_EVIDENCE_BYTES,
    Evidence,
    EvidenceRefused,
    FolderStore,
    Upload,
    store_evidence,
)
from models.evidence_chunks import DatabaseStore, EvidenceChunk, chunk_count, chunks_in, stored_digest
from models.people import Membership
from models.programs import end
from models.retention import Removed, remove_free_text
from tests.factories import ENDED_ON, NOW, make_course, record, running
from tests.test_observations_page import png


def photo(size: int) -> bytes:
    head = png()
    return head + os.urandom(size - len(head))


class Shrunk(io.BytesIO):
    """A file that says it is smaller than it is (it grew after its check): the stream still counts every byte."""

    def seek(self, offset: int, whence: int = 0) -> int:
        at = super().seek(offset, whence)
        return min(at, 1024) if whence == 2 else at


def test_an_upload_streams_into_chunks_with_its_size_and_digest(db: Session) -> None:
    course = make_course(db, "chunks-" + uuid.uuid4().hex[:6])
    _, team = running(db, course)
    record(db, team, 1)
    data = photo(3 * CHUNK_BYTES + 123)

    [row] = store_evidence(
        db, DatabaseStore(), team.cycles[0], [Upload("ภาพ.png", stream=io.BytesIO(data))], course.teachers[0].id
    )

    assert (row.storage, row.size, row.sha256) == (DATABASE, len(data), hashlib.sha256(data).hexdigest())
    assert chunk_count(db, [row.id]) == 4
    sizes = db.scalars(select(func.length(EvidenceChunk.data)).where(EvidenceChunk.evidence_id == row.id))
    assert sorted(sizes) == [123, CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES]
    assert b"".join(chunks_in(db, row.id)) == data and stored_digest(db, row.id) == (row.size, row.sha256)


@pytest.mark.parametrize("store", ["database", "folder"])
def test_a_file_larger_than_the_cap_is_refused_while_it_streams_and_nothing_stays(
    db: Session, store: str, tmp_path: Any
) -> None:
    course = make_course(db, "cap-" + uuid.uuid4().hex[:6])
    _, team = running(db, course)
    record(db, team, 1)
    target = DatabaseStore() if store == "database" else FolderStore(tmp_path)
    fine = Upload("ก่อน.png", photo(2000))
    grown = Upload("โตขึ้น.png", stream=Shrunk(photo(MAX_EVIDENCE_BYTES + 1)))

    with pytest.raises(EvidenceRefused) as refused:
        store_evidence(db, target, team.cycles[0], [fine, grown], course.teachers[0].id)

    assert refused.value.reason == "too_large"
    assert db.scalars(select(Evidence)).all() == [] and chunk_count(db) == 0
    assert list(tmp_path.iterdir()) == []


def test_the_setting_chooses_the_store(tmp_path: Any) -> None:
    on_postgres = Settings(instance_path=tmp_path, database_url="postgresql+psycopg://x@h/d").resolved()
    on_sqlite = Settings(instance_path=tmp_path).resolved()
    assert (on_postgres.evidence_store, on_sqlite.evidence_store) == ("database", "folder")
    assert isinstance(evidence_store(on_postgres), DatabaseStore)
    assert isinstance(evidence_store(on_sqlite), FolderStore)
    forced = Settings(instance_path=tmp_path, evidence_store="folder", database_url="postgresql+psycopg://x@h/d")
    assert forced.resolved().evidence_store == "folder"


def test_an_erasure_takes_the_persons_bytes_out_of_the_database_in_its_transaction(db: Session) -> None:
    course = make_course(db, "erase-chunks-" + uuid.uuid4().hex[:6])
    _, team = running(db, course)
    record(db, team, 1)
    member, other = (db.get(Membership, team.member_ids[n]) for n in (0, 1))
    assert member is not None and other is not None
    cycle = team.cycles[0]
    [mine] = store_evidence(db, DatabaseStore(), cycle, [Upload("ของฉัน.png", photo(600_000))], member.id)
    [theirs] = store_evidence(db, DatabaseStore(), cycle, [Upload("ของเพื่อน.png", photo(300_000))], other.id)
    assert chunk_count(db, [mine.id]) == 3

    _, files = erasure.erase(
        db, erasure.holdings(db, member.person), pseudonym="ครูผู้เข้าร่วม ก-099", reason="คำขอ", erased_by_id=None, now=NOW
    )

    assert files == []  # nothing for the edge to delete after the commit: the bytes went with the row
    assert chunk_count(db, [mine.id]) == 0 and chunk_count(db, [theirs.id]) == 2
    assert b"".join(chunks_in(db, theirs.id)) and db.get(Evidence, theirs.id) is not None


def test_the_retention_run_takes_an_ended_programs_bytes_out_of_the_database(db: Session, tmp_path: Any) -> None:
    course = make_course(db, "keep-chunks-" + uuid.uuid4().hex[:6])
    program, team = running(db, course)
    record(db, team, 1)
    cycle, by = team.cycles[0], course.teachers[0].id
    [in_db] = store_evidence(db, DatabaseStore(), cycle, [Upload("ภาพ.png", photo(400_000))], by)
    [on_disk] = store_evidence(db, FolderStore(tmp_path), cycle, [Upload("แผน.png", photo(1000))], by)
    end(program, ENDED_ON)
    assert (in_db.storage, on_disk.storage) == (DATABASE, FOLDER) and chunk_count(db) == 2

    removed = Removed()
    remove_free_text(db, program, removed)

    assert removed.evidence == 2 and removed.files == [on_disk.stored_name]  # the folder's file after the commit
    assert chunk_count(db) == 0 and db.scalars(select(Evidence)).all() == []


def test_a_downgrade_below_the_chunks_is_refused_while_files_are_kept_in_the_database(tmp_path: Any) -> None:
    """Dropping the chunks would lose the files kept there: the downgrade stops and says so; with none there, it
    goes."""
    from sqlalchemy import create_engine, text

    from models.migrate import downgrade, upgrade

    engine = create_engine(f"sqlite:///{tmp_path / 'plc.sqlite3'}")
    upgrade(engine)
    row = (
        "INSERT INTO plc_evidence (cycle_id, uploaded_by_id, original_name, stored_name, content_type, size, sha256,"
        " storage, uploaded_at) VALUES (1, 1, 'แผน.png', :name, 'image/png', 3, 'x', :storage, '2026-12-06')"
    )
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.execute(text(row), {"name": "kept-in-db", "storage": "database"})

    # The releases after the chunks go first (SQLite runs each migration's DDL outside a transaction: a refusal
    # further down would not bring them back), then the step below the chunks is refused.
    downgrade(engine, "0025")
    with pytest.raises(RuntimeError, match="kept in the database"):
        downgrade(engine, "0024")
    with engine.begin() as connection:
        assert connection.scalar(text("SELECT count(*) FROM plc_evidence_chunks")) == 0  # still there: nothing dropped
        connection.execute(text("DELETE FROM plc_evidence"))
    downgrade(engine, "0024")
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0024"
    engine.dispose()
