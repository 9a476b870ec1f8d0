"""The time one recorded session adds to its transaction for the live dashboard figures (issue 17), on PostgreSQL.

A fresh database with the synthetic district of `--size` (seeded with models.synthetic, timed, its figures built),
then `--samples` times: one element session with its attendance added to a random cycle of a placed program, and
the time of the live update that commit runs (models/live_figures.py) measured alone, and the statements it sends;
each transaction commits, as a recorded session does (the district grows by `--samples` sessions). Rolling back
instead would measure PostgreSQL planning every statement again: psycopg drops its prepared statements on every
rollback. Printed: seeding time, database size, median and p95 of the added time against the target (p95 < 5 ms),
and the statements per update.

    python bench/live_figures.py [--size small|large] [--samples 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from models.cycles import Cycle, ElementSession, SessionAttendance  # noqa: E402
from models.dashboard_stats import refresh_all  # noqa: E402
from models.database import Database  # noqa: E402
from models.district import ProgramPlacement  # noqa: E402
from models.live_figures import recompute_now  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.platform import Platform  # noqa: E402
from models.synthetic import SIZES, seed_district  # noqa: E402
from models.teams import Team, TeamMember  # noqa: E402
from tests.factories import make_course  # noqa: E402
from tests.support.pg import throwaway_database  # noqa: E402

TARGET_P95_MS = 5.0


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    with throwaway_database("plc_bench_live") as url:
        database = Database(url)
        upgrade(database.engine)
        started = time.perf_counter()
        with database.transaction() as db:
            course = make_course(db, "bench-live", teachers=0)
            platform = db.get(Platform, course.scope.platform_id)
            assert platform is not None
            seed_district(db, platform, SIZES[args.size], today=date.today())
            refresh_all(db)
        seeded = time.perf_counter() - started
        with database.engine.connect() as connection:  # as autovacuum would have: statistics for the planner
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        with Session(database.engine) as db:
            size = db.scalar(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
            cycles = list(
                db.execute(
                    select(Cycle.id, Cycle.team_id)
                    .join(Team, Team.id == Cycle.team_id)
                    .join(ProgramPlacement, ProgramPlacement.program_id == Team.program_id)
                )
            )
        print(f"{args.size}: seeded and built in {seeded:.1f} s; database {size}; {len(cycles):,} cycles placed")
        rng = random.Random(17)
        added: list[float] = []
        statements: list[int] = []
        counting = [False, 0]

        def count(*_args: object) -> None:
            if counting[0]:
                counting[1] = int(counting[1]) + 1

        event.listen(database.engine, "before_cursor_execute", count)
        for _ in range(args.samples):
            cycle_id, team_id = rng.choice(cycles)
            with Session(database.engine) as db:
                members = list(db.scalars(select(TeamMember.membership_id).where(TeamMember.team_id == team_id)))
                session = ElementSession(
                    cycle_id=cycle_id, element=rng.randint(1, 5), held_on=date.today(), hours=Decimal(2),
                    created_by_id=members[0],
                )  # fmt: skip
                db.add(session)
                db.flush()
                db.add_all(SessionAttendance(session_id=session.id, membership_id=m) for m in members)
                db.flush()
                counting[:] = [True, 0]
                begun = time.perf_counter()
                recompute_now(db)
                added.append((time.perf_counter() - begun) * 1000)
                counting[0] = False
                statements.append(int(counting[1]))
                db.commit()
        database.dispose()
    p50, p95 = statistics.median(added), percentile(added, 95)
    verdict = "ok" if p95 < TARGET_P95_MS else "over"
    print(f"live update added per recorded session: median {p50:.2f} ms, p95 {p95:.2f} ms (target p95 < "
          f"{TARGET_P95_MS:.0f} ms: {verdict}); {statistics.median(statements):.0f} statements per update")  # fmt: skip


if __name__ == "__main__":
    main()
