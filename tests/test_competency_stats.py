"""The dashboard's assessed growth over dashboard_competency_stats: a school's mean level is withheld while fewer
teachers than the minimum rated themselves (a leader would read one person's rating), and the rows of a program
follow its assessments when their transaction commits (models/live_figures.py; no wait for the rebuild)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.services import competencies as service
from lti_tool.services.actor import Actor
from models import dashboard as stats
from models import dashboard_learning as learning
from models.assessments import Phase
from models.dashboard_stats import CompetencyStats, refresh_district
from models.district import District, Network, ProgramPlacement, Reach, School
from models.live_figures import recompute_now
from models.people import Membership
from models.programs import Program
from models.sessions import open_session
from tests.factories import Course, make_course, running
from tests.test_competency_assessments import SETTINGS

pytestmark = pytest.mark.usefixtures("db")


def _actor(db: Session, membership: Membership) -> Actor:
    return Actor(open_session(db, membership, None, locale="th", claims={"name": "x"}, ttl=timedelta(hours=1)))


def _placed(db: Session, members: int) -> tuple[Course, Program, Reach]:
    """A running program of `members` teachers, placed at the one school of a district; a school leader's reach."""
    course = make_course(db, f"growth-{members}", teachers=members)
    program, _team = running(db, course, members=members, cycles=members)
    district = District(platform_id=course.scope.platform_id, code="D", name="เขตทดลอง")
    network = Network(district=district, code="N", name="เครือข่ายทดลอง")
    db.add_all([district, network])
    db.flush()
    school = School(district_id=district.id, network_id=network.id, code="S", name="โรงเรียนทดลอง")
    db.add(school)
    db.flush()
    db.add(ProgramPlacement(program_id=program.id, district_id=district.id, network_id=network.id, school_id=school.id))
    db.flush()
    reach = Reach(
        led_school_ids=frozenset({school.id}),
        district_ids=frozenset({district.id}),
        network_ids=frozenset({network.id}),
        school_ids=frozenset({school.id}),
    )
    return course, program, reach


def _assess(db: Session, course: Course, levels: list[int]) -> None:
    for teacher, level in zip(course.teachers, levels, strict=False):
        service.assess_self(db, SETTINGS, _actor(db, teacher), Phase.START, {"C3": level, "C4": level, "F5": level})


def test_a_schools_mean_level_is_withheld_below_the_minimum_number_of_teachers(db: Session) -> None:
    course, _program, reach = _placed(db, members=learning.GROWTH_MIN_TEACHERS)
    _assess(db, course, [1])
    refresh_district(db, db.scalars(select(District)).one())

    [c3, *_] = learning.assessed_growth(db, reach, stats.Filters())

    assert c3.teachers_start == 1 and c3.start_withheld and c3.mean_start is None and c3.change is None


def test_the_mean_level_shows_from_the_minimum_number_of_teachers(db: Session) -> None:
    n = learning.GROWTH_MIN_TEACHERS
    course, _program, reach = _placed(db, members=n)
    _assess(db, course, [2] * (n - 1) + [4])
    refresh_district(db, db.scalars(select(District)).one())

    [c3, *_] = learning.assessed_growth(db, reach, stats.Filters())

    assert not c3.start_withheld and c3.teachers_start == n and c3.mean_start is not None and c3.mean_start > 2


def _rows(db: Session) -> list[tuple[int, str, str, int, int]]:
    found = db.execute(
        select(
            CompetencyStats.program_id,
            CompetencyStats.competency,
            CompetencyStats.phase,
            CompetencyStats.teachers,
            CompetencyStats.level_sum,
        ).order_by(CompetencyStats.competency, CompetencyStats.phase)
    )
    return [tuple(row) for row in found]


def test_a_self_assessment_updates_the_programs_growth_rows_when_it_commits_as_the_rebuild_would(
    db: Session,
) -> None:
    n = learning.GROWTH_MIN_TEACHERS
    course, program, reach = _placed(db, members=n)
    _assess(db, course, [2] * n)  # no rebuild: the rows follow the assessments
    service.assess_self(db, SETTINGS, _actor(db, course.teachers[0]), Phase.START, {"C3": 5, "C4": 2, "F5": 2})
    recompute_now(db)  # what the commit runs

    [c3, c4, _f5] = learning.assessed_growth(db, reach, stats.Filters())
    live = _rows(db)
    refresh_district(db, db.scalars(select(District)).one())

    assert (c3.teachers_start, c3.mean_start, c4.mean_start) == (n, Decimal(2 * n + 3) / n, Decimal(2))
    assert live == _rows(db) and (program.id, "C3", "start", n, 2 * n + 3) in live
