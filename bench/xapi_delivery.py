"""Learning-record delivery to a real Ralph LRS: our outbox worker against a naive client and the batch ceiling.

In one run, each against a fresh Ralph (file-system backend, its own process on 127.0.0.1):
  (a) outbox → worker → Ralph: N statements written to the outbox (SQLite), then drained by one worker;
  (b) naive client: one POST per statement (on a sample, since it is the slow one; the rate is per statement);
  (c) ceiling: the same statements POSTed straight to Ralph in batches of the worker's size.
Then what writing one learning record adds to a domain transaction, on SQLite and on PostgreSQL (if reachable): the
way it was written before issue #19 (ORM objects, flushed at commit) against `outbox.record` now, in the same process,
and a bare SELECT 1 for what one round trip costs on the machine at that moment (it is shared: mind the load).

    python bench/xapi_delivery.py [--statements 20000] [--batch 500] [--naive-sample 1000]
                                  [--rounds 400] [--destinations 1] [--write-only]
"""

from __future__ import annotations

import argparse
import os
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

from sqlalchemy import delete, event, func, select, text  # noqa: E402

from models.base import utcnow  # noqa: E402
from models.database import Database  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.outbox import Delivery, DeliveryState, OutboxStatement  # noqa: E402
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


def orm_record(db, statement: dict, platform_id: int | None, destinations: list[str]) -> None:  # type: ignore[no-untyped-def]
    """The outbox write before issue #19, kept as the baseline: ORM objects for the statement and its deliveries,
    flushed by the unit of work at commit (one INSERT per table, the deliveries' with RETURNING)."""
    row = OutboxStatement(
        id=statement["id"],
        platform_id=platform_id,
        verb=statement["verb"]["id"],
        payload=statement,
        created_at=utcnow(),
    )
    row.deliveries = [Delivery(destination=name, state=DeliveryState.PENDING.value) for name in destinations]
    db.add(row)


def own_round_trip(db, statement: dict, destinations: list[str]) -> None:  # type: ignore[no-untyped-def]
    """`outbox.record`'s INSERT on PostgreSQL, sent at once in a round trip of its own (before it went with the
    COMMIT), kept as the baseline of that change."""
    connection = db.connection()
    params = {**outbox.row_values(connection.dialect, statement, None), "destinations": destinations}
    connection.exec_driver_sql(outbox.POSTGRESQL_INSERT, params)


def outbox_write_cost(url: str, rounds: int, destinations: list[str], disk_flush: bool = True) -> dict[str, float]:
    """Median µs of a small domain transaction alone, and of it with a bare SELECT 1 (what one round trip costs now),
    with one statement written the old way (ORM), with one written by `outbox.record`, and on PostgreSQL with one
    written by the same INSERT in a round trip of its own (as `record` did before the records went with the COMMIT):
    the plain one's median plus the median of the per-round differences. They alternate round by round, so a load
    change on the machine hits them alike. `disk_flush` False: PostgreSQL's commits do not wait for the WAL to reach
    the disk (synchronous_commit off), whose wait, the same for every writing transaction, varies by milliseconds on a
    shared machine's disk."""
    database = Database(url)
    if not disk_flush:

        @event.listens_for(database.engine, "connect")
        def _no_flush_wait(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO OFF")
            dbapi_connection.commit()

    upgrade(database.engine)
    postgresql = database.engine.dialect.name == "postgresql"
    writing = 3 if postgresql else 2  # ways that write a statement per round
    items = make_statements(writing * rounds)

    def domain_change(db) -> None:  # type: ignore[no-untyped-def]
        db.add(
            Platform(
                issuer=f"https://bench-{uuid.uuid4().hex}",
                client_id="c",
                auth_login_url="x",
                auth_token_url="x",
                key_set_url="x",
            )
        )

    ways = {
        "plain": lambda db, n: None,
        "select 1": lambda db, n: db.execute(text("SELECT 1")),
        "orm": lambda db, n: orm_record(db, items[writing * n], None, destinations),
        "record": lambda db, n: outbox.record(db, items[writing * n + 1], None, destinations),
    }
    if postgresql:
        ways["own round trip"] = lambda db, n: own_round_trip(db, items[writing * n + 2], destinations)
    times: dict[str, list[float]] = {name: [] for name in ways}
    for n in range(-20, rounds):  # 20 rounds of warm-up (connections, compiled SQL)
        for name, write in ways.items():
            started = time.perf_counter()
            with database.transaction() as db:
                domain_change(db)
                write(db, n if n >= 0 else n + 20)
            if n >= 0:
                times[name].append(time.perf_counter() - started)
        if n == -1:  # the warm-up's statements out again: the measured ones reuse their ids
            with database.transaction() as db:
                db.execute(delete(OutboxStatement))
    with database.transaction() as db:
        written = db.scalar(select(func.count()).select_from(OutboxStatement))
        rows = db.scalar(select(func.count()).select_from(Delivery))
    database.dispose()
    if written != writing * rounds or rows != writing * rounds * len(destinations):
        raise SystemExit(f"{url}: {written} statements and {rows} deliveries after {rounds} rounds")
    # What a way adds: the median over rounds of its transaction's time less the plain one's of the same round (a
    # commit's wait for the disk varies by milliseconds from one commit to the next on a shared machine, and a
    # difference of two medians of such times is mostly that noise).
    cost = {"plain": statistics.median(times["plain"]) * 1e6}
    for name in [way for way in ways if way != "plain"]:
        cost[name] = cost["plain"] + statistics.median(
            (way - plain) * 1e6 for way, plain in zip(times[name], times["plain"], strict=True)
        )
    return cost


def print_cost(name: str, cost: dict[str, float], target: float) -> None:
    before, after = cost["orm"] - cost["plain"], cost["record"] - cost["plain"]
    print(
        f"  {name:<11} {cost['plain']:6.0f} µs alone; added: before (ORM) +{before:4.0f} µs, "
        f"now (outbox.record) +{after:4.0f} µs  ({after / before:.2f} of before; target < {target:.0f}: "
        f"{'met' if round(after) < target else 'NOT met'}); a bare SELECT 1 adds +{cost['select 1'] - cost['plain']:.0f} µs"
    )
    if "own round trip" in cost:
        own = cost["own round trip"] - cost["plain"]
        print(f"  {'':<11} the same INSERT in a round trip of its own adds +{own:4.0f} µs: with the COMMIT, "
              f"{after / own:.2f} of it")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--statements", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--naive-sample", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=400, help="domain transactions per way of writing")
    parser.add_argument("--destinations", type=int, default=1, help="LRSs each statement is written for")
    parser.add_argument("--write-only", action="store_true", help="only the outbox write's cost (no Ralph)")
    args = parser.parse_args()

    destinations = ["ralph", *(f"lrs-{n}" for n in range(1, args.destinations))]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if not args.write_only:
            items = make_statements(args.statements)
            a = run_outbox(workdir, items, args.batch)
            b = run_naive(workdir, items[: args.naive_sample])
            c = run_ceiling(workdir, items, args.batch)
        sqlite = outbox_write_cost(f"sqlite:///{workdir / 'cost.sqlite3'}", args.rounds, destinations)
    pg = None
    if postgres_available():
        with throwaway_database("plc_bench") as pg_url:
            pg = outbox_write_cost(pg_url, args.rounds, destinations)
        with throwaway_database("plc_bench") as pg_url:
            pg_no_flush = outbox_write_cost(pg_url, args.rounds, destinations, disk_flush=False)

    if not args.write_only:
        print(f"xAPI delivery to Ralph (fs backend), {args.statements} statements, batch {args.batch}")
        print(f"  (a) outbox -> worker -> Ralph:        {a:8.0f} statements/s")
        print(f"  (b) naive, one POST per statement:    {b:8.0f} statements/s   (sample of {args.naive_sample})")
        print(f"  (c) straight to Ralph in batches:     {c:8.0f} statements/s   (ceiling)")
        print(f"  a/b = {a / b:6.1f}  (target >= 10)      a/c = {a / c:5.2f}  (target >= 0.85)")
    print(
        f"a learning record inside a domain transaction, {len(destinations)} LRS, median of {args.rounds} "
        f"(load average {os.getloadavg()[0]:.1f}):"
    )
    print_cost("SQLite:", sqlite, 200)
    if pg:
        print_cost("PostgreSQL:", pg, 400)
        print("  PostgreSQL without waiting for the disk at commit (synchronous_commit off), the write's own cost:")
        print_cost("  (no wait)", pg_no_flush, 400)
    else:
        print("  PostgreSQL:  not reachable on 127.0.0.1:5432, skipped")


if __name__ == "__main__":
    main()
