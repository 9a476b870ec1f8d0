"""Launches per second for the whole LTI 1.3 round trip over HTTP: PLC Bridge against a bare pylti1p3 tool.

Both tools run as their own process on 127.0.0.1 behind the same WSGI server (waitress, 8 threads): PLC Bridge
with its embedded SQLite (or, with --database postgres, a throwaway PostgreSQL database on 127.0.0.1:5432) and a
cold instance folder, the baseline from bench/bare_tool.py with no persistence.
One platform (lti_tool/demo_lms/moodle_like.py, on lti1p3platform) serves both. A launch is: platform initiation →
tool login → platform auth (RS256 id_token) → tool launch → the page after it. Within a round the two tools take
turns in slices (--slices, A, B, A, B, ...), so that a change of load on a shared machine falls on both alike; a
tool's rate in a round is its launches over the time its slices took. The figures are medians over rounds, and the
ratio is PLC Bridge / baseline per round. Each tool first serves --warmup launches untimed: a fresh process is slower
for its first few hundred requests (caches filling, the collector going through everything made at start). Beside the
rates, the CPU each launch cost the tool's process and this process (the browsers and the platform), from /proc, which
other work on the machine disturbs less than the rates, and how busy the machine's cores were.

The person launches again and again, as teachers do: the first launch reads and acknowledges the personal-data
notice, so the timed launches land on the page after it. Before the rounds, the SQL statements and commits of one
launch are counted per step (login, launch, first page) with PLC Bridge in this process (bench/launch_queries.py).

    python bench/launch.py [--launches 150] [--concurrency 4] [--rounds 3] [--slices 5] [--warmup 150]
                           [--database sqlite|postgres] [--show-sql]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import register_platform, wait_until_up  # noqa: E402
from bench.launch_queries import STEPS, count_launch_queries  # noqa: E402
from bench.procs import cpu_seconds, machine_ticks  # noqa: E402
from lti_tool.demo_lms.auto_form import submit_auto_form  # noqa: E402
from lti_tool.demo_lms.moodle_like import LaunchUser, MoodleLikePlatform  # noqa: E402
from models.keys import generate_key  # noqa: E402
from tests.support.pg import postgres_available, throwaway_database  # noqa: E402

LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def database_url(kind: str) -> Iterator[str]:
    """ "" for the embedded SQLite file; a throwaway PostgreSQL database's URL, dropped at the end."""
    if kind == "sqlite":
        yield ""
        return
    if not postgres_available():
        raise SystemExit("--database postgres: no PostgreSQL server at 127.0.0.1:5432 (PLC_TEST_PG_ADMIN)")
    with throwaway_database("plc_bench_launch") as url:
        yield url


def plc_env(workdir: Path, base: str, url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PLC_INSTANCE_PATH": str(workdir / "plc-instance"),
        "PLC_PUBLIC_BASE_URL": base,
        "PLC_RATE_LIMIT_LTI": "100000 per minute",  # a throughput benchmark, not an attack
        "PLC_DATABASE_URL": url,
    }
    if not url:
        env.pop("PLC_DATABASE_URL")
    return env


def start_plc_bridge(platform: MoodleLikePlatform, workdir: Path, url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = plc_env(workdir, base, url)
    cli = [sys.executable, "-m", "lti_tool.cli.main"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    register_platform(env, platform)
    process = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--threads", "8"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_up(base + "/lti/jwks", process)
    return process, base


def start_bare(platform: MoodleLikePlatform, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    key = generate_key()  # the same RSA key recipe the tool uses for itself
    private, public = key.private_pem, key.public_pem
    config = {
        "issuer": platform.issuer,
        "client_id": platform.client_id,
        "private_key": private,
        "public_key": public,
        "settings": {
            platform.issuer: [
                {
                    "default": True,
                    "client_id": platform.client_id,
                    "auth_login_url": platform.auth_login_url,
                    "auth_token_url": platform.token_url,
                    "key_set_url": platform.jwks_url,
                    "key_set": None,
                    "deployment_ids": [platform.deployment_id],
                }
            ]
        },
    }
    config_path = workdir / "bare.json"
    config_path.write_text(json.dumps(config))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "bare_tool.py"), str(port), str(config_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base + "/login", process)
    return process, base


def one_launch(platform: MoodleLikePlatform, expect: str, first: bool = False) -> None:
    browser = requests.Session()
    auth_page = browser.get(
        platform.initiation_url(sub="bench-teacher", context_id="course-bench", resource_link_id="rl-bench"), timeout=30
    )
    page = submit_auto_form(browser, auth_page)
    if first and 'id="acknowledge"' in page.text:
        page = submit_auto_form(browser, page)  # the personal-data notice, read once: later launches go on
    if page.status_code != 200 or expect not in page.text:
        raise RuntimeError(f"launch failed: {page.status_code} {page.text[:200]}")


class Round:
    """One timed round of a tool: launches per second, the CPU milliseconds per launch of the tool's process and of this
    one (browsers and platform), and the share of the machine's cores busy meanwhile."""

    def __init__(self, rate: float, tool_ms: float, bench_ms: float, busy: float) -> None:
        self.rate, self.tool_ms, self.bench_ms, self.busy = rate, tool_ms, bench_ms, busy


class Tally:
    """What a tool's slices of one round add up to: launches, seconds, CPU seconds of its process and of this one,
    and the machine's busy and total jiffies."""

    def __init__(self) -> None:
        self.launches, self.seconds, self.tool_cpu, self.bench_cpu, self.busy, self.ticks = 0, 0.0, 0.0, 0.0, 0, 0

    def round(self) -> Round:
        return Round(
            self.launches / self.seconds,
            self.tool_cpu / self.launches * 1000,
            self.bench_cpu / self.launches * 1000,
            self.busy / self.ticks if self.ticks else 0.0,
        )


@dataclass(frozen=True)
class Tool:
    base: str
    login: str
    launch: str
    expect: str
    pid: int


def run_slice(platform: MoodleLikePlatform, tool: Tool, launches: int, concurrency: int, tally: Tally) -> None:
    """`launches` launches of one tool, timed, added to its tally; the platform is switched to the tool first and one
    launch is made untimed (the first JWKS fetch, connection pools, the notice read)."""
    platform.configure_tool(
        login_url=tool.base + tool.login, launch_url=tool.base + tool.launch, jwks_url=tool.base + "/lti/jwks"
    )
    one_launch(platform, tool.expect, first=True)
    tool_cpu, bench_cpu, ticks = cpu_seconds(tool.pid), time.process_time(), machine_ticks()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(lambda _: one_launch(platform, tool.expect), range(launches)))
    tally.seconds += time.perf_counter() - started
    busy, total = (after - before for after, before in zip(machine_ticks(), ticks, strict=True))
    tally.launches += launches
    tally.tool_cpu += cpu_seconds(tool.pid) - tool_cpu
    tally.bench_cpu += time.process_time() - bench_cpu
    tally.busy, tally.ticks = tally.busy + busy, tally.ticks + total


def run_round(
    platform: MoodleLikePlatform, tools: tuple[Tool, Tool], launches: int, concurrency: int, slices: int
) -> tuple[Round, Round]:
    """One round: each tool's `launches` in `slices` slices, the two tools' slices taking turns (A, B, A, B, ...), so
    that a change of load on the machine during the round falls on both alike."""
    tallies = (Tally(), Tally())
    sizes = [launches // slices + (1 if n < launches % slices else 0) for n in range(slices)]
    for size in sizes:
        for tool, tally in zip(tools, tallies, strict=True):
            run_slice(platform, tool, size, concurrency, tally)
    return tallies[0].round(), tallies[1].round()


def print_queries(
    statements: dict[str, float], commits: dict[str, float], sql: dict[str, list[str]], show: bool
) -> None:
    per_step = "  ".join(f"{step} {statements[step]:.1f} (+{commits[step]:.0f} commit)" for step in STEPS)
    print(f"  SQL statements per launch:          {sum(statements.values()):5.1f}  {per_step}")
    if show:
        for step in STEPS:
            print(f"    {step}:")
            for statement in sql[step]:
                print(f"      {statement}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--launches", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=150, help="untimed launches of each tool before the rounds")
    parser.add_argument(
        "--slices",
        type=int,
        default=5,
        help="each round's launches of a tool in this many slices, the tools taking turns",
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--show-sql", action="store_true", help="print the statements of one launch, step by step")
    args = parser.parse_args()

    platform = MoodleLikePlatform(client_id="bench-client", deployment_id="bench-dep").start()
    platform.add_user(
        LaunchUser(
            sub="bench-teacher",
            name="ครูทดสอบ ความเร็ว",
            given_name="ครูทดสอบ",
            family_name="ความเร็ว",
            email="bench@example.org",
            roles=[LIS + "Learner"],
        )
    )
    expect = "ครูทดสอบ"
    lock = threading.Lock()  # configure_tool switches the platform between the two tools
    with tempfile.TemporaryDirectory() as tmp, database_url(args.database) as url, lock:
        workdir = Path(tmp)
        ours, ours_base = start_plc_bridge(platform, workdir, url)
        bare, bare_base = start_bare(platform, workdir)
        try:
            overrides: dict[str, Any] = {
                "instance_path": workdir / "plc-instance",
                "rate_limit_lti": "100000 per minute",
                "database_url": url,
            }
            queries = count_launch_queries(
                platform, overrides, lambda: one_launch(platform, expect, first=True), free_port()
            )
            tools = (
                Tool(ours_base, "/lti/login", "/lti/launch", expect, ours.pid),
                Tool(bare_base, "/login", "/launch", "Hello", bare.pid),
            )
            for tool in tools:  # untimed: a fresh process is slower for its first few hundred requests
                run_slice(platform, tool, args.warmup, args.concurrency, Tally())
            ours_rounds: list[Round] = []
            bare_rounds: list[Round] = []
            for _ in range(args.rounds):
                ours_round, bare_round = run_round(platform, tools, args.launches, args.concurrency, args.slices)
                ours_rounds.append(ours_round)
                bare_rounds.append(bare_round)
        finally:
            ours.terminate()
            bare.terminate()
            ours.wait(timeout=30)
            platform.stop()
    ours_rates, bare_rates = [r.rate for r in ours_rounds], [r.rate for r in bare_rounds]
    ratios = [a / b for a, b in zip(ours_rates, bare_rates, strict=True)]
    database = "SQLite" if args.database == "sqlite" else "PostgreSQL"
    print(
        f"launch round trip over HTTP, {args.launches} launches x {args.rounds} rounds (each in {args.slices} slices, the"
        f" tools taking turns), concurrency {args.concurrency}, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"  {'PLC Bridge (' + database + ', 1 process):':36s}median {statistics.median(ours_rates):7.1f} launches/s  rounds {[round(r, 1) for r in ours_rates]}"
    )
    print(
        f"  bare pylti1p3 Flask (no storage):   median {statistics.median(bare_rates):7.1f} launches/s  rounds {[round(r, 1) for r in bare_rates]}"
    )
    print(
        f"  ratio PLC Bridge / bare:            median {statistics.median(ratios):7.2f}  (target >= 0.8)  rounds {[round(r, 2) for r in ratios]}"
    )
    print_queries(*queries, show=args.show_sql)
    for name, rounds in (("PLC Bridge", ours_rounds), ("bare pylti1p3", bare_rounds)):
        tool, bench = statistics.median(r.tool_ms for r in rounds), statistics.median(r.bench_ms for r in rounds)
        busy = statistics.median(r.busy for r in rounds)
        print(
            f"  CPU per launch, {name + ' rounds:':24s}tool {tool:5.1f} ms  browsers and platform {bench:5.1f} ms"
            f"  (cores busy {busy:.0%})  tool per round {[round(r.tool_ms, 1) for r in rounds]}"
        )


if __name__ == "__main__":
    main()
