"""A change inside a team moves its program's figures by the team's difference (models/team_figures.py): after many
kinds of change, each committed on its own, the summary rows equal what a full recomputation writes, on both
databases; writers to two teams of one program both count; a full recomputation and a team's update wait for
each other (PostgreSQL)."""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from models.cycles import Cycle, ElementSession, SessionAttendance
from models.dashboard_stats import ProgramStats, refresh_all
from models.database import Database
from models.district import ProgramPlacement
from models.forms import GOAL_FIELD, RESULTS_FORM, FormEntry
from models.migrate import upgrade
from models.observations import Observation
from models.people import INACTIVE, Membership
from models.reflections import Grade, Reflection
from models.team_figures import FIGURES, TeamStats
from models.teams import CycleAssignment, Team, TeamMember
from tests.factories import seed_tiny_district
from tests.support.pg import throwaway_database
from tests.support.threads import at_once


@pytest.fixture
def database(migrated_database: Database) -> Database:
    return migrated_database


def seeded(database: Database) -> None:
    with database.transaction() as db:
        seed_tiny_district(db, "teams")
        refresh_all(db)


def figures(database: Database) -> dict[str, Any]:
    with Session(database.engine) as db:
        programs = {
            row.program_id: {name: Decimal(getattr(row, name)) for name in ("teams", *FIGURES)}
            for row in db.scalars(select(ProgramStats))
        }
        teams = {
            row.team_id: {name: Decimal(getattr(row, name)) for name in FIGURES}
            for row in db.scalars(select(TeamStats))
        }
    return {"programs": programs, "teams": teams}


def placed_teams(db: Session) -> list[Team]:
    return list(
        db.scalars(
            select(Team).join(ProgramPlacement, ProgramPlacement.program_id == Team.program_id).order_by(Team.id)
        )
    )


def change(db: Session, rng: random.Random, kind: str) -> None:
    """One change of `kind` inside a random placed team."""
    team = rng.choice(placed_teams(db))
    cycles = list(db.scalars(select(Cycle).where(Cycle.team_id == team.id).order_by(Cycle.number)))
    members = [m.membership_id for m in team.members]
    cycle = rng.choice(cycles)
    sessions = list(db.scalars(select(ElementSession).where(ElementSession.cycle_id.in_([c.id for c in cycles]))))
    reflections = list(db.scalars(select(Reflection).where(Reflection.cycle_id.in_([c.id for c in cycles]))))
    if kind == "session":
        session = ElementSession(cycle_id=cycle.id, element=rng.randint(1, 5), held_on=date(2026, 11, 2),
                                 hours=Decimal("1.5"), created_by_id=members[0])  # fmt: skip
        db.add(session)
        db.flush()
        db.add_all(SessionAttendance(session_id=session.id, membership_id=m) for m in members[: rng.randint(1, 6)])
    elif kind == "withdraw session" and sessions:
        rng.choice(sessions).withdrawn_at = datetime(2026, 11, 3, tzinfo=UTC)
    elif kind == "attendance" and sessions:
        session = rng.choice(sessions)
        present = set(
            db.scalars(select(SessionAttendance.membership_id).where(SessionAttendance.session_id == session.id))
        )
        if present:
            db.delete(db.get(SessionAttendance, (session.id, min(present))))
        absent = [m for m in members if m not in present]
        if absent:
            db.add(SessionAttendance(session_id=session.id, membership_id=absent[0]))
    elif kind == "reflection" and reflections:
        db.delete(rng.choice(reflections))
    elif kind == "grade" and reflections:
        reflection = rng.choice(reflections)
        db.add(Grade(reflection_id=reflection.id, grader_id=members[0], rubric_id="plc-reflection", total=3,
                     max_score=4, scores={}, comment=""))  # fmt: skip
    elif kind == "observation":
        observation = db.scalars(select(Observation).where(Observation.cycle_id == cycle.id)).first()
        if observation is not None:
            observation.withdrawn_at = datetime(2026, 11, 4, tzinfo=UTC)
    elif kind == "goal":
        entry = db.scalars(
            select(FormEntry).where(FormEntry.cycle_id == cycle.id, FormEntry.form == RESULTS_FORM)
        ).first()
        if entry is None:
            db.add(
                FormEntry(cycle_id=cycle.id, form=RESULTS_FORM, answers={GOAL_FIELD: "met"}, updated_by_id=members[0])
            )
        else:
            entry.answers = {**entry.answers, GOAL_FIELD: rng.choice(["met", "not_met", "ยังไม่แน่ใจ"])}
    elif kind == "left":
        membership = db.get(Membership, rng.choice(members))
        assert membership is not None
        membership.status = INACTIVE
        membership.inactive_since = datetime(2025, 12, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 400))
    elif kind == "member":
        other = db.scalars(select(TeamMember.membership_id).where(TeamMember.membership_id.not_in(members))).first()
        if other is not None:
            db.add(TeamMember(team_id=team.id, membership_id=other))
    elif kind == "role":
        assignment = db.scalars(select(CycleAssignment).where(CycleAssignment.team_id == team.id)).first()
        if assignment is not None:
            db.delete(assignment)


KINDS = ("session", "withdraw session", "attendance", "reflection", "grade", "observation", "goal", "left", "member",
         "role")  # fmt: skip


def test_changes_inside_teams_leave_the_figures_a_full_recomputation_writes(database: Database) -> None:
    seeded(database)
    rng = random.Random(12)
    for kind in KINDS * 3:
        with database.transaction() as db:
            change(db, rng, kind)
    live = figures(database)
    assert live["teams"], "the synthetic district placed no team"
    with database.transaction() as db:
        refresh_all(db)
    assert figures(database) == live


def test_a_change_inside_a_team_takes_a_few_statements_not_a_recomputation(database: Database) -> None:
    seeded(database)
    statements: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with database.transaction() as db:
        team = placed_teams(db)[0]
        cycle = db.scalars(select(Cycle).where(Cycle.team_id == team.id)).first()
        assert cycle is not None
        session = ElementSession(cycle_id=cycle.id, element=2, held_on=date(2026, 11, 2), hours=Decimal(2),
                                 created_by_id=team.members[0].membership_id)  # fmt: skip
        db.add(session)
        db.flush()
        db.add(SessionAttendance(session_id=session.id, membership_id=team.members[0].membership_id))
        db.flush()
        statements.clear()
    # lock the team, read its facts, move the program's row and replace the team's row (one statement on PostgreSQL;
    # elsewhere the team's old row is read first, for the difference), then add the difference to the district's row
    figures_statements = [s for s in statements if "dashboard" in s or "plc_teams" in s]
    assert len(figures_statements) == (4 if database.engine.dialect.name == "postgresql" else 6), figures_statements


def test_a_program_whose_teams_have_no_rows_yet_is_recomputed_whole(database: Database) -> None:
    """After the upgrade that added the team rows, a program's first change recomputes it whole."""
    seeded(database)
    with database.transaction() as db:
        db.execute(delete(TeamStats))
    rng = random.Random(3)
    with database.transaction() as db:
        change(db, rng, "session")
    with Session(database.engine) as db:
        assert db.scalar(select(func.count()).select_from(TeamStats)) > 0
    live = figures(database)
    with database.transaction() as db:
        refresh_all(db)
    programs = figures(database)["programs"]
    assert {p: live["programs"][p] for p in live["programs"]} == programs


@pytest.mark.postgres
def test_writers_to_two_teams_of_one_program_and_a_full_recomputation_all_count(postgres_url: str) -> None:
    with throwaway_database("plc_team_writers") as url:
        database = Database(url)
        upgrade(database.engine)
        seeded(database)
        with Session(database.engine) as db:
            program_id, two = next(
                (program_id, teams)
                for program_id, teams in db.execute(
                    select(Team.program_id, func.array_agg(Team.id))
                    .join(ProgramPlacement, ProgramPlacement.program_id == Team.program_id)
                    .group_by(Team.program_id)
                    .having(func.count() >= 2)
                )
            )
        started = threading.Barrier(3, timeout=30)

        def writer(team_id: int) -> None:
            with database.transaction() as db:
                team = db.get(Team, team_id)
                assert team is not None
                cycle = db.scalars(select(Cycle).where(Cycle.team_id == team_id)).first()
                assert cycle is not None
                started.wait()
                session = ElementSession(cycle_id=cycle.id, element=4, held_on=date(2026, 11, 2),
                                         hours=Decimal(3), created_by_id=team.members[0].membership_id)  # fmt: skip
                db.add(session)
                db.flush()
                db.add_all(
                    SessionAttendance(session_id=session.id, membership_id=m.membership_id) for m in team.members
                )

        def rebuild() -> None:
            started.wait()
            with database.transaction() as db:
                refresh_all(db)

        failures = at_once(*(partial(writer, team_id) for team_id in two[:2]), rebuild)
        assert failures == []
        live = figures(database)
        with database.transaction() as db:
            refresh_all(db)
        assert figures(database) == live
        assert program_id in live["programs"]
        database.dispose()


def test_a_tracking_form_other_than_the_results_report_moves_no_figure(database: Database) -> None:
    seeded(database)
    with Session(database.engine) as db:
        team = placed_teams(db)[0]
        cycle_id = db.scalars(select(Cycle.id).where(Cycle.team_id == team.id)).first()
        member = team.members[0].membership_id
    statements: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    for form, touched in (("operation-tracking", False), (RESULTS_FORM, True)):
        statements.clear()
        with database.transaction() as db:
            entry = db.scalars(select(FormEntry).where(FormEntry.cycle_id == cycle_id, FormEntry.form == form)).first()
            if entry is None:
                db.add(FormEntry(cycle_id=cycle_id, form=form, answers={GOAL_FIELD: "met"}, updated_by_id=member))
            else:
                entry.answers = {**entry.answers, "note": "แก้ไข"}
        assert any("dashboard_team_stats" in s for s in statements) is touched, form


def test_a_team_moved_to_another_program_leaves_both_programs_figures_a_full_recomputation_writes(
    database: Database,
) -> None:
    seeded(database)
    with Session(database.engine) as db:
        by_program: dict[int, list[int]] = {}
        for team in placed_teams(db):
            by_program.setdefault(team.program_id, []).append(team.id)
    old, new = sorted(by_program)[:2]
    with database.transaction() as db:
        team = db.get(Team, by_program[old][0])
        assert team is not None
        team.program_id, team.name = new, f"{team.name} (ย้ายมา)"
    live = figures(database)
    with database.transaction() as db:
        refresh_all(db)
    assert figures(database) == live
