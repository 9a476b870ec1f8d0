"""Grades to the gradebook: 1,000 graded reflections delivered as AGS scores to the Moodle-like platform over HTTP.

In one run, against the Moodle-like platform (lti1p3platform's token endpoint, which checks each client assertion against
the tool's JWKS, and the AGS endpoints of lti_tool/demo_lms/moodle_like_services.py):
  (a) 1,000 reflections graded (one transaction each: the grade and its score-outbox row), then the score worker
      drains the outbox with the token cached per platform and scope set;
  (b) the same scores sent again by the same worker code with a fresh token for every score (on a sample: it is
      the slow one, and the rate is per score).
It prints scores per second, the token requests each way, and the ratio.

    python bench/grades.py [--scores 1000] [--fresh-sample 300] [--postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import threading
import time
from collections.abc import Collection, Iterator
from pathlib import Path

import requests
from sqlalchemy import select, update
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lti_tool.demo_lms.auto_form import submit_auto_form  # noqa: E402
from lti_tool.demo_lms.moodle_like import LaunchUser, MoodleLikePlatform, QuietHandler  # noqa: E402
from lti_tool.lti.service_tokens import ServiceClient  # noqa: E402
from lti_tool.settings import Settings  # noqa: E402
from lti_tool.web.app import create_app  # noqa: E402
from lti_tool.workers.scores import ScoreDelivery  # noqa: E402
from models.database import Database  # noqa: E402
from models.keys import current_key  # noqa: E402
from models.migrate import prepare  # noqa: E402
from models.platform import Deployment, Platform  # noqa: E402
from models.scores import ScorePost, ScoreState  # noqa: E402
from tests.support.grading import add_teachers, course_of, grade, reflections  # noqa: E402
from tests.support.pg import postgres_available, throwaway_database  # noqa: E402

LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
TRAINER = LaunchUser("bench-trainer", "Bench Trainer", "Bench", "Trainer", "t@example.org", [LIS + "Instructor"])


class FreshTokenClient(ServiceClient):
    """The comparison: a new access token for every call, as a tool without a token cache does."""

    def token(self, platform_id: int, scopes: Collection[str]) -> str:
        with self.database.transaction() as db:
            platform = db.get(Platform, platform_id)
            assert platform is not None
            key = current_key(db)
            return self._fetch(platform, key.private_pem, key.kid, scopes)[0]


@contextlib.contextmanager
def tool_server(database_url: str, workdir: Path) -> Iterator[tuple[str, Database]]:
    """The tool over HTTP on 127.0.0.1 (its JWKS is what the platform checks each client assertion against)."""
    server = make_server("127.0.0.1", 0, lambda e, s: app(e, s), threaded=True, request_handler=QuietHandler)
    base = f"http://127.0.0.1:{server.server_port}"
    settings = Settings(
        instance_path=workdir, database_url=database_url, public_base_url=base, secret_key="bench", worker_thread=False
    ).resolved()
    database = Database(settings.database_url)
    prepare(database)
    app = create_app(settings, database)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield base, database
    finally:
        server.shutdown()
        app.extensions["plc_db"].dispose()


def drain(worker: ScoreDelivery) -> float:
    started = time.perf_counter()
    while worker.run_once().handled:
        pass
    return time.perf_counter() - started


def run(scores: int, sample: int, database_url: str, workdir: Path) -> None:
    platform = MoodleLikePlatform(client_id="bench-client", deployment_id="bench-dep").start()
    with tool_server(database_url, workdir) as (base, database):
        platform.configure_tool(base + "/lti/login", base + "/lti/launch", base + "/lti/jwks")
        platform.add_user(TRAINER)
        with database.transaction() as db:
            row = Platform(
                issuer=platform.issuer,
                client_id=platform.client_id,
                auth_login_url=platform.auth_login_url,
                auth_token_url=platform.token_url,
                key_set_url=platform.jwks_url,
            )
            row.deployments = [Deployment(deployment_id=platform.deployment_id)]
            db.add(row)
        browser = requests.Session()
        landing = submit_auto_form(browser, browser.get(platform.initiation_url(TRAINER.sub, "bench-course", resource_link_id="bench-rl", custom={"activity": "landing"}), timeout=10))  # fmt: skip
        assert landing.status_code == 200, landing.text[:300]
        course = course_of(database, "bench-course", "bench-rl", TRAINER.sub)
        ids = reflections(database, course, add_teachers(database, course, scores, prefix="bench-teacher"))

        started = time.perf_counter()
        for reflection_id in ids:
            with database.transaction() as db:
                grade(db, reflection_id, course.trainer_id)
        grading = time.perf_counter() - started

        cached = ScoreDelivery(database, ServiceClient(database), batch_size=100)
        cached_seconds = drain(cached)
        cached_tokens = platform.services.token_requests
        received = len(platform.services.received_scores)
        assert received == scores, f"{received} scores arrived, not {scores}"

        sample = min(sample, scores)
        with database.transaction() as db:
            first = sorted(db.scalars(select(ScorePost.id)))[:sample]
            db.execute(update(ScorePost).where(ScorePost.id.in_(first)).values(state=ScoreState.PENDING.value))
        fresh = ScoreDelivery(database, FreshTokenClient(database), batch_size=100)
        fresh_seconds = drain(fresh)
        fresh_tokens = platform.services.token_requests - cached_tokens
        assert len(platform.services.received_scores) == scores + sample
    platform.stop()

    cached_rate, fresh_rate = scores / cached_seconds, sample / fresh_seconds
    print(f"database: {database_url.split('://')[0]}")
    print(f"grading {scores} reflections (grade + score outbox row, one transaction each): {grading:.2f} s")
    print(f"delivered {received} scores with the cached token: {cached_seconds:.2f} s = {cached_rate:.0f} scores/s, "
          f"{cached_tokens} token request(s), {platform.services.lineitem_creations} line item made")  # fmt: skip
    print(f"{sample} of the same scores with a fresh token each: {fresh_seconds:.2f} s = {fresh_rate:.0f} scores/s, "
          f"{fresh_tokens} token requests")  # fmt: skip
    print(f"ratio cached / fresh: {cached_rate / fresh_rate:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scores", type=int, default=1000)
    parser.add_argument("--fresh-sample", type=int, default=300, help="scores sent with a fresh token each")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL on 127.0.0.1 instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plc-bench-grades-") as tmp:
        if args.postgres:
            if not postgres_available():
                raise SystemExit("PostgreSQL is not reachable on 127.0.0.1:5432")
            with throwaway_database("plc_bench") as url:
                run(args.scores, args.fresh_sample, url, Path(tmp))
        else:
            run(args.scores, args.fresh_sample, f"sqlite:///{Path(tmp) / 'grades.sqlite3'}", Path(tmp))


if __name__ == "__main__":
    main()
