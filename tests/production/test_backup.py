"""The documented backup and restore: a dump restored into a new database, the outbox resumes where it was, and the
evidence files (kept in the database on PostgreSQL) come back byte for byte."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from models.database import Database
from models.evidence import DATABASE, Evidence, Upload, store_evidence
from models.evidence_chunks import DatabaseStore, chunks_in
from models.migrate import current_revision, head_revision, upgrade
from models.outbox import Delivery, DeliveryState
from tests.factories import make_course, record, running
from tests.support.lrs import RalphServer
from tests.support.pg import throwaway_database
from tests.test_evidence_store import photo
from tests.xapi.test_delivery import a_statement
from xapi import outbox
from xapi.delivery import OutboxDelivery

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_databases(postgres_url: str) -> Iterator[tuple[str, str]]:
    with throwaway_database("plc_backup") as source, throwaway_database("plc_restored") as restored:
        yield source, restored


def test_a_restored_dump_resumes_the_outbox_where_it_was(
    two_databases: tuple[str, str], ralph: RalphServer, tmp_path
) -> None:
    source_url, restored_url = two_databases
    source = Database(source_url)
    upgrade(source.engine)
    with source.transaction() as db:
        sent = [a_statement(n) for n in range(30)]
        waiting = [a_statement(100 + n) for n in range(20)]
        for statement in sent:
            outbox.record(db, statement, None, ["ralph"])
    OutboxDelivery(source, [ralph.destination()]).run_once()  # the first 30 are delivered before the backup
    with source.transaction() as db:
        for statement in waiting:
            outbox.record(db, statement, None, ["ralph"])
    files = {"แผนการจัดการเรียนรู้.png": photo(1_500_000), "ภาพกิจกรรม.png": photo(300)}
    with source.transaction() as db:  # evidence as PostgreSQL keeps it by default: in the database
        course = make_course(db, "backup")
        _, team = running(db, course)
        record(db, team, 1)
        uploads = [Upload(name, data) for name, data in files.items()]
        stored = store_evidence(db, DatabaseStore(), team.cycles[0], uploads, course.teachers[0].id)
        assert {row.storage for row in stored} == {DATABASE}
    source.dispose()

    # The README's commands: pg_dump in custom format, pg_restore into a new, empty database.
    dump = tmp_path / "plc-bridge.dump"
    subprocess.run(["pg_dump", "--format=custom", "--file", str(dump), source_url.replace("+psycopg", "")], check=True)
    subprocess.run(
        ["pg_restore", "--no-owner", "--dbname", restored_url.replace("+psycopg", ""), str(dump)], check=True
    )

    restored = Database(restored_url)
    assert current_revision(restored.engine) == head_revision()
    before = ralph.stored_ids()
    report = OutboxDelivery(restored, [ralph.destination()]).run_once()
    after = ralph.stored_ids()

    assert report.delivered == 20  # only what was still waiting at backup time
    assert all(after[s["id"]] == 1 for s in sent + waiting)
    assert sum(after.values()) - sum(before.values()) == 20
    with restored.transaction() as db:
        states = dict(db.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
    assert states == {DeliveryState.DELIVERED.value: 50}
    with restored.transaction() as db:  # the evidence came back with its rows, byte for byte
        rows = list(db.scalars(select(Evidence).order_by(Evidence.id)))
        assert {row.original_name: b"".join(chunks_in(db, row.id)) for row in rows} == files
        assert all(row.storage == DATABASE for row in rows)
    restored.dispose()
