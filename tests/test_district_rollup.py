"""The figures per district (models/dashboard_rollup.py) stay the sums of the program rows: after every kind of
change, each committed on its own, and after a full recomputation, on both databases; a leader of whole districts
reads from them the very figures the program rows give; writers whose programs share district rows in opposite
orders, and a full recomputation, neither deadlock nor lose a change (PostgreSQL)."""

from __future__ import annotations

import random
import threading
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from models.assessments import Assessment, RaterKind
from models.cycles import Cycle, ElementSession, SessionAttendance
from models.dashboard import Filters, by_district, figures_by, figures_grouped, filter_options
from models.dashboard_learning import assessed_growth, competency_coverage, student_results_by
from models.dashboard_rollup import TABLES, DistrictCompetencyStats, DistrictResultStats, DistrictStats
from models.dashboard_stats import CompetencyStats, ProgramStats, ResultStats, refresh_all, refresh_programs
from models.database import Database
from models.district import District, Network, ProgramPlacement, Reach
from models.live_figures import recompute_now
from models.migrate import upgrade
from models.programs import Program
from models.public_summary import public_figures, public_results
from models.states import ProgramState
from models.synthetic import Size, seed_district
from models.team_figures import FIGURES
from models.teams import Team
from tests.factories import platform_of
from tests.support.pg import throwaway_database
from tests.support.threads import at_once
from tests.test_team_figures import KINDS, change

SIZES = (
    Size("rollup-a", networks=2, schools=4, teachers=60, teams=8, years=(2025, 2026)),
    Size("rollup-b", networks=1, schools=3, teachers=48, teams=6, years=(2025, 2026)),
)


@pytest.fixture
def database(migrated_database: Database) -> Database:
    return migrated_database


def seeded(database: Database) -> None:
    with database.transaction() as db:
        platform = platform_of(db, "rollup")
        for n, size in enumerate(SIZES):
            seed_district(db, platform, size, today=date(2026, 11, 20), rng_seed=n)


def _plain(value: Any) -> Any:
    return Decimal(value) if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) else value


def district_rows(database: Database) -> dict[str, dict[tuple[Any, ...], list[Any]]]:
    """The district rows as kept, without those whose programs all left them (all zeros, never read)."""
    found = {}
    with Session(database.engine) as db:
        for table, key, summed in TABLES:  # the sums in the order added_up reads them
            columns = [getattr(table, name) for name in (*key, *summed)]
            found[table.__tablename__] = {
                tuple(row[: len(key)]): [_plain(v) for v in row[len(key) :]]
                for row in db.execute(select(*columns))
                if any(row[len(key) :])  # all zeros: every program left the row, which is never read
            }
    return found


def added_up(database: Database) -> dict[str, dict[tuple[Any, ...], list[Any]]]:
    """What the district rows must hold: the program rows added up here, by the test's own grouping."""
    running = func.sum(case((ProgramStats.state == ProgramState.RUNNING.value, 1), else_=0))
    queries = {
        DistrictStats.__tablename__: (
            [ProgramStats.district_id, ProgramStats.year, ProgramStats.learning_area, ProgramStats.grade_level],
            [func.count(), running, func.sum(ProgramStats.teams), *(func.sum(getattr(ProgramStats, f)) for f in FIGURES)],
        ),
        DistrictResultStats.__tablename__: (
            [ResultStats.district_id, ResultStats.year, ResultStats.learning_area, ResultStats.grade_level,
             ResultStats.measure],
            [func.sum(ResultStats.cycles), func.sum(ResultStats.baseline_sum), func.sum(ResultStats.result_sum),
             func.sum(ResultStats.improved)],
        ),
        DistrictCompetencyStats.__tablename__: (
            [CompetencyStats.district_id, CompetencyStats.year, CompetencyStats.competency, CompetencyStats.phase],
            [func.sum(CompetencyStats.teachers), func.sum(CompetencyStats.level_sum)],
        ),
    }  # fmt: skip
    found = {}
    with Session(database.engine) as db:
        for name, (keys, sums) in queries.items():
            found[name] = {
                tuple(row[: len(keys)]): [_plain(v) for v in row[len(keys) :]]
                for row in db.execute(select(*keys, *sums).group_by(*keys))
            }
    return found


def program_change(db: Session, rng: random.Random, kind: str) -> None:
    """A change that recomputes a placed program whole: its learning area or state, a cycle's result, a teacher's
    own assessment, a team moved to a program of another district row."""
    placed = list(db.scalars(select(ProgramPlacement.program_id).order_by(ProgramPlacement.program_id)))
    program = db.get(Program, rng.choice(placed))
    assert program is not None
    if kind == "area":
        program.learning_area = rng.choice(["คณิตศาสตร์", "วิทยาศาสตร์และเทคโนโลยี", "ภาษาไทย"])
    elif kind == "state":
        program.state = ProgramState.ENDED if program.state == ProgramState.RUNNING else ProgramState.RUNNING
    elif kind == "result":
        cycle = db.scalars(select(Cycle).join(Team).where(Team.program_id == program.id)).first()
        if cycle is not None:
            cycle.baseline_value, cycle.result_value = Decimal("41.5"), Decimal(rng.randint(30, 80))
    elif kind == "assessment":
        rating = db.scalars(
            select(Assessment).where(Assessment.program_id == program.id, Assessment.rater_kind == RaterKind.SELF)
        ).first()
        if rating is not None:
            rating.level = rating.level % 5 + 1
    elif kind == "team moved":
        team = db.scalars(select(Team).where(Team.program_id == program.id)).first()
        other = rng.choice([p for p in placed if p != program.id])
        if team is not None:
            team.program_id, team.name = other, f"{team.name} (ย้ายมา {rng.randint(1, 10**6)})"


PROGRAM_KINDS = ("area", "state", "result", "assessment", "team moved")


def test_the_district_rows_stay_the_sums_of_the_program_rows(database: Database) -> None:
    seeded(database)
    assert district_rows(database) == added_up(database)
    rng = random.Random(17)
    for kind in (*KINDS, *PROGRAM_KINDS) * 2:
        with database.transaction() as db:
            if kind in PROGRAM_KINDS:
                program_change(db, rng, kind)
            else:
                change(db, rng, kind)
        assert district_rows(database) == added_up(database), kind
    live = district_rows(database)
    with database.transaction() as db:
        refresh_all(db)
    assert district_rows(database) == live == added_up(database)


def test_a_rolled_back_change_leaves_the_district_rows_alone(database: Database) -> None:
    seeded(database)
    before = district_rows(database)
    with Session(database.engine) as db:
        change(db, random.Random(2), "session")
        db.flush()
        recompute_now(db)  # the district rows moved, in the transaction
        assert district_rows(database) == before  # (another connection: not committed)
        db.rollback()
        # Recomputed, noted for the commit, and rolled back: the next transaction of the session adds none of it.
        program_change(db, random.Random(4), "state")
        db.flush()
        refresh_programs(db, list(db.scalars(select(ProgramPlacement.program_id))))
        db.rollback()
        program_change(db, random.Random(3), "area")
        db.commit()
    assert district_rows(database) == added_up(database)


def reaches(db: Session) -> tuple[Reach, Reach]:
    """Every district led whole, and the same schools seen through the district rows' back: the districts plus a
    network inside one of them (what the leader sees is the same, read from the program rows)."""
    districts = frozenset(db.scalars(select(District.id)))
    network = db.scalars(select(Network.id).order_by(Network.id)).first()
    assert network is not None
    whole = Reach(led_district_ids=districts, district_ids=districts)
    return whole, Reach(led_district_ids=districts, led_network_ids=frozenset({network}), district_ids=districts)


def test_the_groupings_read_at_once_are_the_groupings_read_one_by_one(database: Database) -> None:
    """On PostgreSQL figures_grouped reads several groupings in one statement, those by learning area, grade and year
    summed from one grouping by all three (models/dashboard._grouping_sets); each equals its own query."""
    seeded(database)
    with Session(database.engine) as db:
        whole, through_rows = reaches(db)
        year = db.scalar(select(func.max(ProgramStats.year)))
        for dimensions in (
            ["total", "learning_area", "grade_level", "year", "district"],  # the national view
            ["total", "learning_area", "grade_level", "year", "school", "network"],  # a district's
            ["total", "year", "district+learning_area", "grade_level"],  # a key joined with a unit, outside the base
            ["learning_area+grade_level+year", "year", "total"],  # the base itself wanted
            ["district+year", "learning_area"],  # one grouping by keys alone: no base
        ):
            for reach in (whole, through_rows):
                for filters in (Filters(), Filters(year=year)):
                    one_by_one = {d: figures_by(db, reach, filters, d) for d in dimensions}
                    assert figures_grouped(db, reach, filters, dimensions) == one_by_one, (dimensions, filters)
                    assert one_by_one["total" if "total" in dimensions else dimensions[-1]]
                    # Student results: each grouping summed from the finest equals the grouping read on its own.
                    groupings = [("learning_area", "grade_level"), ("learning_area",), ("grade_level",), ()]
                    at_once = student_results_by(db, reach, filters, groupings)
                    assert at_once == {by: student_results_by(db, reach, filters, [by])[by] for by in groupings}
                    assert at_once[("learning_area",)] and at_once[()]


def test_a_leader_of_whole_districts_reads_the_figures_the_program_rows_give(database: Database) -> None:
    seeded(database)
    with database.transaction() as db:  # some rows with nothing left in them, which must not show
        for kind in PROGRAM_KINDS:
            program_change(db, random.Random(5), kind)
    dimensions = ["total", "district", "learning_area", "grade_level", "year", "district+learning_area"]
    results = [("learning_area", "grade_level"), ("learning_area",), ("grade_level",)]
    with Session(database.engine) as db:
        whole, through_rows = reaches(db)
        year = db.scalar(select(func.max(ProgramStats.year)))
        area = db.scalar(select(ProgramStats.learning_area).order_by(ProgramStats.program_id))
        for filters in (
            Filters(),
            Filters(year=year),
            Filters(learning_area=area),
            Filters(year=year, grade_level="ป.4"),
        ):
            assert by_district(whole, filters) and not by_district(through_rows, filters)
            read = [
                (figures_grouped(db, reach, filters, dimensions), student_results_by(db, reach, filters, results),
                 assessed_growth(db, reach, filters), competency_coverage(db, reach, filters))
                for reach in (whole, through_rows)
            ]  # fmt: skip
            assert read[0] == read[1], filters
            assert read[0][0]["total"][0].programs > 0 or filters != Filters()
        assert filter_options(db, whole) == filter_options(db, through_rows)
        for reach in (whole, through_rows):  # the page's unfiltered figures name the same years, areas and grades
            present = figures_grouped(db, reach, Filters(), ["total", "learning_area", "grade_level", "year"])
            assert filter_options(db, reach, present=present) == filter_options(db, whole)
        assert public_figures(db, whole, ["district", "learning_area", "grade_level", "year"]) == public_figures(
            db, through_rows, ["district", "learning_area", "grade_level", "year"]
        )
        assert public_results(db, whole) == public_results(db, through_rows)


@pytest.mark.postgres
def test_writers_sharing_district_rows_in_opposite_orders_and_a_full_recomputation_all_count(
    postgres_url: str,
) -> None:
    with throwaway_database("plc_rollup_writers") as url:
        database = Database(url)
        upgrade(database.engine)
        seeded(database)
        with database.transaction() as db:  # four programs of one district and year, two in each of two rows
            by_year: dict[tuple[int, int], list[int]] = {}
            for program_id, district_id, year in db.execute(
                select(ProgramStats.program_id, ProgramStats.district_id, ProgramStats.year)
                .where(ProgramStats.teams > 0)
                .order_by(ProgramStats.program_id)
            ):
                by_year.setdefault((district_id, year), []).append(program_id)
            p0, p1, p2, p3 = next(ids for ids in by_year.values() if len(ids) >= 4)[:4]
            for program_id, area in ((p0, "คณิตศาสตร์"), (p1, "ภาษาไทย"), (p2, "ภาษาไทย"), (p3, "คณิตศาสตร์")):
                program = db.get(Program, program_id)
                assert program is not None
                program.learning_area, program.grade_level = area, "ป.4"
            teams = {p: db.scalars(select(Team.id).where(Team.program_id == p).order_by(Team.id)).first()
                     for p in (p0, p1, p2, p3)}  # fmt: skip
        a1, b2, b1, a2 = p0, p1, p2, p3
        # One writer changes a team of a1 and of b2, the other of b1 and of a2: each program's row in program order,
        # and so the two district rows in opposite orders, were they written as the programs' rows are.
        started = threading.Barrier(3, timeout=30)

        def writer(programs: tuple[int, int]) -> None:
            with database.transaction() as db:
                started.wait()
                for program_id in programs:
                    cycle = db.scalars(select(Cycle).where(Cycle.team_id == teams[program_id])).first()
                    team = db.get(Team, teams[program_id])
                    assert cycle is not None and team is not None
                    session = ElementSession(cycle_id=cycle.id, element=3, held_on=date(2026, 11, 2),
                                             hours=Decimal(2), created_by_id=team.members[0].membership_id)  # fmt: skip
                    db.add(session)
                    db.flush()
                    db.add_all(
                        SessionAttendance(session_id=session.id, membership_id=m.membership_id) for m in team.members
                    )
                    db.flush()

        def rebuild() -> None:
            started.wait()
            with database.transaction() as db:
                refresh_all(db)

        failures = at_once(partial(writer, (a1, b2)), partial(writer, (b1, a2)), rebuild)
        assert failures == []
        assert district_rows(database) == added_up(database)
        database.dispose()
