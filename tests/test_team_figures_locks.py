"""How the live figures' locks meet the application's other writers on PostgreSQL (READ COMMITTED): a row inserted
under a team or a program takes a key-share lock on it (its foreign key), so the figures' own locks on teams and
programs must not conflict with it, and a team's update must never take its program's lock after its team's, the
order a whole recomputation takes them in."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.cycles import Cycle
from models.dashboard_stats import refresh_all
from models.database import Database
from models.migrate import upgrade
from tests.support.pg import throwaway_database
from tests.test_team_figures import figures, placed_teams, seeded

pytestmark = pytest.mark.postgres


@pytest.fixture
def database(postgres_url: str) -> Iterator[Database]:
    with throwaway_database("plc_team_locks") as url:
        database = Database(url)
        upgrade(database.engine)
        seeded(database)
        yield database
        database.dispose()


def at_once(*writers: Callable[[], None], timeout: float = 60) -> list[BaseException]:
    """Run the writers in threads at once; the failures they raised."""
    failures: list[BaseException] = []

    def run(writer: Callable[[], None]) -> None:
        try:
            writer()
        except BaseException as failure:  # noqa: BLE001 (returned to the test)
            failures.append(failure)

    threads = [threading.Thread(target=run, args=(writer,)) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return failures


def test_two_teachers_opening_two_new_cycles_of_one_team_at_once_both_commit(database: Database) -> None:
    """Opening a cycle inserts it under its team (a key-share lock on the team's row), then recomputes its program
    whole, which locks the program's teams: two such writers to one team must not wait on each other in a circle."""
    with Session(database.engine) as db:
        team = placed_teams(db)[0]
        team_id, highest = team.id, db.scalar(select(func.max(Cycle.number)).where(Cycle.team_id == team.id)) or 0
    both_inserted = threading.Barrier(2, timeout=30)

    def open_cycle(number: int) -> Callable[[], None]:
        def writer() -> None:
            with database.transaction() as db:
                db.add(Cycle(team_id=team_id, number=number))
                db.flush()
                both_inserted.wait()  # both hold the key-share lock on the team before either commits

        return writer

    assert at_once(open_cycle(highest + 1), open_cycle(highest + 2)) == []
    live = figures(database)
    with database.transaction() as db:
        refresh_all(db)
    assert figures(database) == live
