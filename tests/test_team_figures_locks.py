"""How the live figures' locks meet the application's other writers on PostgreSQL (READ COMMITTED): a row inserted
under a team or a program takes a key-share lock on it (its foreign key), so the figures' own locks on teams and
programs must not conflict with it, and a team's update must never take its program's lock after its team's, the
order a whole recomputation takes them in."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from models.assessments import Assessment, Phase, RaterKind
from models.cycles import Cycle, ElementSession, SessionAttendance
from models.dashboard_stats import CompetencyStats, ProgramStats, ResultStats, refresh_all
from models.database import Database
from models.district import ProgramPlacement
from models.migrate import upgrade
from models.programs import Program
from models.team_figures import TeamStats
from models.teams import Team, TeamMember
from tests.support.pg import throwaway_database
from tests.support.threads import at_once
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


def _unplace(database: Database, program_id: int) -> None:
    """The program as if it had never been placed in a district (a school or network nobody recognised)."""
    with database.transaction() as db:
        program = db.get(Program, program_id)
        assert program is not None
        program.school_or_network = ""
        db.execute(delete(ProgramPlacement).where(ProgramPlacement.program_id == program_id))
        for table in (TeamStats, ResultStats, CompetencyStats, ProgramStats):
            db.execute(delete(table).where(table.program_id == program_id))


def _session_while_its_program_is_edited(database: Database, team_id: int) -> list[BaseException]:
    """A session recorded in the team (A) while its program is edited (B), interleaved so that A holds the team
    before B takes the program: the failures of both."""
    with Session(database.engine) as db:
        team = db.get(Team, team_id)
        assert team is not None
        program_id, member = team.program_id, team.members[0].membership_id
        cycle_id = db.scalars(select(Cycle.id).where(Cycle.team_id == team_id)).first()
    a_holds_team, b_holds_program = threading.Event(), threading.Event()
    roles: dict[int, str] = {}

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        role = roles.get(threading.get_ident())
        if role == "a" and "FROM plc_teams" in statement and "FOR " in statement:
            a_holds_team.set()
        if role == "b" and "FROM plc_programs" in statement and "FOR " in statement:
            b_holds_program.set()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if roles.get(threading.get_ident()) == "a" and "FROM plc_programs" in statement and "FOR " in statement:
            b_holds_program.wait(timeout=10)  # the program edit holds the program and waits for this team

    def record_session() -> None:
        roles[threading.get_ident()] = "a"
        with database.transaction() as db:
            session = ElementSession(cycle_id=cycle_id, element=2, held_on=date(2026, 11, 2), hours=Decimal(2),
                                     created_by_id=member)  # fmt: skip
            db.add(session)
            db.flush()
            db.add(SessionAttendance(session_id=session.id, membership_id=member))

    def edit_program() -> None:
        roles[threading.get_ident()] = "b"
        with database.transaction() as db:
            program = db.get(Program, program_id)
            assert program is not None
            program.name = program.name + " (แก้ไข)"
            db.flush()
            assert a_holds_team.wait(timeout=30)

    event.listen(database.engine, "after_cursor_execute", after)
    event.listen(database.engine, "before_cursor_execute", before)
    try:
        return at_once(record_session, edit_program)
    finally:
        event.remove(database.engine, "after_cursor_execute", after)
        event.remove(database.engine, "before_cursor_execute", before)


def test_a_session_in_a_team_of_a_program_not_placed_takes_no_lock_on_the_program(database: Database) -> None:
    """A program not placed has no figures; a change in one of its teams must not fall back to its program's lock
    after the team's (the reverse of a whole recomputation's order: a deadlock with a concurrent program edit)."""
    with Session(database.engine) as db:
        team = placed_teams(db)[0]
        team_id, program_id = team.id, team.program_id
    _unplace(database, program_id)
    assert _session_while_its_program_is_edited(database, team_id) == []
    with Session(database.engine) as db:
        assert db.get(ProgramStats, program_id) is None


def test_after_the_upgrade_that_added_the_team_rows_a_session_saved_while_its_program_is_edited_both_commit(
    database: Database,
) -> None:
    """The upgrade that added the team rows (none yet) fills them: without them a change in a team falls back to
    recomputing its program whole, locking the program after the team, the reverse of the order a program edit locks
    them in (a deadlock)."""
    with Session(database.engine) as db:
        team_id = placed_teams(db)[0].id
    with database.transaction() as db:
        db.execute(delete(TeamStats))
    upgrade(database.engine)
    with Session(database.engine) as db:
        assert db.scalar(select(func.count()).select_from(TeamStats)) == len(placed_teams(db))
    assert _session_while_its_program_is_edited(database, team_id) == []
    live = figures(database)
    with database.transaction() as db:
        refresh_all(db)
    assert figures(database) == live


def _add_member_to(db: Session, team_ids: list[int]) -> None:
    """A change inside each of these teams, in one transaction: a teacher of another team joins it."""
    for team_id in team_ids:
        members = select(TeamMember.membership_id).where(TeamMember.team_id == team_id)
        other = db.scalars(
            select(TeamMember.membership_id).where(
                TeamMember.team_id != team_id, TeamMember.membership_id.not_in(members)
            )
        ).first()
        assert other is not None
        db.add(TeamMember(team_id=team_id, membership_id=other))


def test_two_writers_to_teams_of_the_same_two_programs_move_the_programs_rows_in_one_order(database: Database) -> None:
    """A transaction that changes teams of two programs (a roster read: teachers in a team of each year's program)
    moves the programs' rows, each under its row lock until commit: in team order, two such writers whose teams'
    ids interleave across the programs waited on each other in a circle."""
    with Session(database.engine) as db:
        by_program: dict[int, list[int]] = {}
        for team in placed_teams(db):
            by_program.setdefault(team.program_id, []).append(team.id)
    pa, pb = sorted(by_program)[:2]
    a1, b1 = by_program[pa][0], by_program[pb][0]
    with database.transaction() as db:  # two teams added later, the one of the second program first: ids interleave
        b2 = Team(program_id=pb, name="กลุ่มที่เพิ่มภายหลัง ข")
        db.add(b2)
        db.flush()
        a2 = Team(program_id=pa, name="กลุ่มที่เพิ่มภายหลัง ก")
        db.add(a2)
        db.flush()
        b2_id, a2_id = b2.id, a2.id
    assert a1 < b1 < b2_id < a2_id  # one writer's teams in team order are of pa then pb, the other's of pb then pa
    first_moved = {name: threading.Event() for name in ("one", "two")}
    roles: dict[int, str] = {}

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        role = roles.get(threading.get_ident())
        if role and "UPDATE dashboard_program_stats" in statement and not first_moved[role].is_set():
            first_moved[role].set()
            other = first_moved["two" if role == "one" else "one"]
            other.wait(timeout=3)  # both have moved one program's row (or the other waits for this one's lock)

    event.listen(database.engine, "after_cursor_execute", after)

    def writer(role: str, team_ids: list[int]) -> Callable[[], None]:
        def write() -> None:
            roles[threading.get_ident()] = role
            with database.transaction() as db:
                _add_member_to(db, team_ids)

        return write

    try:
        assert at_once(writer("one", [a1, b1]), writer("two", [b2_id, a2_id])) == []
    finally:
        event.remove(database.engine, "after_cursor_execute", after)
    live = figures(database)
    with database.transaction() as db:
        refresh_all(db)
    assert figures(database) == live


def test_two_teachers_assessing_themselves_in_one_program_at_once_both_commit(database: Database) -> None:
    """A self-assessment is inserted under its program (a key-share lock on the program's row until commit), then
    recomputes the program whole under the program's lock: a workshop where teachers assess themselves together must
    not make those writers wait on each other in a circle."""
    with Session(database.engine) as db:
        team = placed_teams(db)[0]
        program_id, members = team.program_id, [m.membership_id for m in team.members[:2]]
    with database.transaction() as db:  # they have not assessed themselves yet
        db.execute(delete(Assessment).where(Assessment.program_id == program_id, Assessment.membership_id.in_(members)))
    both_inserted = threading.Barrier(2, timeout=30)

    def assess(member: int) -> Callable[[], None]:
        def writer() -> None:
            with database.transaction() as db:
                db.add(Assessment(program_id=program_id, membership_id=member, rater_id=member,
                                  rater_kind=RaterKind.SELF, phase=Phase.START, competency="C3", level=3,
                                  scale_id="review"))  # fmt: skip
                db.flush()
                both_inserted.wait()

        return writer

    assert at_once(*(assess(member) for member in members)) == []
    live = figures(database)
    with database.transaction() as db:
        refresh_all(db)
    assert figures(database) == live
