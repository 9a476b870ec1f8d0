"""Who is offered the dashboard: a person leads something when a district, network or school leader row or a
province or OBEC leader row names them (issuer + sub), on the same platform only; on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models.district import District, Unit, add_leader, leads_anything
from models.platform import Platform
from models.policy import add_policy_leader
from tests.factories import Course


def test_a_district_leader_and_an_obec_leader_lead_something_a_teacher_does_not(
    db: Session, course: Course, other_course: Course
) -> None:
    district_head, obec_head, teacher = course.trainer.person, course.admin.person, course.teachers[0].person
    platform = db.get(Platform, course.scope.platform_id)
    assert platform is not None
    district = District(platform_id=platform.id, code="D1", name="สพป.ทดสอบ เขต 1")
    db.add(district)
    db.flush()
    add_leader(db, platform, district_head.sub, Unit(district))
    add_policy_leader(db, platform, obec_head.sub, None)
    db.flush()

    assert leads_anything(db, district_head.id)
    assert leads_anything(db, obec_head.id)
    assert not leads_anything(db, teacher.id)
    # The same subs on another platform are other people.
    assert not leads_anything(db, other_course.trainer.person.id)
    assert not leads_anything(db, other_course.admin.person.id)
