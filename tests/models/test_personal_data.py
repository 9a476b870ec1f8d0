"""What is held about a person (models/personal_data.py), on SQLite and PostgreSQL: their own records, table by table,
and never another person's text, nor anything of a person of the same LTI `sub` on another platform registration."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from models import Base
from models.forms import save_form
from models.observations import submit_observation
from models.outbox import OutboxStatement
from models.people import Context, Membership, Person
from models.personal_data import HELD_TABLES, held_about
from models.platform import Deployment, Platform
from models.privacy_notice import acknowledge
from models.reflections import grade_reflection, submit_reflection
from models.roles import AppRole
from tests.factories import FORM, NOW, TODAY, Course, buddy_and_model, record, running

MINE = "การสะท้อนผลของฉันเอง (synthetic)"
THEIRS = "การสะท้อนผลของเพื่อนครู ห้ามปรากฏ (synthetic)"
THEIR_OBSERVATION = "บันทึกของครูร่วมการเรียนรู้อีกคน ห้ามปรากฏ (synthetic)"
MY_OBSERVATION = "บันทึกการสังเกตชั้นเรียนของฉัน (synthetic)"


def statement(db: Session, platform_id: int, actor: dict[str, Any], **context: Any) -> str:
    statement_id = str(uuid.uuid4())
    payload = {"id": statement_id, "actor": actor, "verb": {"id": "http://adlnet.gov/expapi/verbs/launched"}}
    if context:
        payload["context"] = context
    db.add(OutboxStatement(id=statement_id, platform_id=platform_id, verb="launched", payload=payload))
    db.flush()
    return statement_id


def account(issuer: str, sub: str) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": issuer, "name": sub}}


def twin_on_another_registration(db: Session, me: Person) -> Person:
    """The same issuer and `sub` under another client id: another platform row, so another person."""
    mine = me.platform
    platform = Platform(
        issuer=mine.issuer,
        client_id="another-client",
        auth_login_url=mine.auth_login_url,
        auth_token_url=mine.auth_token_url,
        key_set_url=mine.key_set_url,
    )
    context = Context(platform=platform, deployment=Deployment(platform=platform, deployment_id="9"), context_id="x")
    twin = Person(platform=platform, sub=me.sub, name="ฝาแฝด ต่างระบบ (synthetic)", email="twin@example.org")
    db.add(Membership(context=context, person=twin, app_role=AppRole.TEACHER.value))
    db.flush()
    return twin


def test_a_person_gets_their_own_records_and_nobody_elses(db: Session, course: Course) -> None:
    _, team = running(db, course)
    other_buddy, model, buddies = buddy_and_model(team)
    me = next(b for b in buddies if b != other_buddy)
    my_membership = db.get(Membership, me)
    assert my_membership is not None
    person = my_membership.person
    person.email = "me@example.org"
    record(db, team, 1, attendee_ids=[me, model], recorded_by_id=me, notes="บันทึกการประชุมของฉัน")
    record(db, team, 2, attendee_ids=[other_buddy, model], recorded_by_id=model, notes="ไม่ได้เข้าร่วม")
    save_form(
        db,
        team,
        1,
        "problem-reflection",
        {"problem": "ปัญหาที่ฉันเขียน", "approaches": "แนวทาง", "plan": "แผน"},
        my_membership,
        TODAY,
    )
    mine = submit_reflection(db, team, 1, me, MINE, NOW)
    submit_reflection(db, team, 1, other_buddy, THEIRS, NOW)
    grade_reflection(db, mine, grader_id=course.trainer.id, grader_role=AppRole.TRAINER, rubric_id="plc",
                     scores={"depth": 3}, max_score=4, comment="ความเห็นของวิทยากร", now=NOW)  # fmt: skip
    submit_observation(db, team, 1, me, replace(FORM, lesson=MY_OBSERVATION), NOW)
    submit_observation(db, team, 1, other_buddy, replace(FORM, lesson=THEIR_OBSERVATION), NOW)
    acknowledge(db, person.id, "2026-12-1", NOW)
    issuer = person.platform.issuer
    as_actor = statement(db, person.platform_id, account(issuer, person.sub))
    as_instructor = statement(
        db, person.platform_id, account(issuer, "u-other"), instructor=account(issuer, person.sub)
    )
    by_email = statement(db, person.platform_id, {"objectType": "Agent", "mbox": "mailto:me@example.org"})
    someone_else = statement(db, person.platform_id, account(issuer, "teacher-9"))
    twin = twin_on_another_registration(db, person)
    twins = statement(db, twin.platform_id, account(issuer, person.sub))

    held = held_about(db, person.id)

    assert (held.person.name, held.person.lms_user_id, held.person.email) == (person.name, person.sub, "me@example.org")
    assert [(c.course_id, c.app_role) for c in held.courses] == [("math-p4", "teacher")]
    assert [t.where.team for t in held.teams] == [team.name] and ("buddy" in dict(held.teams[0].roles).values())
    assert [(s.element, s.recorded_by_me, s.notes) for s in held.sessions_attended] == [(1, True, "บันทึกการประชุมของฉัน")]
    assert [(f.form, f.answers["problem"]) for f in held.forms_written] == [("problem-reflection", "ปัญหาที่ฉันเขียน")]
    assert [(o.mine_as, o.lesson) for o in held.observations] == [("buddy", MY_OBSERVATION)]
    assert [r.text for r in held.reflections] == [MINE]
    assert [(g.total, g.max_score, g.comment) for g in held.reflections[0].grades] == [
        (Decimal(3), Decimal(4), "ความเห็นของวิทยากร")
    ]
    assert [a.version for a in held.notice_acknowledgements] == ["2026-12-1"]
    assert held.learning_record_ids == [as_actor, as_instructor, by_email]
    everything = json.dumps(held.as_json(), ensure_ascii=False)
    for never in (THEIRS, THEIR_OBSERVATION, "ไม่ได้เข้าร่วม", twin.name, "twin@example.org", someone_else, twins):
        assert never not in everything
    assert course.trainer.person.name not in everything  # a grade without its grader's name


def test_the_model_teacher_gets_the_observation_of_their_lesson(db: Session, course: Course) -> None:
    _, team = running(db, course)
    buddy, model, _ = buddy_and_model(team)
    submit_observation(db, team, 1, buddy, replace(FORM, lesson=THEIR_OBSERVATION), NOW)
    model_person = db.get(Membership, model).person  # type: ignore[union-attr]

    held = held_about(db, model_person.id)

    assert [(o.mine_as, o.lesson) for o in held.observations] == [("model", THEIR_OBSERVATION)]
    assert db.get(Membership, buddy).person.name not in json.dumps(held.as_json(), ensure_ascii=False)  # type: ignore[union-attr]


def test_the_twin_on_another_registration_holds_nothing_of_the_first(db: Session, course: Course) -> None:
    _, team = running(db, course)
    me = team.member_ids[0]
    person = db.get(Membership, me).person  # type: ignore[union-attr]
    submit_reflection(db, team, 1, me, MINE, NOW)
    statement(db, person.platform_id, account(person.platform.issuer, person.sub))
    twin = twin_on_another_registration(db, person)

    held = held_about(db, twin.id)

    assert held.reflections == [] and held.learning_record_ids == [] and held.teams == []
    assert [c.course_id for c in held.courses] == ["x"]
    assert MINE not in json.dumps(held.as_json(), ensure_ascii=False)


def test_the_list_of_what_is_held_names_every_table_with_a_person_or_their_membership() -> None:
    held = {model.__table__.name for model in HELD_TABLES}  # type: ignore[attr-defined]
    about_people = {
        table.name
        for table in Base.metadata.sorted_tables
        for column in table.columns
        for key in column.foreign_keys
        if key.column.table.name == "people" and column.name == "person_id"
    }
    assert about_people <= held
