"""The national size of the dashboard benchmark (issue 17), run by `bench/dashboard.py --size national`.

On PostgreSQL: 245 synthetic districts in 77 provinces, 30,000 schools, 400,000 teachers, five years of programs
(models.synthetic, one district at a time) and of O-NET, NT and RT results per school (with the districts' and the
nation's means), times `--scale` (1.0 is the full size; the shared 2-core machine seeds a fraction in reasonable
time). Printed: the seeding time and the database size; p50/p95 of the national view (an OBEC leader), one
district's view, one school's view, the school-versus-nation page, the public national summary; and the time one
recorded session adds to its transaction for the live figures (median and p95).

Seeding the full size takes about an hour on the shared machine: `--database NAME` seeds into that database and keeps
it, and a later run with the same NAME reuses it (migrated to head, analysed, its platform moved to the new test
platform's port and key), so a change to the views is measured in minutes.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
import requests
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from bench.harness import CLI, register_platform, start_gunicorn
from lti_tool.demo_lms.auto_form import submit_auto_form
from lti_tool.demo_lms.moodle_like import LaunchUser, MoodleLikePlatform
from models.cycles import Cycle, ElementSession, SessionAttendance
from models.database import Database
from models.district import District, ProgramPlacement, School, add_leader, find_unit
from models.exam_results import DISTRICT, NATION, SCHOOL, ExamResult, subjects
from models.live_figures import recompute_now
from models.platform import Platform
from models.policy import Province, add_policy_leader, add_province, assign_district
from models.synthetic import Size, seed_district
from models.teams import Team, TeamMember
from tests.support.pg import PG_ADMIN_URL, throwaway_database

LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
FULL = {"districts": 245, "schools": 30_000, "teachers": 400_000, "provinces": 77}
YEARS = (2022, 2023, 2024, 2025, 2026)
PORT = 8392
TARGET_P95_MS, TARGET_LIVE_P95_MS = 150.0, 5.0
WARMUP = 10  # live updates not timed, on a new connection (live_update)


def _user(sub: str, name: str) -> LaunchUser:
    return LaunchUser(sub=sub, name=name, given_name=name, family_name="", email=f"{sub}@example.org",
                      roles=[LIS + "Instructor"], locale="th")  # fmt: skip


OBEC, DISTRICT_LEADER, SCHOOL_LEADER = (
    _user("bench-obec", "ผู้บริหาร สพฐ."),
    _user("bench-district", "ผู้อำนวยการเขต"),
    _user("bench-school", "ผู้อำนวยการโรงเรียน"),
)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def seed(url: str, issuer: str, scale: float, progress: Any = print) -> dict[str, Any]:
    """Seed the national size times `scale` on the platform `issuer`; returns ids the views need."""
    districts = max(2, round(FULL["districts"] * scale))
    schools = max(2, round(FULL["schools"] * scale / districts))
    teachers = max(20, round(FULL["teachers"] * scale / districts))
    database = Database(url)
    rng = random.Random(17)
    with database.transaction() as db:
        platform = db.scalars(select(Platform).where(Platform.issuer == issuer)).one()
        provinces = [add_province(db, platform, f"P{n:02d}", f"จังหวัดสังเคราะห์ {n}") for n in range(1, 78)]
        for n in range(districts):
            size = Size(f"n{n:03d}", networks=max(1, schools // 12), schools=schools, teachers=teachers,
                        teams=max(1, teachers // 6), years=YEARS)  # fmt: skip
            report = seed_district(db, platform, size, today=date(2026, 11, 23), rng_seed=n)
            district = db.get(District, report.district_id)
            assert district is not None
            district.public_summary = True
            assign_district(db, provinces[n % len(provinces)], district)
            if n % 10 == 0:
                progress(f"  {n + 1}/{districts} districts seeded")
        first = db.scalars(select(District).order_by(District.id)).first()
        assert first is not None
        first_school = db.scalars(select(School).where(School.district_id == first.id).order_by(School.id)).first()
        assert first_school is not None
        add_policy_leader(db, platform, OBEC.sub, None)
        add_leader(db, platform, DISTRICT_LEADER.sub, find_unit(db, platform, first.code))
        add_leader(db, platform, SCHOOL_LEADER.sub, find_unit(db, platform, first.code, first_school.code))
        results = _seed_results(db, rng)
        ids = {"platform": platform.id, "district": first.id, "school": first_school.id, "results": results,
               "districts": districts, "schools": schools * districts, "teachers": teachers * districts}  # fmt: skip
    database.dispose()
    return ids


def _seed_results(db: Session, rng: random.Random) -> int:
    """Five years of every test of every school (primary schools: RT ป.1, NT ป.3, O-NET ป.6; one in five also
    secondary: O-NET ม.3 and ม.6), with the districts' and the nation's means."""
    by_test: dict[str, list[str]] = {}
    for subject in subjects().values():
        for test in subject.tests:
            by_test.setdefault(test, []).append(subject.code)
    rows: list[dict[str, Any]] = []
    schools = db.execute(select(School.id, School.district_id)).all()
    for school_id, district_id in schools:
        grades = [("RT", "ป.1"), ("NT", "ป.3"), ("O-NET", "ป.6")]
        if school_id % 5 == 0:
            grades += [("O-NET", "ม.3"), ("O-NET", "ม.6")]
        level = rng.gauss(0, 6)
        for year in YEARS:
            for test, grade in grades:
                for subject in by_test[test]:
                    if grade != "ม.6" and subject == "social":
                        continue
                    mean = max(5.0, min(95.0, rng.gauss(45 + level, 9)))
                    rows.append({"level": SCHOOL, "district_id": district_id, "school_id": school_id, "test": test,
                                 "grade_level": grade, "subject": subject, "year": year,
                                 "mean": Decimal(f"{mean:.2f}"), "pupils": rng.randint(8, 60)})  # fmt: skip
    for start in range(0, len(rows), 5000):
        db.execute(insert(ExamResult), rows[start : start + 5000])
    # The districts' and the nation's means, as the testing bodies print them beside each school's; the nation's is
    # kept beside each district's upload (models/exam_results.py).
    keys = (ExamResult.test, ExamResult.grade_level, ExamResult.subject, ExamResult.year)
    district_ids = sorted({district_id for _, district_id in schools})
    for level, group in ((DISTRICT, (ExamResult.district_id, *keys)), (NATION, keys)):
        means = db.execute(select(*group, func.avg(ExamResult.mean)).where(ExamResult.level == SCHOOL).group_by(*group))
        extra = []
        for row in means:
            mean = Decimal(row[-1]).quantize(Decimal("0.01"))
            if level == NATION:
                values = dict(zip(("test", "grade_level", "subject", "year"), row[:-1], strict=True))
                extra += [{**values, "district_id": d, "level": level, "mean": mean} for d in district_ids]
            else:
                values = dict(zip(("district_id", "test", "grade_level", "subject", "year"), row[:-1], strict=True))
                extra.append({**values, "level": level, "mean": mean})
        db.execute(insert(ExamResult), extra)
    return len(rows)


def live_update(url: str, samples: int, warmup: int = WARMUP) -> list[float]:
    """The time the live figures add to a transaction that records one session, measured alone. Each commits, as a
    recorded session does (a rollback would also drop psycopg's prepared statements, so every sample would measure
    PostgreSQL planning again): a reused database keeps these sessions. The first `warmup` are not timed: psycopg
    prepares a statement on its fifth run on a connection, so a new connection's first updates plan every statement,
    which a web process's pooled connections did long before (measured on the national size: the first ten 3.1-27 ms,
    the next fifty median 2.3-2.6 ms, p95 3.2-3.6 ms)."""
    database = Database(url)
    rng = random.Random(5)
    with Session(database.engine) as db:
        cycles = list(
            db.execute(
                select(Cycle.id, Cycle.team_id)
                .join(Team, Team.id == Cycle.team_id)
                .where(Team.program_id.in_(select(ProgramPlacement.program_id)))
                .order_by(Cycle.id)
                .limit(5000)
            )
        )
    added: list[float] = []
    for n in range(warmup + samples):
        cycle_id, team_id = rng.choice(cycles)
        with Session(database.engine) as db:
            members = list(db.scalars(select(TeamMember.membership_id).where(TeamMember.team_id == team_id)))
            session = ElementSession(cycle_id=cycle_id, element=rng.randint(1, 5), held_on=date(2026, 11, 20),
                                     hours=Decimal(2), created_by_id=members[0])  # fmt: skip
            db.add(session)
            db.flush()
            db.add_all(SessionAttendance(session_id=session.id, membership_id=m) for m in members)
            db.flush()
            t0 = time.perf_counter()
            recompute_now(db)
            if n >= warmup:
                added.append((time.perf_counter() - t0) * 1000)
            db.commit()
    database.dispose()
    return added


@contextmanager
def kept_database(name: str) -> Iterator[str]:
    """The database `name` on the machine's server, created if missing and kept at the end (`--database`)."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _seeded(url: str) -> dict[str, Any] | None:
    """The ids a previous run kept in the database (`--database`), or None when it was never (fully) seeded."""
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            if not connection.scalar(text("SELECT to_regclass('bench_national') IS NOT NULL")):
                return None
            found = connection.scalar(text("SELECT ids FROM bench_national"))
            return json.loads(found) if found else None
    finally:
        database.dispose()


def _keep(url: str, ids: dict[str, Any]) -> None:
    database = Database(url)
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS bench_national (ids text NOT NULL)"))
        connection.execute(text("DELETE FROM bench_national"))
        connection.execute(text("INSERT INTO bench_national (ids) VALUES (:ids)"), {"ids": json.dumps(ids)})
    database.dispose()


def _move_platform(url: str, platform_id: int, platform: MoodleLikePlatform) -> None:
    """A kept database's platform now runs on another port with another key: its URLs follow it."""
    database = Database(url)
    with database.transaction() as db:
        row = db.get(Platform, platform_id)
        assert row is not None
        row.issuer, row.auth_login_url = platform.issuer, platform.auth_login_url
        row.auth_token_url, row.key_set_url = platform.token_url, platform.jwks_url
        row.key_set_cache = row.key_set_fetched_at = None
    database.dispose()


def _screenshots(url: str, page: str, path: str) -> None:
    from bench.dashboard import take_screenshot

    with Session(Database(url).engine) as db:
        province = db.scalar(select(Province.id).order_by(Province.code).limit(1))
    take_screenshot(page, path, width=800)
    take_screenshot(f"{page}&province={province}", path.replace(".png", "-province.png"), width=800)


def run(scale: float, count: int, keep: str | None = None, screenshot: str | None = None) -> dict[str, list[float]]:
    """Seed (or, with `keep`, reuse the database of that name seeded by an earlier run) and time the views; with
    `screenshot`, a PNG of the national view in Thai at 800 px (and of one province's, beside it)."""
    place = kept_database(keep) if keep else throwaway_database("plc_bench_national")
    with place as url, tempfile.TemporaryDirectory() as instance:
        env = {**os.environ, "PLC_DATABASE_URL": url, "PLC_SECRET_KEY": "bench-" + "k" * 40,
               "PLC_INSTANCE_PATH": instance, "PLC_RATE_LIMIT_LTI": "100000 per minute", "PLC_WORKER_THREAD": "false",
               "PLC_RATE_LIMIT_VERIFY": "100000 per minute", "PLC_PUBLIC_BASE_URL": f"http://127.0.0.1:{PORT}",
               "PLC_LOG_LEVEL": "WARNING"}  # fmt: skip
        subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True)
        platform = MoodleLikePlatform(client_id="bench-client", deployment_id="bench-dep")
        platform.start()
        for user in (OBEC, DISTRICT_LEADER, SCHOOL_LEADER):
            platform.add_user(user)
        base = f"http://127.0.0.1:{PORT}"
        platform.configure_tool(login_url=f"{base}/lti/login", launch_url=f"{base}/lti/launch",
                                jwks_url=f"{base}/lti/jwks")  # fmt: skip
        ids = _seeded(url) if keep else None
        started = time.perf_counter()
        if ids is None:
            register_platform(env, platform)
            ids = seed(url, platform.issuer, scale)
            if keep:
                _keep(url, {**ids, "scale": scale})
        else:
            _move_platform(url, ids["platform"], platform)
            print(f"reusing database {keep}, seeded earlier at scale {ids['scale']:g} (--scale is ignored)")
            scale = ids["scale"]
        seeded = time.perf_counter() - started
        with Database(url).engine.connect() as connection:
            # A production database is analysed by autovacuum; right after a bulk load the planner has no statistics
            # yet and picks plans 20× slower for the live figures' reads (measured: 375 ms against 17 ms).
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
            size = connection.scalar(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
        print(f"national × {scale:g}: {ids['districts']} districts, {ids['schools']:,} schools, "
              f"{ids['teachers']:,} teachers, {ids['results']:,} school results; seeded in {seeded:.0f} s; "
              f"database {size}")  # fmt: skip
        web = start_gunicorn(env, PORT)
        timings: dict[str, list[float]] = {}
        try:
            tokens = {}
            for user in (OBEC, DISTRICT_LEADER, SCHOOL_LEADER):
                browser = requests.Session()
                auth = browser.get(platform.initiation_url(sub=user.sub, context_id="district-office"), timeout=60)
                tokens[user.sub] = (browser, submit_auto_form(browser, auth).url.split("s=", 1)[1])
            views = {
                "national (OBEC leader)": (OBEC, "/dashboard"),
                "one district": (DISTRICT_LEADER, "/dashboard"),
                "one school": (SCHOOL_LEADER, "/dashboard"),
                "school versus nation": (DISTRICT_LEADER, f"/dashboard/schools/{ids['school']}"),
                "public national summary": (None, f"/public/nation/{ids['platform']}"),
            }
            for name, (user, path) in views.items():
                browser, token = tokens[user.sub] if user else (requests.Session(), "")
                params = {"s": token} if token else {}
                for _ in range(2):
                    browser.get(base + path, params=params, timeout=120)
                samples = []
                for _ in range(count):
                    t0 = time.perf_counter()
                    response = browser.get(base + path, params=params, timeout=120)
                    samples.append((time.perf_counter() - t0) * 1000)
                    if response.status_code != 200:
                        raise SystemExit(f"{name}: HTTP {response.status_code}")
                timings[name] = samples
            if screenshot:
                _screenshots(url, f"{base}/dashboard?s={tokens[OBEC.sub][1]}&lang=th", screenshot)
        finally:
            web.terminate()
            web.wait()
            platform.stop()
        print(f"  {'view':28} {'p50':>9} {'p95':>9}   target p95 < {TARGET_P95_MS:.0f} ms")
        for name, samples in timings.items():
            p95 = percentile(samples, 95)
            print(f"  {name:28} {statistics.median(samples):7.1f}ms {p95:7.1f}ms   "
                  f"{'ok' if p95 < TARGET_P95_MS else 'over'}")  # fmt: skip
        added = live_update(url, max(200, count))
        p95 = percentile(added, 95)
        print(f"  live update per recorded session ({len(added)}, after {WARMUP} untimed): "
              f"median {statistics.median(added):.1f} ms, p95 {p95:.1f} ms   "
              f"target p95 < {TARGET_LIVE_P95_MS:.0f} ms: {'ok' if p95 < TARGET_LIVE_P95_MS else 'over'}")  # fmt: skip
        return timings
