"""`python bench/faults.py soak [--minutes 20]`: a PLC day's mixed load (bench/plc_day.py) for that long while the LRS
(Ralph), the platforms' AGS endpoints and PostgreSQL each go away and come back at random moments, independently
(they may overlap). PostgreSQL is a private cluster (bench/faults.py's PrivatePostgres, on its own port), so the
machine's server that other tests use is never touched. No process of the tool is restarted: gunicorn and
`plc-bridge worker` run from start to end, and the soak says whether each is still the same process.

At the end every fault is over, the worker drains, and the learning records in the outbox are compared with what
Ralph holds, the scores in the score outbox with what the platforms' AGS received: lost and duplicated, 0/0 the goal.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from bench.day_report import count_losses, load_average, print_cpu, print_rss, print_steps
from bench.plc_day import Day, Plan, Sample


class Faults:
    """Each fault in its own thread: up for a random while, down for a random while, until told to stop."""

    def __init__(self, day: Day, cluster: object, up: tuple[float, float], down: tuple[float, float]) -> None:
        self.day, self.cluster, self.up, self.down = day, cluster, up, down
        self.stopping = threading.Event()
        self.windows: list[tuple[str, float, float, str]] = []  # (fault, from, to, how) in seconds of the run
        self.problems: list[str] = []
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        day, cluster = self.day, self.cluster
        # Half the time the LRS is stopped cleanly, half the time killed (mid-request, perhaps); PostgreSQL likewise
        # is stopped (fast) or crashes (immediate). The AGS answers 503 while it is away.
        faults: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
            "LRS": (lambda: pick({"stopped": day.ralph.stop, "killed": lambda: kill(day)}), day.ralph.start),
            "AGS": (lambda: pick({"503": day.ags_down.set}), day.ags_down.clear),
            "PostgreSQL": (lambda: pick({"stopped": cluster.stop, "crashed": cluster.crash}), cluster.start),  # type: ignore[attr-defined]
        }
        for name, (stop, start) in faults.items():
            thread = threading.Thread(target=self._cycle, args=(name, stop, start), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _cycle(self, name: str, stop: Callable[[], object], start: Callable[[], object]) -> None:
        while not self.stopping.wait(random.uniform(*self.up)):
            went, how = time.monotonic() - self.day.started, "?"
            try:
                how = str(stop())
            except Exception as exc:  # noqa: BLE001 - reported, and the soak goes on
                self.problems.append(f"{name} did not stop: {exc}")
            self.stopping.wait(random.uniform(*self.down))
            for attempt in range(5):
                try:
                    start()
                    break
                except Exception as exc:  # noqa: BLE001
                    self.problems.append(f"{name} did not start (attempt {attempt + 1}): {exc}")
                    time.sleep(2)
            self.windows.append((name, went, time.monotonic() - self.day.started, how))

    def finish(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=120)


def pick(ways: dict[str, Callable[[], object]]) -> str:
    """One of the ways a service goes away, at random; its name."""
    how = random.choice(list(ways))
    ways[how]()
    return how


def kill(day: Day) -> None:
    """The LRS killed (SIGKILL): whatever it was answering is cut off."""
    if day.ralph.process is not None:
        day.ralph.process.kill()
        day.ralph.process.wait(timeout=15)
        day.ralph.process = None


def in_window(sample: Sample, windows: list[tuple[str, float, float, str]], grace: float = 5.0) -> bool:
    """Whether a request ran while PostgreSQL was away (or within `grace` seconds after it came back)."""
    at = sample[0]
    return any(name == "PostgreSQL" and start <= at <= end + grace for name, start, end, _ in windows)


def soak(workdir: Path, minutes: float, users: int, private_postgres: type) -> None:
    cluster = private_postgres(workdir)
    cluster.start()
    with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute('CREATE DATABASE "plc"')
    seconds = minutes * 60
    plan = Plan(users=users, seconds=seconds, think=1.0, processes=2, burst=0, web_workers=2)
    # The retry ceiling an operator sets for a quick recovery (the default is 10 minutes): the drain ends sooner.
    day = Day(plan, cluster.url("plc"), workdir, env_extra={"PLC_OUTBOX_MAX_BACKOFF_SECONDS": "30"})
    print(f"soak: {users} people, think ~1 s, {minutes:g} min; LRS, AGS and PostgreSQL each away at random moments")
    print(f"  before: {load_average()}")
    try:
        day.start()
        worker_pid, web_pid = day.worker.pid, day.web.pid
        faults = Faults(day, cluster, up=(20.0, 90.0), down=(5.0, 40.0))
        faults.start()
        samples = day.samples()
        print(f"  at the end of the load: {load_average()}")
        faults.finish()
        day.restarts = len(faults.windows)
        day.rss_now()
        drained = day.drain(900)
        received = day.received_scores()
        counts = count_losses(day, received)
        alive = {
            "gunicorn master": day.web.poll() is None and day.web.pid == web_pid,
            "plc-bridge worker": day.worker.poll() is None and day.worker.pid == worker_pid,
        }
    finally:
        day.stop()
        cluster.stop()
    print(f"  faults ({len(faults.windows)}), seconds into the run:")
    for name in ("LRS", "AGS", "PostgreSQL"):
        spans = [f"{a:.0f}-{b:.0f} {how}" for n, a, b, how in faults.windows if n == name]
        print(f"    {name:10s} away {len(spans)} times: {', '.join(spans)}")
    for problem in faults.problems:
        print(f"    ! {problem}")
    outside = [s for s in samples if not in_window(s, faults.windows)]
    print("  all requests:")
    print_steps(samples, day.elapsed, day.no_answer)
    print("  requests outside PostgreSQL's absences (+5 s):")
    print_steps(outside, day.elapsed)
    print_rss(day)
    print_cpu(day, samples)
    print(f"  still the same process at the end (never restarted): {alive}")
    print(f"  drained {drained:.0f} s after the load stopped")
    print("  " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    lost = counts["records lost"] + counts["scores lost"]
    duplicated = counts["records duplicated"] + counts["scores duplicated"]
    print(f"  LOST/DUPLICATED: learning records {counts['records lost']}/{counts['records duplicated']}, "
          f"scores {counts['scores lost']}/{counts['scores duplicated']}  (total {lost}/{duplicated}); scores "
          f"resent to their line item and kept once there: {counts['scores resent and kept once']}")  # fmt: skip
    print(f"  uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
