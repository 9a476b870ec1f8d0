"""Learning-record delivery to a real Ralph LRS: our outbox worker against a naive client and the batch ceiling.

In one run, each against a fresh Ralph (file-system backend, its own process on 127.0.0.1):
  (a) outbox → worker → Ralph: N statements written to the outbox (SQLite), then drained by one worker;
  (b) naive client: one POST per statement (on a sample, since it is the slow one; the rate is per statement);
  (c) ceiling: the same statements POSTed straight to Ralph in batches of the worker's size.
Then the cost of writing an outbox row inside a domain transaction, on SQLite and on PostgreSQL (if reachable).

    python bench/xapi_delivery.py [--statements 20000] [--batch 500] [--naive-sample 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.database import Database  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.platform import Platform  # noqa: E402
from tests.support.lrs import PASSWORD, USER, RalphServer, ralph_python  # noqa: E402
from tests.support.pg import postgres_available, throwaway_database  # noqa: E402
from xapi import outbox, statements  # noqa: E402
from xapi.delivery import OutboxDelivery  # noqa: E402
from xapi.vocabulary import ActivityType  # noqa: E402

HEADERS = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}


def make_statements(count: int) -> list[dict]:
    course = statements.Activity(
        "https://plc.example/xapi/activities/course/bench", ActivityType.COURSE, {"th": "รายวิชา"}
    )
    ctx = statements.PlcContext(course=course, language="th", platform="Bench Moodle", element_number=3, cycle_number=1)
    now = datetime.now(UTC)
    return [
        statements.attended_session(
            str(uuid.uuid4()),
            statements.Actor("https://moodle.example.go.th", f"teacher-{n % 400}"),
            statements.Activity(
                f"https://plc.example/xapi/activities/session/{n}", ActivityType.SESSION, {"th": "การประชุม"}
            ),
            ctx,
            1.5,
            now,
        )
        for n in range(count)
    ]


def fresh_ralph(workdir: Path, name: str) -> RalphServer:
    python = ralph_python()
    if python is None:
        raise SystemExit(
            "Ralph is not installed: run scripts/test.sh once (it makes .venv-ralph) or set PLC_RALPH_PYTHON"
        )
    return RalphServer(workdir / name, python).start()


def run_outbox(workdir: Path, items: list[dict], batch: int) -> float:
    ralph = fresh_ralph(workdir, "ralph-a")
    database = Database(f"sqlite:///{workdir / 'outbox.sqlite3'}")
    upgrade(database.engine)
    with database.transaction() as db:
        for statement in items:
            outbox.record(db, statement, None, ["ralph"])
    worker = OutboxDelivery(database, [ralph.destination()], batch_size=batch)
    started = time.perf_counter()
    while worker.run_once().handled:
        pass
    elapsed = time.perf_counter() - started
    stored = len(ralph.stored_ids())
    ralph.stop()
    if stored != len(items):
        raise SystemExit(f"outbox run stored {stored} of {len(items)}")
    return len(items) / elapsed


def run_naive(workdir: Path, items: list[dict]) -> float:
    ralph = fresh_ralph(workdir, "ralph-b")
    http = requests.Session()
    started = time.perf_counter()
    for statement in items:
        http.post(
            ralph.base_url + "/xAPI/statements", json=statement, auth=(USER, PASSWORD), headers=HEADERS
        ).raise_for_status()
    elapsed = time.perf_counter() - started
    ralph.stop()
    return len(items) / elapsed


def run_ceiling(workdir: Path, items: list[dict], batch: int) -> float:
    ralph = fresh_ralph(workdir, "ralph-c")
    http = requests.Session()
    started = time.perf_counter()
    for i in range(0, len(items), batch):
        http.post(
            ralph.base_url + "/xAPI/statements", json=items[i : i + batch], auth=(USER, PASSWORD), headers=HEADERS
        ).raise_for_status()
    elapsed = time.perf_counter() - started
    ralph.stop()
    return len(items) / elapsed


def outbox_write_cost(url: str, rounds: int = 400) -> tuple[float, float]:
    """Median µs of a small domain transaction without and with one outbox row (statement + delivery)."""
    database = Database(url)
    upgrade(database.engine)
    items = make_statements(rounds)

    def domain_change(db, n: int) -> None:  # type: ignore[no-untyped-def]
        db.add(
            Platform(
                issuer=f"https://bench-{uuid.uuid4().hex}",
                client_id="c",
                auth_login_url="x",
                auth_token_url="x",
                key_set_url="x",
            )
        )

    plain, with_outbox = [], []
    for n in range(rounds):
        started = time.perf_counter()
        with database.transaction() as db:
            domain_change(db, n)
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        with database.transaction() as db:
            domain_change(db, n)
            outbox.record(db, items[n], None, ["ralph"])
        with_outbox.append(time.perf_counter() - started)
    database.dispose()
    return statistics.median(plain) * 1e6, statistics.median(with_outbox) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--statements", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--naive-sample", type=int, default=1_000)
    args = parser.parse_args()

    items = make_statements(args.statements)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        a = run_outbox(workdir, items, args.batch)
        b = run_naive(workdir, items[: args.naive_sample])
        c = run_ceiling(workdir, items, args.batch)
        sqlite_plain, sqlite_outbox = outbox_write_cost(f"sqlite:///{workdir / 'cost.sqlite3'}")
    pg = None
    if postgres_available():
        with throwaway_database("plc_bench") as pg_url:
            pg = outbox_write_cost(pg_url)

    print(f"xAPI delivery to Ralph (fs backend), {args.statements} statements, batch {args.batch}")
    print(f"  (a) outbox -> worker -> Ralph:        {a:8.0f} statements/s")
    print(f"  (b) naive, one POST per statement:    {b:8.0f} statements/s   (sample of {args.naive_sample})")
    print(f"  (c) straight to Ralph in batches:     {c:8.0f} statements/s   (ceiling)")
    print(f"  a/b = {a / b:6.1f}  (target >= 10)      a/c = {a / c:5.2f}  (target >= 0.85)")
    print("outbox row inside a domain transaction (median of 400):")
    print(
        f"  SQLite:      {sqlite_plain:7.0f} µs without, {sqlite_outbox:7.0f} µs with  (+{sqlite_outbox - sqlite_plain:.0f} µs)"
    )
    if pg:
        print(f"  PostgreSQL:  {pg[0]:7.0f} µs without, {pg[1]:7.0f} µs with  (+{pg[1] - pg[0]:.0f} µs)")
    else:
        print("  PostgreSQL:  not reachable on 127.0.0.1:5432, skipped")


if __name__ == "__main__":
    main()
