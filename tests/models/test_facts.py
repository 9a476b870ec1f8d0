"""The one reader of a team's facts (models/facts.py) says what the ORM reader it replaced said (the six queries of
models/eligibility.team_facts before 3f01f85, kept below as the reference), team by team and for whole programs, on
both databases: a synthetic district with every kind of change, and the cases at the edges (a team with no cycles
or no members, a teacher who left without a day, withdrawn work, a regraded reflection, a reflection of a
non-member, a cancelled program, a role beyond the planned cycles, two teams sharing a member, unflushed changes)."""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from models.cycles import SESSION_IS_LIVE, Cycle, ElementSession, SessionAttendance
from models.database import Database
from models.eligibility import Eligibility, SessionFact, TeamFacts, eligibility, left_members, program_facts
from models.facts import program_eligibility, team_facts
from models.observations import OBSERVATION_IS_LIVE, Observation
from models.people import INACTIVE, Membership
from models.plan import PlcRole, team_plan
from models.programs import Program
from models.reflections import Grade, Reflection
from models.states import ProgramState
from models.team_figures import TeamNames, recompute_teams
from models.teams import CycleAssignment, Team, TeamMember
from tests.factories import TINY_DISTRICT, make_course, running, seed_tiny_district


def orm_team_facts(db: Session, team: Team) -> TeamFacts:
    """The reader before 3f01f85 (models/eligibility.team_facts at dc94803), verbatim but for its name."""
    cycles = {c.id: c.number for c in db.scalars(select(Cycle).where(Cycle.team_id == team.id))}
    sessions = db.scalars(
        select(ElementSession)
        .where(ElementSession.cycle_id.in_(cycles), SESSION_IS_LIVE)
        .options(selectinload(ElementSession.attendance))
    )
    reflections = db.scalars(select(Reflection).where(Reflection.cycle_id.in_(cycles)))
    observations = db.scalars(select(Observation).where(Observation.cycle_id.in_(cycles), OBSERVATION_IS_LIVE))
    roles: dict[tuple[int, int], PlcRole] = {}
    for number, (model_id, buddy_ids) in team_plan(team).items():
        roles.update({(number, buddy): PlcRole.BUDDY for buddy in buddy_ids})
        if model_id is not None:
            roles[(number, model_id)] = PlcRole.MODEL
    return TeamFacts(
        member_ids=frozenset(team.member_ids),
        sessions=tuple(
            SessionFact(cycles[s.cycle_id], s.element, s.held_on, s.hours, s.attendee_ids) for s in sessions
        ),
        roles=roles,
        reflections={(cycles[r.cycle_id], r.membership_id): r.submitted_at for r in reflections},
        observations=frozenset((cycles[o.cycle_id], o.buddy_id) for o in observations),
        left=left_members(db, team.member_ids),
    )


def orm_program_eligibility(db: Session, program: Program) -> dict[int, Eligibility]:
    facts = program_facts(program)
    result: dict[int, Eligibility] = {}
    for team in program.teams:
        recorded = orm_team_facts(db, team)
        for member_id in team.member_ids:
            result[member_id] = eligibility(member_id, facts, recorded)
    return result


def comparable(facts: TeamFacts) -> dict[str, Any]:
    """The facts with the sessions as a multiset (their order is the reader's) and every moment in UTC."""
    return {
        "members": facts.member_ids,
        "sessions": Counter((s.cycle, s.element, s.held_on, s.hours, s.attendees) for s in facts.sessions),
        "roles": dict(facts.roles),
        "reflections": {key: at.astimezone(UTC) for key, at in facts.reflections.items()},
        "observations": facts.observations,
        "left": dict(facts.left),
    }


def assert_same_facts(db: Session) -> int:
    """Every team's facts and every program's eligibility as both readers give them; how many teams compared."""
    teams = list(db.scalars(select(Team).order_by(Team.id)))
    for team in teams:
        assert comparable(team_facts(db, team)) == comparable(orm_team_facts(db, team)), team.id
    for program in db.scalars(select(Program).order_by(Program.id)):
        assert program_eligibility(db, program) == orm_program_eligibility(db, program), program.id
    return len(teams)


def edge_cases(db: Session, rng: random.Random) -> None:
    """The cases at the edges, on the seeded district's teams."""
    programs = list(db.scalars(select(Program).order_by(Program.id)))
    # The program with the most teams with members: two of them are the teams changed below.
    program = max(programs, key=lambda p: (sum(1 for t in p.teams if t.members), -p.id))
    first, second = [t for t in program.teams if t.members][:2]
    # A team with no members and no cycles, and one with members but no cycles, in a program that has work.
    bare = Team(program=program, name="ทีมยังไม่เริ่ม")  # add_team refuses a frozen plan; rows may still be so
    db.add_all([Team(program=program, name="ทีมว่าง"), bare])
    db.flush()
    spare = db.scalars(select(TeamMember.membership_id).where(TeamMember.team_id != first.id)).first()
    # Two teams of one program sharing a member (add_team_member refuses it; rows from before the rule may have it).
    sibling = second
    assert spare is not None
    db.add(TeamMember(team_id=sibling.id, membership_id=first.members[0].membership_id))
    db.add(TeamMember(team_id=bare.id, membership_id=spare))
    # A teacher who left with no day, one who left on a day.
    quiet, gone = (
        db.get(Membership, first.members[-1].membership_id),
        db.get(Membership, second.members[0].membership_id),
    )
    assert quiet is not None and gone is not None
    quiet.status, quiet.inactive_since = INACTIVE, None
    gone.status, gone.inactive_since = INACTIVE, datetime(2026, 9, 30, 20, 0, tzinfo=UTC)  # 1 Oct in Bangkok
    # A role in a cycle beyond the planned ones.
    db.add(CycleAssignment(team_id=first.id, cycle_number=program.planned_cycles + 2,
                           membership_id=first.members[0].membership_id, role=PlcRole.MODEL))  # fmt: skip
    cycles = list(db.scalars(select(Cycle).where(Cycle.team_id.in_([first.id, second.id])).order_by(Cycle.id)))
    cycle = cycles[0]
    # A reflection of a non-member, a regraded reflection, a withdrawn session and observation, a session of nobody.
    outsider = db.scalars(
        select(Membership.id).where(Membership.id.not_in(select(TeamMember.membership_id))).order_by(Membership.id)
    ).first()
    assert outsider is not None
    if not db.scalar(
        select(Reflection.id).where(Reflection.cycle_id == cycle.id, Reflection.membership_id == outsider)
    ):
        db.add(Reflection(cycle_id=cycle.id, membership_id=outsider, text="ไม่ใช่สมาชิก",
                          submitted_at=datetime(2026, 12, 31, 18, 30, tzinfo=UTC)))  # fmt: skip
    for reflection in db.scalars(select(Reflection).where(Reflection.cycle_id.in_([c.id for c in cycles])).limit(2)):
        for total in (2, 4):
            db.add(Grade(reflection_id=reflection.id, grader_id=first.members[0].membership_id,
                         rubric_id="plc-reflection", total=total, max_score=4, scores={}, comment=""))  # fmt: skip
    for session in db.scalars(select(ElementSession).where(ElementSession.cycle_id == cycle.id).limit(1)):
        session.withdrawn_at = datetime(2026, 11, 3, tzinfo=UTC)
    for observation in db.scalars(select(Observation).where(Observation.cycle_id.in_([c.id for c in cycles])).limit(1)):
        observation.withdrawn_at = datetime(2026, 11, 4, tzinfo=UTC)
    db.add(ElementSession(cycle_id=cycles[-1].id, element=3, held_on=date(2026, 11, 5), hours=Decimal("0.25"),
                          created_by_id=first.members[0].membership_id))  # fmt: skip
    # A cancelled program (not the one above).
    others = [p for p in programs if p.id != program.id and p.teams]
    others[0].state = ProgramState.CANCELLED
    # Random attendance moves: a member out of a session, an outsider into one.
    sessions = list(db.scalars(select(ElementSession).join(Cycle).where(Cycle.team_id == second.id)))
    for session in rng.sample(sessions, min(3, len(sessions))):
        present = list(db.scalars(select(SessionAttendance).where(SessionAttendance.session_id == session.id)))
        if present:
            db.delete(present[0])
        if outsider not in {a.membership_id for a in present}:
            db.add(SessionAttendance(session_id=session.id, membership_id=outsider))
    db.flush()
    db.expire_all()  # rows added by their foreign keys: the relationships loaded before must not hide them


def test_the_one_statement_reads_what_the_orm_reader_read(migrated_database: Database) -> None:
    with migrated_database.transaction() as db:
        seed_tiny_district(db, "facts")
    with migrated_database.transaction() as db:
        assert assert_same_facts(db) >= TINY_DISTRICT.teams
        edge_cases(db, random.Random(4))
        assert assert_same_facts(db) >= TINY_DISTRICT.teams + 2


def test_what_the_session_has_not_flushed_is_read(migrated_database: Database) -> None:
    """team_facts flushes first, as the ORM reader's queries did by autoflush."""
    with migrated_database.transaction() as db:
        seed_tiny_district(db, "unflushed")
    with migrated_database.transaction() as db:
        team = next(t for t in db.scalars(select(Team).order_by(Team.id)) if t.members)
        cycle = db.scalars(select(Cycle).where(Cycle.team_id == team.id)).first()
        assert cycle is not None
        member = team.members[0].membership_id
        session = ElementSession(cycle_id=cycle.id, element=1, held_on=date(2026, 11, 6), hours=Decimal("1.75"),
                                 created_by_id=member)  # fmt: skip
        session.attendance.append(SessionAttendance(membership_id=member))
        db.add(session)
        facts = team_facts(db, team)
        assert (cycle.number, 1, date(2026, 11, 6), Decimal("1.75"), frozenset({member})) in {
            (s.cycle, s.element, s.held_on, s.hours, s.attendees) for s in facts.sessions
        }
        assert comparable(facts) == comparable(orm_team_facts(db, team))
        # A member removed and a team added (with that member), neither flushed: the program's eligibility sees both.
        program = team.program
        gone = team.members[-1].membership_id
        team.members = team.members[:-1]
        program.teams.append(Team(name="ทีมใหม่", members=[TeamMember(membership_id=gone)]))
        everyone = program_eligibility(db, program)
        assert gone in everyone and everyone[gone].member_id == gone
        assert set(everyone) == {m for t in program.teams for m in t.member_ids}
        assert everyone == orm_program_eligibility(db, program)


# The variables an SQLite statement may bind in SQLite's own build (SQLITE_MAX_VARIABLE_NUMBER since 3.32; Debian's
# build allows 250000, Python's Windows and macOS installers keep this default).
SQLITE_DEFAULT_VARIABLES = 32766


def test_thousands_of_teams_are_read_within_sqlites_default_limit_of_variables(migrated_database: Database) -> None:
    """The facts statement names the teams once per kind of fact (nine times): 4000 teams would bind 36,000 variables
    in one SQLite statement. A program's eligibility and the live figures of a roster read of that many teams read
    them all the same."""
    with migrated_database.transaction() as db:
        if db.get_bind().dialect.name == "sqlite":
            driver = db.connection().connection.driver_connection
            assert isinstance(driver, sqlite3.Connection)
            driver.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, SQLITE_DEFAULT_VARIABLES)
        program, team = running(db, make_course(db, "many", teachers=3))
        db.execute(insert(Team), [{"program_id": program.id, "name": f"ทีม {n}"} for n in range(1, 4000)])
        db.expire(program, ["teams"])
        teams = [t.id for t in program.teams]
        assert len(teams) == 4000
        assert set(program_eligibility(db, program)) == set(team.member_ids)
        assert set(recompute_teams(db, TeamNames(teams=frozenset(teams)))) == set(teams)
