"""The cyclic collector's cost in a process serving PLC Bridge: as Python starts it, and settled (lti_tool/web/app.py
`settle_heap`: start-up objects frozen, the youngest generation collected every 10,000 new objects, not 700).

The tool runs in this process (werkzeug's threaded server on 127.0.0.1, embedded SQLite, the same app as
`plc-bridge serve`) with a test platform; one teacher launches again and again (login, launch, the page after it).
Rounds alternate the two ways in the same process (`gc.unfreeze` and Python's thresholds give the first back), and
each round times every collection with `gc.callbacks`, then one full collection. Printed, as medians of rounds: the
collector's milliseconds per launch, its longest pause (every thread of the process waits for it), what a full
collection takes (Python runs one when the oldest generation has grown by a quarter: rarely in a round here, every
~20 s in a gunicorn worker during a PLC day), the process's CPU per launch, and the settled way's share of each.
The settled way here freezes a heap that the warm-up launches filled (templates, translations, caches); a web process
freezes its heap before its first request, so it walks those again in its full collections (~20,000 objects after a
first page, against ~290,000 frozen). The pauses are timed from the collector's start to its end, other threads'
work in between included, for both ways alike.

    python bench/gc_pause.py [--launches 400] [--rounds 4]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import register_platform, served_in_process  # noqa: E402
from bench.launch import LIS, free_port, one_launch, plc_env  # noqa: E402
from lti_tool.demo_lms.moodle_like import LaunchUser, MoodleLikePlatform  # noqa: E402
from lti_tool.settings import load_settings  # noqa: E402
from lti_tool.web.app import create_app, settle_heap  # noqa: E402
from models.database import Database  # noqa: E402
from models.migrate import prepare  # noqa: E402

PYTHON_THRESHOLDS = (700, 10, 10)
EXPECT = "ครูทดสอบ"


class Collections:
    """Every collection's duration while `on`, from gc.callbacks."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self.on = False
        self._started = 0.0

    def __call__(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self.on:
            self.pauses.append(time.perf_counter() - self._started)


def as_started() -> None:
    """Python's own way back: nothing frozen, its thresholds, and the oldest generation's count as a full collection
    leaves it (so the next full one comes when it has grown by a quarter, as in a process that never froze)."""
    gc.unfreeze()
    gc.set_threshold(*PYTHON_THRESHOLDS)
    gc.collect()


def one_round(
    platform: MoodleLikePlatform, launches: int, collections: Collections
) -> tuple[float, float, float, float]:
    """Collector ms per launch, longest pause in ms, process CPU ms per launch, and a full collection's ms after the
    round (what each of the rare collections of the oldest generation costs)."""
    collections.pauses.clear()
    collections.on = True
    cpu = time.process_time()
    for _ in range(launches):
        one_launch(platform, EXPECT)
    cpu = time.process_time() - cpu
    collections.on = False
    pauses = collections.pauses
    full = time.perf_counter()
    gc.collect()
    full = time.perf_counter() - full
    return 1000 * sum(pauses) / launches, 1000 * max(pauses, default=0.0), 1000 * cpu / launches, 1000 * full


Rounds = dict[str, list[tuple[float, float, float, float]]]


def measure(platform: MoodleLikePlatform, launches: int, rounds: int, collections: Collections) -> Rounds:
    """Untimed launches first (caches fill, the statements get built), then `rounds` rounds of each way."""
    one_launch(platform, EXPECT, first=True)
    for _ in range(launches):
        one_launch(platform, EXPECT)
    measured: Rounds = {"as started": [], "settled": []}
    ways = [("as started", as_started), ("settled", settle_heap)]
    for number in range(rounds):
        for way, setup in ways if number % 2 == 0 else ways[::-1]:  # each way goes first every other round
            setup()
            measured[way].append(one_round(platform, launches, collections))
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--launches", type=int, default=400, help="launches per round")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of each way, taking turns")
    args = parser.parse_args()

    platform = MoodleLikePlatform(client_id="bench-client", deployment_id="bench-dep").start()
    platform.add_user(
        LaunchUser(sub="bench-teacher", name="ครูทดสอบ ความเร็ว", given_name="ครูทดสอบ", family_name="ความเร็ว",
                   email="bench@example.org", roles=[LIS + "Learner"])
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        register = plc_env(Path(tmp), base, "")
        settings = load_settings(
            instance_path=Path(tmp) / "plc-instance", public_base_url=base, rate_limit_lti="100000 per minute"
        )
        database = Database(settings.database_url)
        prepare(database)
        register_platform(register, platform)
        collections = Collections()
        gc.callbacks.append(collections)
        try:
            with served_in_process(create_app(settings, database), port, platform):
                rounds = measure(platform, args.launches, args.rounds, collections)
        finally:
            gc.callbacks.remove(collections)
            platform.stop()
            database.dispose()
    print(
        f"the cyclic collector in a process serving PLC Bridge and its browsers, {args.launches} launches x "
        f"{args.rounds} rounds of each way, taking turns (medians of rounds):"
    )
    medians = {way: [statistics.median(r[n] for r in rows) for n in range(4)] for way, rows in rounds.items()}
    for way, (collector, longest, cpu, full) in medians.items():
        print(
            f"  {way + ':':12s} collector {collector:6.3f} ms per launch, longest pause {longest:6.1f} ms,"
            f" a full collection {full:6.1f} ms, process CPU {cpu:5.2f} ms per launch"
        )
    before, after = medians["as started"], medians["settled"]
    print(
        f"  settled / as started: collector per launch {after[0] / before[0]:.2f}, longest pause"
        f" {after[1] / before[1]:.2f}, a full collection {after[3] / before[3]:.2f}, CPU {after[2] / before[2]:.2f}"
    )


if __name__ == "__main__":
    main()
