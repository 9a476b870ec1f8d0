"""The CPU PLC Bridge spends on each step of a launch (login, launch, the page after it), measured where it is spent:
in the thread that serves the request, inside the app (the WSGI server's own work and the browsers' left out).

The tool runs in this process (werkzeug's threaded server on 127.0.0.1, embedded SQLite or, with --database-url, that
PostgreSQL database, which must be empty) with a test platform; one teacher launches again and again, one launch at a
time. Printed: each step's median thread CPU and the sum (the first page, where it comes in the launch's answer, is
counted in the launch). bench/launch.py's rates and process CPU move with the
machine's load by more than a change of a few per cent; this figure moves less, so two versions can be compared in
turns on one machine:

    git worktree add /tmp/before <commit>
    python bench/launch_steps.py --checkout /tmp/before; python bench/launch_steps.py; (and again, in turns)

--checkout measures that checkout's code (its app, models and harness), with this script.

    python bench/launch_steps.py [--launches 400] [--warmup 200] [--checkout DIR] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("login", "launch", "first page")
EXPECT = "ครูทดสอบ"


def step_of(path: str) -> str:
    return "login" if path.startswith("/lti/login") else "launch" if path.startswith("/lti/launch") else "first page"


class StepClock:
    """Thread CPU seconds of each request inside the app, per step, while `on`."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.on = False

    def wrap(self, wsgi_app: Callable[..., Iterable[bytes]]) -> Callable[..., list[bytes]]:
        def timed(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            started = time.thread_time()
            body = list(wsgi_app(environ, start_response))  # the answer made whole, as the server would send it
            if self.on:
                self.seconds[step_of(environ.get("PATH_INFO", ""))].append(time.thread_time() - started)
            return body

        return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--launches", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=200, help="untimed launches first")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the checkout whose code is measured")
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database (default: embedded SQLite)")
    args = parser.parse_args()
    code = args.checkout.resolve()
    sys.path.insert(0, str(code))
    os.environ["PYTHONPATH"] = str(code)  # the CLI that registers the platform runs that code too

    from bench.harness import register_platform, served_in_process
    from bench.launch import LIS, free_port, one_launch, plc_env
    from lti_tool.demo_lms.moodle_like import LaunchUser, MoodleLikePlatform
    from lti_tool.settings import load_settings
    from lti_tool.web.app import create_app
    from models.database import Database
    from models.migrate import prepare

    platform = MoodleLikePlatform(client_id="bench-client", deployment_id="bench-dep").start()
    platform.add_user(
        LaunchUser(sub="bench-teacher", name="ครูทดสอบ ความเร็ว", given_name="ครูทดสอบ", family_name="ความเร็ว",
                   email="bench@example.org", roles=[LIS + "Learner"])
    )  # fmt: skip
    clock = StepClock()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        overrides: dict[str, Any] = {"database_url": args.database_url} if args.database_url else {}
        settings = load_settings(
            instance_path=Path(tmp) / "plc-instance", public_base_url=base, rate_limit_lti="100000 per minute",
            **overrides,
        )  # fmt: skip
        database = Database(settings.database_url)
        prepare(database)
        register_platform(plc_env(Path(tmp), base, args.database_url), platform)
        app = create_app(settings, database)
        app.wsgi_app = clock.wrap(app.wsgi_app)  # type: ignore[method-assign]
        try:
            with served_in_process(app, port, platform):
                one_launch(platform, EXPECT, first=True)
                for _ in range(args.warmup):
                    one_launch(platform, EXPECT)
                clock.on = True
                for _ in range(args.launches):
                    one_launch(platform, EXPECT)
        finally:
            platform.stop()
            database.dispose()
    # A step with no request of its own: the first page that comes in the launch's answer (counted in the launch).
    medians = {step: 1000 * statistics.median(clock.seconds[step]) for step in STEPS if clock.seconds[step]}
    where = "this checkout" if code == ROOT else str(code)
    print(
        f"CPU in the app per step of a launch ({where}, {'PostgreSQL' if args.database_url else 'SQLite'}, median of"
        f" {args.launches}): "
        + ", ".join(f"{step} {medians[step]:.2f} ms" if step in medians else f"{step} in the launch" for step in STEPS)
        + f"; in all {sum(medians.values()):.2f} ms"
    )


if __name__ == "__main__":
    main()
