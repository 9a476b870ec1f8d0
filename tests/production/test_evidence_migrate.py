"""`plc-bridge evidence migrate` as an administrator runs it: the evidence folder's files move into the database,
each checked by its digest; a dry run changes nothing; a partial run, and a run killed midway, are resumed by the
next one; a file whose bytes are not the ones uploaded is refused and stays where it is."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.harness import CLI
from models.database import Database
from models.evidence import DATABASE, FOLDER, Evidence, FolderStore, Upload, store_evidence
from models.evidence_chunks import chunk_count, chunks_in
from models.migrate import upgrade
from tests.factories import make_course, record, running
from tests.support.pg import throwaway_database
from tests.test_evidence_store import photo

pytestmark = pytest.mark.postgres


@dataclass
class Site:
    database: Database
    folder: Path
    env: dict[str, str]
    originals: dict[int, bytes]  # evidence id → the bytes uploaded

    def migrate(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, "evidence", "migrate", *args], env=self.env, capture_output=True, text=True)

    def rows(self) -> dict[int, Evidence]:
        with self.database.transaction() as db:
            return {row.id: row for row in db.scalars(select(Evidence).order_by(Evidence.id))}

    def files(self) -> set[str]:
        return {path.name for path in self.folder.iterdir()}


def a_site(url: str, tmp_path: Path, files: int, size: int) -> Site:
    """A database with `files` evidence files of `size` bytes in the evidence folder, as before this release."""
    database = Database(url)
    upgrade(database.engine)
    folder = tmp_path / "evidence"
    originals: dict[int, bytes] = {}
    with database.transaction() as db:
        course = make_course(db, "migrate-" + uuid.uuid4().hex[:6])
        _, team = running(db, course)
        record(db, team, 1)
        for n in range(files):
            data = photo(size)
            [row] = store_evidence(
                db, FolderStore(folder), team.cycles[0], [Upload(f"ภาพที่ {n}.png", data)], course.teachers[0].id
            )
            originals[row.id] = data
    env = {**os.environ, "PLC_DATABASE_URL": url, "PLC_INSTANCE_PATH": str(tmp_path), "PLC_EVIDENCE_PATH": str(folder)}
    env["PLC_LOG_LEVEL"] = "ERROR"
    return Site(database, folder, env, originals)


@pytest.fixture
def site_url(postgres_url: str) -> Iterator[str]:
    with throwaway_database("plc_migrate") as url:
        yield url


def assert_moved_intact(site: Site, ids: list[int]) -> None:
    with site.database.transaction() as db:
        for evidence_id in ids:
            row = db.get(Evidence, evidence_id)
            assert row is not None and row.storage == DATABASE
            held = b"".join(chunks_in(db, evidence_id))
            assert held == site.originals[evidence_id] and hashlib.sha256(held).hexdigest() == row.sha256
            assert row.stored_name not in site.files()


def test_a_dry_run_a_partial_run_and_its_resumption_with_a_damaged_file_refused(site_url: str, tmp_path: Path) -> None:
    site = a_site(site_url, tmp_path, files=6, size=700_000)
    ids = sorted(site.originals)

    dry = site.migrate("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would move=6 already_in_database=0 file_missing=0 digest_mismatch=0" in dry.stdout
    assert {row.storage for row in site.rows().values()} == {FOLDER} and len(site.files()) == 6
    with site.database.transaction() as db:
        assert chunk_count(db) == 0

    partial = site.migrate("--limit", "2")
    assert partial.returncode == 0, partial.stderr
    assert "moved=2 already_in_database=0" in partial.stdout
    assert_moved_intact(site, ids[:2])
    assert len(site.files()) == 4

    damaged = site.rows()[ids[3]]
    with (site.folder / damaged.stored_name).open("r+b") as file:  # one byte changed on the disk
        file.seek(5000)
        file.write(b"\x00" if site.originals[ids[3]][5000] else b"\x01")

    rest = site.migrate()

    assert rest.returncode == 1  # the operator is told: a file was refused
    assert "moved=3 already_in_database=2 file_missing=0 digest_mismatch=1" in rest.stdout
    assert f"evidence {ids[3]}: digest_mismatch" in rest.stderr
    assert_moved_intact(site, [i for i in ids if i != ids[3]])
    rows = site.rows()
    assert rows[ids[3]].storage == FOLDER and site.files() == {rows[ids[3]].stored_name}  # left as it was
    with site.database.transaction() as db:
        assert list(chunks_in(db, ids[3])) == []

    again = site.migrate()  # nothing more to do, and the damaged one is refused again
    assert "moved=0 already_in_database=5 file_missing=0 digest_mismatch=1" in again.stdout
    site.database.dispose()


def test_a_run_killed_midway_is_resumed_and_every_file_arrives_intact(site_url: str, tmp_path: Path) -> None:
    site = a_site(site_url, tmp_path, files=40, size=1_000_000)
    ids = sorted(site.originals)

    killed = subprocess.Popen(
        [*CLI, "evidence", "migrate"], env=site.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    moved = 0
    while time.monotonic() < deadline and moved < 3:
        time.sleep(0.05)
        moved = sum(row.storage == DATABASE for row in site.rows().values())
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    rows = site.rows()
    done = [i for i in ids if rows[i].storage == DATABASE]
    assert 3 <= len(done) < len(ids), "the run was not caught midway"
    assert_moved_intact(site, done[:-1])  # the last one's file may still be there: killed before deleting it
    with site.database.transaction() as db:  # nothing of a half-moved file was committed
        waiting = [i for i in ids if rows[i].storage == FOLDER]
        assert chunk_count(db, waiting) == 0
    leftover = rows[done[0]].stored_name  # as if killed between a commit and the file's deletion
    (site.folder / leftover).write_bytes(site.originals[done[0]])

    resumed = site.migrate()

    assert resumed.returncode == 0, resumed.stderr
    assert f"moved={len(waiting)} already_in_database={len(done)}" in resumed.stdout
    assert "left_behind_removed=1" in resumed.stdout or "left_behind_removed=2" in resumed.stdout
    assert_moved_intact(site, ids)
    assert site.files() == set()
    site.database.dispose()
