"""Notices by LINE at the scale of a district: N notices to N people through the local LINE Messaging API
(tests/support/line_server.py) answering each call after 50 ms, delivered by the worker's job in processes of their
own; one worker is killed (SIGKILL) mid-run and started again.

Prints: the time to deliver all, deliveries per second, duplicates (people who received a notice twice: must be 0),
lost ones (not delivered: must be 0), and what writing one notice adds to the transaction of its event (median µs of
`notify()` with its flush, one LINE delivery, on the same database).

    python bench/notifications.py [--notices 10000] [--latency 0.05] [--workers 2] [--kill-at 0.4] [--sqlite]

PostgreSQL (127.0.0.1, throwaway database) when it is reachable, with two workers at once (FOR UPDATE SKIP LOCKED);
SQLite with one worker otherwise. The workers' clock starts at 10:00 Thai time tomorrow, outside the quiet hours,
and runs: the LINE messages a killed worker was sending stay its own for their lease (three times LINE's timeout,
30 s), then go again with the same retry key.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402

from lti_tool.services.notices import notify  # noqa: E402
from lti_tool.settings import Settings  # noqa: E402
from lti_tool.workers.loop import Loop  # noqa: E402
from lti_tool.workers.notices import NoticeDeliveryJob  # noqa: E402
from models.calendar import THAI_TIME  # noqa: E402
from models.database import Database  # noqa: E402
from models.line import LineChannel, LineLink  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.notices import Kind, NoticeDelivery, NoticeState, Target  # noqa: E402
from models.people import Context, Membership, Person  # noqa: E402
from models.platform import Deployment, Platform  # noqa: E402
from tests.support.line_server import LineServer  # noqa: E402
from tests.support.pg import postgres_available, throwaway_database  # noqa: E402

TOKEN = "bench-token"
SECRET = "0123456789abcdef0123456789abcdef"


def daytime() -> datetime:
    tomorrow = datetime.now(THAI_TIME) + timedelta(days=1)
    return tomorrow.replace(hour=10, minute=0, second=0, microsecond=0)


def settings_for(url: str, line_url: str, instance: Path) -> Settings:
    return Settings(
        instance_path=instance,
        database_url=url,
        secret_key="bench-" + uuid.uuid4().hex,
        public_base_url="https://plc.example.go.th",
        line_api_base_url=line_url,
        line_concurrency=32,
        worker_thread=False,
    ).resolved()


def run_worker(url: str, line_url: str) -> None:
    """A worker process: the notices' job in the worker loop until it is killed."""
    settings = settings_for(url, line_url, Path(tempfile.mkdtemp(prefix="plc-bench-worker-")))
    moment, started = daytime(), time.monotonic()  # a clock that runs, from 10:00: leases of a killed worker end
    job = NoticeDeliveryJob(
        Database(url), settings, batch_size=200, clock=lambda: moment + timedelta(seconds=time.monotonic() - started)
    )
    stop = __import__("threading").Event()
    Loop(job, poll_seconds=0.2).run(stop)


def populate(database: Database, line: LineServer, count: int) -> tuple[int, list[str]]:
    """A platform with its LINE account, `count` linked teachers in one course, each with one notice to deliver."""
    with database.transaction() as db:
        platform = Platform(
            issuer="https://lms.bench.example",
            client_id="bench",
            auth_login_url="https://lms.bench.example/auth",
            auth_token_url="https://lms.bench.example/token",
            key_set_url="https://lms.bench.example/certs",
        )
        context = Context(
            platform=platform, deployment=Deployment(platform=platform, deployment_id="1"), context_id="c"
        )
        db.add(context)
        db.flush()
        db.add(LineChannel(platform_id=platform.id, access_token=TOKEN, channel_secret=SECRET))
        platform_id, context_id = platform.id, context.id
    users = [line.add_friend(f"ครู {n}") for n in range(count)]
    with database.transaction() as db:
        db.execute(
            insert(Person), [{"platform_id": platform_id, "sub": f"t-{n}", "name": f"ครู {n}"} for n in range(count)]
        )
        people = db.scalars(select(Person).where(Person.platform_id == platform_id).order_by(Person.id)).all()
        db.execute(
            insert(Membership),
            [{"context_id": context_id, "person_id": p.id, "app_role": "teacher", "lti_roles": []} for p in people],
        )
        db.execute(
            insert(LineLink),
            [
                {"person_id": p.id, "platform_id": platform_id, "line_user_id": u}
                for p, u in zip(people, users, strict=True)
            ],
        )
    return platform_id, users


def write_notices(database: Database, platform_id: int) -> list[float]:
    """One notice per teacher, each in a transaction of its own as a use case writes it; the µs of `notify()` and
    its flush in each (what the notice adds to its event's transaction)."""
    costs: list[float] = []
    with database.transaction() as db:
        ids = db.scalars(
            select(Membership.id).join(Person).where(Person.platform_id == platform_id).order_by(Membership.id)
        ).all()
    target = Target("observations.for_cycle", {"number": 1})
    for membership_id in ids:
        with database.transaction() as db:
            member = db.get(Membership, membership_id)
            assert member is not None
            _ = member.person.email  # loaded, as the use case has its people at hand
            started = time.perf_counter()
            notify(db, member, Kind.OBSERVATION_SUBMITTED, {"cycle": 1}, target)
            db.flush()
            costs.append((time.perf_counter() - started) * 1e6)
    return costs


def round_trip(database: Database, rounds: int = 500) -> float:
    """Median µs of a bare SELECT 1 in a transaction: what one round trip costs on the machine at that moment."""
    costs = []
    with database.transaction() as db:
        for _ in range(rounds):
            started = time.perf_counter()
            db.execute(text("SELECT 1"))
            costs.append((time.perf_counter() - started) * 1e6)
    return statistics.median(costs)


def delivered(database: Database) -> int:
    with database.transaction() as db:
        query = select(func.count()).select_from(NoticeDelivery).where(NoticeDelivery.state == NoticeState.DELIVERED)
        return int(db.scalar(query) or 0)


def start_worker(url: str, line_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, __file__, "--worker", url, line_url], env=env, start_new_session=True)


def bench(url: str, args: argparse.Namespace) -> None:
    database = Database(url)
    upgrade(database.engine)
    line = LineServer(access_token=TOKEN, channel_secret=SECRET, latency=args.latency).start()
    try:
        platform_id, users = populate(database, line, args.notices)
        costs = write_notices(database, platform_id)
        select_1 = round_trip(database)
        workers_n = args.workers if url.startswith("postgresql") else 1
        started = time.monotonic()
        workers = [start_worker(url, line.base_url) for _ in range(workers_n)]
        killed_at = None
        deadline = started + args.timeout
        while time.monotonic() < deadline:
            done = delivered(database)
            if killed_at is None and done >= args.kill_at * args.notices:
                workers[0].send_signal(signal.SIGKILL)  # mid-batch: its claimed rows roll back, LINE took some
                workers[0].wait()
                killed_at = done
                workers[0] = start_worker(url, line.base_url)
            if done >= args.notices:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
            worker.wait(10)
        done = delivered(database)
        pushes_per_person: dict[str, int] = {}
        for push in line.received:
            pushes_per_person[push.to] = pushes_per_person.get(push.to, 0) + 1
        duplicates = sum(n - 1 for n in pushes_per_person.values() if n > 1)
        lost = len([u for u in users if u not in pushes_per_person])
        print(f"database: {url.split('://', 1)[0]}, workers: {workers_n}, LINE latency: {args.latency * 1000:.0f} ms")
        print(f"notices: {args.notices}, delivered: {done}, in {elapsed:.1f} s ({done / elapsed:.0f} deliveries/s)")
        print(f"worker killed (SIGKILL) after {killed_at} deliveries and started again")
        print(f"pushes LINE took: {len(line.received)}, duplicates: {duplicates}, lost: {lost}")
        print(f"409 answers (retry key already accepted) count as delivered; API requests seen: {line.requests_seen}")
        print(
            f"cost added to the writing transaction: median {statistics.median(costs):.0f} µs, "
            f"p95 {statistics.quantiles(costs, n=20)[-1]:.0f} µs (notify() and its flush, {len(costs)} notices); "
            f"a bare SELECT 1: {select_1:.0f} µs"
        )
        target = "MET" if done == args.notices and elapsed <= 60 and duplicates == 0 and lost == 0 else "NOT MET"
        print(f"target (all within 60 s, 0 duplicates, 0 lost): {target}")
    finally:
        line.stop()
        database.dispose()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        run_worker(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notices", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-at", type=float, default=0.4)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--sqlite", action="store_true", help="SQLite even when PostgreSQL is reachable")
    args = parser.parse_args()
    if not args.sqlite and postgres_available():
        with throwaway_database("plc_bench_notices") as url:
            bench(url, args)
        return
    with tempfile.TemporaryDirectory() as folder:
        bench(f"sqlite:///{folder}/bench.sqlite3", args)


if __name__ == "__main__":
    main()
