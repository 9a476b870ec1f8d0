"""Live dashboard figures (issue 17): a change that affects a figure updates its program's summary rows in the same
transaction, and two writers committing changes to one program at once both count (PostgreSQL, two connections)."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.base import utcnow
from models.cycles import Cycle, CycleTarget, open_cycle, record_cycle_result, set_cycle_target
from models.dashboard import Filters
from models.dashboard_learning import student_results
from models.dashboard_stats import ProgramStats, ResultStats
from models.database import Database
from models.district import District, ProgramPlacement, Reach, find_unit, import_structure, place_program
from models.live_figures import _KEY
from models.migrate import upgrade
from models.people import INACTIVE, Context, Membership, Person
from models.platform import Platform
from models.programs import Program
from models.roster import RosterMember, sync_roster
from models.teams import Team
from tests.factories import TODAY, make_course, record, running
from tests.support.pg import throwaway_database

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
STRUCTURE = {"district_code": "D1", "district_name": "สพป.สังเคราะห์ เขต 1", "network_code": "N1",
             "network_name": "เครือข่ายที่ 1", "school_code": "S1", "school_name": "โรงเรียนบ้านสังเคราะห์"}  # fmt: skip


def placed_program(database: Database) -> tuple[int, int]:
    """A running program of one team of three, placed at a school; its id and its team's."""
    with database.transaction() as db:
        course = make_course(db, "live")
        program, team = running(db, course)
        platform = db.get(Platform, course.scope.platform_id)
        assert platform is not None
        import_structure(db, platform, [STRUCTURE])
        place_program(db, program, find_unit(db, platform, "D1", "S1"))
        return program.id, team.id


def hours(database: Database, program_id: int) -> Decimal | None:
    with Session(database.engine) as db:
        return db.scalar(select(ProgramStats.teacher_hours).where(ProgramStats.program_id == program_id))


@pytest.fixture
def database(migrated_database: Database) -> Database:
    return migrated_database


def test_a_recorded_session_is_in_its_programs_figures_when_it_commits(database: Database) -> None:
    program_id, team_id = placed_program(database)
    assert hours(database, program_id) == Decimal(0)  # placing the program made its row

    with database.transaction() as db:
        team = db.get(Team, team_id)
        assert team is not None
        record(db, team, 1)  # two hours, three teachers

    assert hours(database, program_id) == Decimal(6)


@pytest.mark.postgres
def test_two_writers_to_one_program_never_lose_an_update(postgres_url: str) -> None:
    with throwaway_database("plc_live_two_writers") as url:
        database = Database(url)
        upgrade(database.engine)
        program_id, team_id = placed_program(database)
        with database.transaction() as db:  # the cycle is open (two writers opening it at once is another race)
            team = db.get(Team, team_id)
            assert team is not None
            record(db, team, 1)
        both_open = threading.Barrier(2, timeout=30)
        failures: list[BaseException] = []

        def writer(element: int) -> None:
            try:
                with database.transaction() as db:
                    team = db.get(Team, team_id)
                    assert team is not None
                    both_open.wait()  # both transactions have read the program before either writes
                    record(db, team, element)
            except BaseException as failure:  # noqa: BLE001 (reported below, in the test's thread)
                failures.append(failure)

        threads = [threading.Thread(target=writer, args=(element,)) for element in (2, 3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert failures == []
        assert hours(database, program_id) == Decimal(18)  # all three sessions: 3 × (2 hours × 3 teachers)
        database.dispose()


def test_the_dashboard_compares_only_comparable_measures_and_says_how_many_cycles(database: Database) -> None:
    program_id, team_id = placed_program(database)
    targets = [  # (kind, out of, pupils, baseline, result)
        ("percent_reaching", None, 30, "40", "60"),
        ("mean_score", "20", 30, "10", "14"),  # 50 % → 70 %
        ("count", None, 12, "3", "9"),
        ("", None, None, "55", "57"),  # recorded before measures were stated
        ("mean_score", None, 30, "10", "14"),  # a mean score out of nothing known: never taken for a percentage
    ]
    with database.transaction() as db:
        team = db.get(Team, team_id)
        assert team is not None
        team.program.planned_cycles = len(targets)
        for number, (kind, out_of, pupils, baseline, result) in enumerate(targets, start=1):
            db.add(
                Cycle(
                    team_id=team.id, number=number, learning_area="คณิตศาสตร์", grade_level="ป.4",
                    measure_kind=kind, measure_out_of=Decimal(out_of) if out_of else None, pupils=pupils,
                    baseline_value=Decimal(baseline), result_value=Decimal(result),
                )
            )  # fmt: skip

    with Session(database.engine) as db:
        district_id = db.scalar(select(District.id))
        assert district_id is not None
        reach = Reach(led_district_ids=frozenset({district_id}), district_ids=frozenset({district_id}))
        found = {(r.measure, r.cycles, r.baseline, r.result) for r in student_results(db, reach, Filters())}
    assert found == {
        ("percent", 2, Decimal("45.0"), Decimal("65.0")),  # the percentage and the mean score as a percentage
        ("count", 1, Decimal("3.0"), Decimal("9.0")),
        ("", 2, Decimal("32.5"), Decimal("35.5")),  # counted apart, with the measures not stated
    }


def test_a_cycles_result_is_in_the_student_results_when_it_commits(database: Database) -> None:
    program_id, team_id = placed_program(database)
    with database.transaction() as db:
        team = db.get(Team, team_id)
        assert team is not None
        cycle = open_cycle(db, team, 1, TODAY)
        target = CycleTarget("อ่านจับใจความ", "ภาษาไทย", "ป.4", baseline_value=Decimal(8), measure="คะแนนการอ่าน",
                             measure_kind="mean_score", measure_out_of=Decimal(20), pupils=25)  # fmt: skip
        set_cycle_target(cycle, target, TODAY)
        record_cycle_result(cycle, "หลังเรียน", Decimal(12), TODAY)

    with Session(database.engine) as db:
        row = db.scalars(select(ResultStats).where(ResultStats.program_id == program_id)).one()
    assert (row.learning_area, row.grade_level, row.measure, row.cycles) == ("ภาษาไทย", "ป.4", "percent", 1)
    assert (row.baseline_sum, row.result_sum) == (Decimal(40), Decimal(60))  # 8 and 12 out of 20, as percentages


def test_a_roster_read_marking_a_teacher_inactive_changes_the_dashboards_figures(database: Database) -> None:
    program_id, team_id = placed_program(database)
    with Session(database.engine) as db:
        before = db.scalar(select(ProgramStats.teachers).where(ProgramStats.program_id == program_id))
    assert before == 3

    with database.transaction() as db:
        team = db.get(Team, team_id)
        assert team is not None
        membership = db.get(Membership, team.member_ids[0])
        assert membership is not None
        person = db.get(Person, membership.person_id)
        context = db.get(Context, membership.context_id)
        assert person is not None and context is not None
        listed = [RosterMember(person.sub, (LEARNER,), status=INACTIVE)]  # the platform says: no longer enrolled
        sync_roster(db, context, listed, utcnow(), read_from=utcnow() - timedelta(days=3650))

    with Session(database.engine) as db:
        assert db.scalar(select(ProgramStats.teachers).where(ProgramStats.program_id == program_id)) == 2


def test_a_launch_stamping_a_team_members_membership_recomputes_nothing(database: Database) -> None:
    """A launch sets the membership's last launch (and its role, unchanged): no figure moves, so the program's rows are
    neither recomputed nor locked; a role that does change is noticed."""
    program_id, team_id = placed_program(database)
    with Session(database.engine) as db:
        refreshed = db.scalar(select(ProgramStats.refreshed_at).where(ProgramStats.program_id == program_id))
    with database.transaction() as db:
        team = db.get(Team, team_id)
        assert team is not None
        membership = db.get(Membership, team.member_ids[0])
        assert membership is not None
        membership.last_launch_at = utcnow()
        membership.app_role = membership.app_role
        db.flush()
        assert not db.info.get(_KEY)
        membership.status = INACTIVE
        db.flush()
        assert dict(db.info[_KEY]) == {"membership": {membership.id}}
        db.rollback()
    with Session(database.engine) as db:
        assert db.scalar(select(ProgramStats.refreshed_at).where(ProgramStats.program_id == program_id)) == refreshed


def test_a_program_naming_a_school_reaches_the_dashboard_when_it_is_created_or_edited(database: Database) -> None:
    with database.transaction() as db:
        course = make_course(db, "live-by-name")
        platform = db.get(Platform, course.scope.platform_id)
        assert platform is not None
        import_structure(db, platform, [STRUCTURE])
        named, _team = running(db, course)
        named.school_or_network = " S1 "  # the school's code, as a trainer types it
        later, _other = running(db, course)
    with database.transaction() as db:
        edited = db.get(Program, later.id)
        assert edited is not None
        edited.school_or_network = "โรงเรียนบ้านสังเคราะห์"  # its name, given later

    with Session(database.engine) as db:
        placed = dict(db.execute(select(ProgramPlacement.program_id, ProgramPlacement.school_id)).all())
        counted = set(db.scalars(select(ProgramStats.program_id)))
    assert set(placed) == {named.id, later.id} and None not in placed.values()
    assert counted == {named.id, later.id}


def test_what_a_rolled_back_transaction_changed_is_forgotten(database: Database) -> None:
    program_id, _team_id = placed_program(database)
    with Session(database.engine) as db:
        program = db.get(Program, program_id)
        assert program is not None
        program.name = "rolled back"
        db.flush()
        assert db.info.get("plc_live_figures")
        db.rollback()

        assert not db.info.get("plc_live_figures")  # the next commit recomputes nothing of it
