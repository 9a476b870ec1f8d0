"""Load: full LTI launches and page views against PLC Bridge on gunicorn (2 workers) and PostgreSQL, for 60 s.

Each simulated teacher, in a loop: launch from the platform (initiation → tool login → platform auth → tool
launch → landing page), then three page views, with a think time between actions. The load runs in several
client processes, each with its own test platform (registered with the tool), so no single Python process is
the bottleneck. Printed: requests per second to the tool, p50/p95/p99 latency of tool requests, and errors.

    python bench/load.py [--users 50] [--seconds 60] [--processes 5] [--think 1.0]

--plc-day: a PLC day (bench/plc_day.py): 200 teachers and trainers with ~1 s think time for 5 minutes, launching,
reading their reflection and progress, saving reflections and grading them, plus a burst of 500 launches in 60 s,
through gunicorn on PostgreSQL with `plc-bridge worker` delivering to a real Ralph LRS and the platforms' AGS at the
same time. Printed: requests/s and p50/p95/p99 per step, errors, RSS per process, what the worker delivered.

    python bench/load.py --plc-day [--users 200] [--seconds 300] [--burst 500] [--burst-seconds 60] [--burst-at 60]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urljoin

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import register_platform, start_gunicorn  # noqa: E402
from bench.plc_day import in_answer  # noqa: E402
from lti_tool.demo_lms.auto_form import submit_auto_form  # noqa: E402
from lti_tool.demo_lms.moodle_like import LaunchUser, MoodleLikePlatform  # noqa: E402
from tests.support.pg import throwaway_database  # noqa: E402

LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


def timed(samples: list[tuple[str, float, int]], name: str, call, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Call, record (kind, seconds, status); status 0 when the request did not complete."""
    started = time.perf_counter()
    try:
        response = call(*args, **kwargs)
        status = response.status_code
    except requests.RequestException:
        response, status = None, 0
    samples.append((name, time.perf_counter() - started, status))
    return response


def user_loop(platform: MoodleLikePlatform, sub: str, until: float, think: float, samples: list) -> None:  # type: ignore[type-arg]
    while time.monotonic() < until:
        browser = requests.Session()
        initiate = browser.get(platform.initiation_url(sub=sub, context_id="course-load"), allow_redirects=False)
        login = timed(samples, "login", browser.get, initiate.headers["Location"], allow_redirects=False)
        if login is None or login.status_code != 302:
            time.sleep(think)
            continue
        auth_page = browser.get(login.headers["Location"])
        launched = timed(samples, "launch", submit_auto_form_no_redirect, browser, auth_page)
        if launched is not None and in_answer(launched):
            home = launched.url  # the page came in the launch's answer (lti_tool/web/launch_answer.py)
        elif launched is not None and launched.status_code == 303:
            home = urljoin(launched.url, launched.headers["Location"])
            timed(samples, "page", browser.get, home)
        else:
            time.sleep(think)
            continue
        for _ in range(3):
            time.sleep(random.uniform(0.5 * think, 1.5 * think))
            timed(samples, "page", browser.get, home)
        time.sleep(random.uniform(0.5 * think, 1.5 * think))


def submit_auto_form_no_redirect(browser: requests.Session, page: requests.Response) -> requests.Response:
    original = browser.max_redirects
    browser.max_redirects = 0
    try:
        return submit_auto_form(browser, page)
    except requests.TooManyRedirects as exc:
        assert exc.response is not None
        return exc.response
    finally:
        browser.max_redirects = original


def client_process(index: int, tool_base: str, users: int, seconds: float, think: float, ready, go, out) -> None:  # type: ignore[no-untyped-def]
    platform = MoodleLikePlatform(client_id=f"load-{index}", deployment_id="dep-load").start()
    platform.configure_tool(tool_base + "/lti/login", tool_base + "/lti/launch", tool_base + "/lti/jwks")
    subs = [f"load-{index}-{n}" for n in range(users)]
    for sub in subs:
        platform.add_user(
            LaunchUser(
                sub=sub,
                name=f"ครู ทดสอบ {sub}",
                given_name="ครู",
                family_name="ทดสอบ",
                email=f"{sub}@example.org",
                roles=[LIS + "Learner"],
            )
        )
    ready.put((platform.issuer, platform.client_id, platform.auth_login_url, platform.token_url, platform.jwks_url))
    go.wait()
    until = time.monotonic() + seconds
    samples: list[tuple[str, float, int]] = []
    import threading

    threads = [threading.Thread(target=user_loop, args=(platform, sub, until, think, samples)) for sub in subs]
    for thread in threads:
        thread.start()
        time.sleep(think / max(users, 1))  # ramp up over one think time
    for thread in threads:
        thread.join()
    platform.stop()
    out.put(samples)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=None, help="50; a PLC day: 200")
    parser.add_argument("--seconds", type=float, default=None, help="60; a PLC day: 300")
    parser.add_argument("--processes", type=int, default=None, help="client processes: 5; a PLC day: 4 and the burst's")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a user's actions")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--plc-day", action="store_true", help="a PLC day's load (see above)")
    parser.add_argument("--burst", type=int, default=500, help="a PLC day: launches in the burst (0: none)")
    parser.add_argument("--burst-seconds", type=float, default=60)
    parser.add_argument("--burst-at", type=float, default=None, help="a PLC day: seconds into the run (default: 1/5)")
    args = parser.parse_args()

    if args.plc_day:
        from bench.load_day import plc_day

        plc_day(args)
        return
    args.users, args.seconds = args.users or 50, args.seconds or 60
    args.processes = args.processes or 5
    with throwaway_database("plc_load") as database_url:
        run(args, database_url)


def run(args: argparse.Namespace, database_url: str) -> None:
    port = 8600 + random.randint(0, 300)
    base = f"http://127.0.0.1:{port}"
    tmp = tempfile.mkdtemp()
    env = {
        **os.environ,
        "PLC_DATABASE_URL": database_url,
        "PLC_PUBLIC_BASE_URL": base,
        "PLC_SECRET_KEY": uuid.uuid4().hex * 2,
        "PLC_INSTANCE_PATH": tmp,
        "PLC_WORKER_THREAD": "false",
        "PLC_RATE_LIMIT_LTI": "100000 per minute",
        "PLC_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379/0",
        "PLC_LOG_LEVEL": "WARNING",
    }
    cli = [sys.executable, "-m", "lti_tool.cli.main"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)

    ctx = mp.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    per_process = [
        args.users // args.processes + (1 if i < args.users % args.processes else 0) for i in range(args.processes)
    ]
    clients = [
        ctx.Process(target=client_process, args=(i, base, n, args.seconds, args.think, ready, go, out))
        for i, n in enumerate(per_process)
    ]
    for client in clients:
        client.start()
    for _ in clients:
        issuer, client_id, auth, token, jwks = ready.get(timeout=60)
        register_platform(
            env,
            SimpleNamespace(
                issuer=issuer, client_id=client_id, deployment_id="dep-load", auth_login_url=auth,
                token_url=token, jwks_url=jwks,
            ),
        )  # fmt: skip
    web = start_gunicorn(env, port, workers=args.web_workers, threads=args.threads)
    try:
        go.set()
        samples: list[tuple[str, float, int]] = []
        for _ in clients:
            samples.extend(out.get(timeout=args.seconds + 120))
        for client in clients:
            client.join()
    finally:
        web.terminate()
        web.wait(timeout=10)

    latencies = [s[1] * 1000 for s in samples]
    errors = [s for s in samples if s[2] == 0 or s[2] >= 400]
    launches = sum(1 for s in samples if s[0] == "launch" and s[2] in (200, 303))
    print(
        f"load: {args.users} users, think ~{args.think}s, {args.seconds:.0f}s, gunicorn {args.web_workers} workers x {args.threads} threads, PostgreSQL"
    )
    print(
        f"  tool requests: {len(samples)}  ({len(samples) / args.seconds:.1f}/s)   launches completed: {launches} ({launches / args.seconds:.1f}/s)"
    )
    print(
        f"  latency ms: p50 {percentile(latencies, 50):.1f}  p95 {percentile(latencies, 95):.1f}  p99 {percentile(latencies, 99):.1f}"
    )
    for kind in ("login", "launch", "page"):
        values = [s[1] * 1000 for s in samples if s[0] == kind]
        if values:
            print(
                f"    {kind:6s} n={len(values):5d}  p50 {percentile(values, 50):6.1f}  p95 {percentile(values, 95):6.1f}  p99 {percentile(values, 99):6.1f}"
            )
    print(f"  errors: {len(errors)}" + (f"  (statuses {sorted({s[2] for s in errors})})" if errors else ""))


if __name__ == "__main__":
    main()
