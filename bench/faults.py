"""Fault runs on 127.0.0.1, each bounded in time, printing what happened:

pg-restart  PostgreSQL restarted during load: requests fail cleanly with 503, then recover without a restart
            of the web processes (a private PostgreSQL cluster, so the machine's own server is not touched)
lrs-down    the LRS is down for the whole load; every statement arrives once after it returns
four-workers  four `plc-bridge worker` processes on 100,000 outbox rows: each statement posted exactly once
soak        a PLC day's mixed load while the LRS, the platforms' AGS and PostgreSQL each go away and come back at
            random moments; learning records and scores lost and duplicated at the end (bench/soak.py)

  python bench/faults.py [pg-restart] [lrs-down] [four-workers] [--rows 100000]
  python bench/faults.py soak [--minutes 20] [--users 40]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import requests
from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import CLI, register_platform, start_gunicorn  # noqa: E402
from lti_tool.demo_lms.auto_form import submit_auto_form  # noqa: E402
from lti_tool.demo_lms.moodle_like import LaunchUser, MoodleLikePlatform  # noqa: E402
from models.database import Database  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.outbox import Delivery, OutboxStatement  # noqa: E402
from tests.support.lrs import PASSWORD, USER, CountingProxy, RalphServer, free_port, ralph_python  # noqa: E402
from xapi import statements  # noqa: E402
from xapi.vocabulary import ActivityType  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")
LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


class PrivatePostgres:
    """A throwaway PostgreSQL cluster owned by the postgres user, on its own port and socket directory."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "pg"
        self.dir.mkdir()
        shutil.chown(self.dir, "postgres", "postgres")
        self.port = free_port()
        self._as_postgres([str(PG_BIN / "initdb"), "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres"])

    def _as_postgres(self, command: list[str]) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True)

    def _ctl(self, action: str, mode: str = "fast") -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.dir / "data"),
                "-o",
                options,
                "-l",
                str(self.dir / "log"),
                "-w",
                "-m",
                mode,
                action,
            ]
        )

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart")

    def stop(self) -> None:
        self._ctl("stop")

    def crash(self) -> None:
        """Stop at once, as a power cut or the OOM killer would: no checkpoint, the next start replays the WAL."""
        self._ctl("stop", mode="immediate")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


def tool_env(database_url: str, base: str, workdir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PLC_DATABASE_URL": database_url,
        "PLC_PUBLIC_BASE_URL": base,
        "PLC_SECRET_KEY": uuid.uuid4().hex * 2,
        "PLC_INSTANCE_PATH": str(workdir),
        "PLC_WORKER_THREAD": "false",
        "PLC_RATE_LIMIT_LTI": "100000 per minute",
        "PLC_LOG_LEVEL": "ERROR",
        **extra,
    }


def new_platform(base: str, users: int) -> tuple[MoodleLikePlatform, list[str]]:
    platform = MoodleLikePlatform(client_id=f"fault-{uuid.uuid4().hex[:6]}", deployment_id="dep-fault").start()
    platform.configure_tool(base + "/lti/login", base + "/lti/launch", base + "/lti/jwks")
    subs = [f"fault-{n}" for n in range(users)]
    for sub in subs:
        platform.add_user(
            LaunchUser(
                sub=sub,
                name=f"ครู {sub}",
                given_name="ครู",
                family_name=sub,
                email=f"{sub}@example.org",
                roles=[LIS + "Learner"],
            )
        )
    return platform, subs


def launch_once(platform: MoodleLikePlatform, sub: str) -> list[tuple[float, str, int]]:
    """One full launch and one page view; (time, step, status) for each request to the tool."""
    browser, events = requests.Session(), []
    try:
        start = browser.get(platform.initiation_url(sub=sub, context_id="course-fault"), allow_redirects=False)
        login = browser.get(start.headers["Location"], allow_redirects=False)
        events.append((time.monotonic(), "login", login.status_code))
        if login.status_code != 302:
            return events
        landing = submit_auto_form(browser, browser.get(login.headers["Location"]))
        events.append((time.monotonic(), "launch+page", landing.status_code))
    except requests.RequestException:
        events.append((time.monotonic(), "error", 0))
    return events


def pg_restart(workdir: Path) -> None:
    cluster = PrivatePostgres(workdir)
    cluster.start()
    with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute('CREATE DATABASE "plc"')
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = tool_env(cluster.url("plc"), base, workdir)
    subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True)
    platform, subs = new_platform(base, 10)
    register_platform(env, platform)
    web = start_gunicorn(env, port)
    events: list[tuple[float, str, int]] = []
    lock = threading.Lock()
    started = time.monotonic()
    until = started + 30

    def user(sub: str) -> None:
        while time.monotonic() < until:
            result = launch_once(platform, sub)
            with lock:
                events.extend(result)
            time.sleep(0.2)

    threads = [threading.Thread(target=user, args=(sub,)) for sub in subs]
    for thread in threads:
        thread.start()
    time.sleep(8)
    restart_at = time.monotonic()
    cluster.restart()
    restarted_at = time.monotonic()
    for thread in threads:
        thread.join()
    web.terminate()
    web.wait(timeout=10)
    platform.stop()
    cluster.stop()

    statuses = Counter(status for _, _, status in events)
    failures = [t for t, _, status in events if status != 200 and status != 302]
    after = [status for t, _, status in events if t > restarted_at + 2]
    print(
        f"pg-restart: {len(events)} tool requests over 30 s, PostgreSQL restarted at {restart_at - started:.1f} s "
        f"(down {restarted_at - restart_at:.1f} s), web processes never restarted"
    )
    print(f"  statuses: {dict(sorted(statuses.items()))}")
    if failures:
        print(f"  failures between {min(failures) - started:.1f} s and {max(failures) - started:.1f} s")
    print(
        f"  after the restart (+2 s): {len(after)} requests, {sum(1 for s in after if s in (200, 302))} succeeded; "
        f"HTTP 500: {statuses.get(500, 0)}"
    )


def lrs_down(workdir: Path) -> None:
    python = ralph_python()
    if python is None:
        raise SystemExit("Ralph is not installed (scripts/test.sh makes .venv-ralph)")
    name = f"plc_fault_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    ralph = RalphServer(workdir / "ralph", python)  # not started: the LRS is down for the whole run
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    lrs = json.dumps(
        [{"name": "district", "endpoint": ralph.base_url + "/xAPI/", "username": USER, "password": PASSWORD}]
    )
    env = tool_env(
        f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
        base,
        workdir,
        PLC_LRS=lrs,
        PLC_OUTBOX_MAX_BACKOFF_SECONDS="4",
    )
    subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True)
    platform, subs = new_platform(base, 10)
    register_platform(env, platform)
    web = start_gunicorn(env, port)
    workers = [
        subprocess.Popen(
            [*CLI, "worker", "--poll", "0.2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(2)
    ]
    ok = 0
    for _round in range(20):
        for sub in subs:
            ok += all(status in (200, 302) for _, _, status in launch_once(platform, sub))
    print(f"lrs-down: {ok} launches while the LRS was down; starting it now")
    ralph.start()
    started = time.monotonic()
    database = Database(env["PLC_DATABASE_URL"])
    delivered = 0
    while time.monotonic() - started < 60:
        with database.transaction() as db:
            delivered = int(db.scalar(select(func.count()).where(Delivery.state == "delivered")) or 0)
        if delivered >= ok:
            break
        time.sleep(0.5)
    stored = ralph.stored_ids()
    for worker in workers:
        worker.terminate()
    web.terminate()
    platform.stop()
    ralph.stop()
    database.dispose()
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        f"  all {delivered} delivered {time.monotonic() - started:.1f} s after the LRS came back; Ralph holds "
        f"{len(stored)} statements, each {set(stored.values())} time(s)"
    )


def four_workers(workdir: Path, rows: int) -> None:
    python = ralph_python()
    if python is None:
        raise SystemExit("Ralph is not installed (scripts/test.sh makes .venv-ralph)")
    name = f"plc_fault_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    database = Database(url)
    upgrade(database.engine)
    course = statements.Activity("https://plc.example/xapi/activities/course/f", ActivityType.COURSE, {"th": "รายวิชา"})
    ctx = statements.PlcContext(course=course, language="th", platform="Fault Moodle")
    now = datetime.now(UTC)
    placement = statements.Activity("https://plc.example/xapi/activities/placement/f", ActivityType.TOOL, {"th": "PLC"})
    for chunk in range(0, rows, 5000):
        batch = [
            statements.launched(
                str(uuid.uuid4()), statements.Actor("https://m.example", f"t-{n}"), placement, ctx, "teacher", now
            )
            for n in range(chunk, min(chunk + 5000, rows))
        ]
        with database.transaction() as db:
            db.execute(
                insert(OutboxStatement),
                [{"id": s["id"], "verb": s["verb"]["id"], "payload": s, "created_at": now} for s in batch],
            )
            db.execute(
                insert(Delivery),
                [
                    {
                        "statement_id": s["id"],
                        "destination": "district",
                        "state": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for s in batch
                ],
            )
    ralph = RalphServer(workdir / "ralph4", python).start()
    proxy = CountingProxy(ralph.base_url)
    lrs = json.dumps([{"name": "district", "endpoint": proxy.endpoint, "username": USER, "password": PASSWORD}])
    env = tool_env(url, "http://127.0.0.1:1", workdir, PLC_LRS=lrs, PLC_OUTBOX_BATCH_SIZE="500")
    started = time.monotonic()
    workers = [
        subprocess.Popen(
            [*CLI, "worker", "--poll", "0.2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(4)
    ]
    delivered = 0
    while time.monotonic() - started < 900:
        with database.transaction() as db:
            delivered = int(db.scalar(select(func.count()).where(Delivery.state == "delivered")) or 0)
        if delivered >= rows:
            break
        time.sleep(1)
    elapsed = time.monotonic() - started
    for worker in workers:
        worker.terminate()
    posted = proxy.posted
    stored = ralph.stored_ids()
    proxy.stop()
    ralph.stop()
    database.dispose()
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        f"four-workers: {rows} outbox rows, 4 worker processes, batch 500: delivered {delivered} in {elapsed:.1f} s "
        f"({delivered / elapsed:.0f}/s)"
    )
    print(
        f"  posted to the LRS: {len(posted)} distinct ids, times posted {dict(Counter(posted.values()))}; "
        f"Ralph holds {len(stored)}, times stored {dict(Counter(stored.values()))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", default=["pg-restart", "lrs-down", "four-workers"])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--minutes", type=float, default=20.0, help="soak: how long the load and the faults last")
    parser.add_argument("--users", type=int, default=40, help="soak: people in the load")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="plc-faults-"))
    shutil.chown(workdir, "postgres", "postgres")
    os.chmod(workdir, 0o777)
    if "pg-restart" in args.runs:
        pg_restart(workdir)
    if "lrs-down" in args.runs:
        lrs_down(workdir)
    if "four-workers" in args.runs:
        four_workers(workdir, args.rows)
    if "soak" in args.runs:
        from bench.soak import soak

        soak(workdir, args.minutes, args.users, PrivatePostgres)


if __name__ == "__main__":
    main()
