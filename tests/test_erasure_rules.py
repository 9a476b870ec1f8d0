"""Erasing a person at their request (services/erasure.py, models/erasure.py, xapi/erasure.py) on SQLite and
PostgreSQL: what goes, what stays under the pseudonym, the learning records voided, the erasure kept, and every
refusal leaving everything as it was."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.services import erasure as service
from lti_tool.services.actor import Actor
from lti_tool.services.admin import NotAnAdministrator
from models.certificates import Certificate
from models.corrections import RecordChange, correct_form
from models.cycles import ElementSession, SessionAttendance
from models.erasure import AlreadyErased, CannotEraseYourself, PersonErasure
from models.errors import InvalidInput, NotFoundInCourse
from models.evidence import Evidence, Upload, store_evidence
from models.facts import program_eligibility
from models.forms import FormEntry, save_form
from models.observations import Observation, submit_observation
from models.outbox import OutboxStatement
from models.people import Membership, Person
from models.plan import team_plan
from models.plan_versions import PlanVersion, plan_snapshot
from models.programs import Program
from models.reflections import Grade, Reflection, grade_reflection, submit_reflection
from models.roles import AppRole
from models.sessions import AppSession, open_session
from tests.factories import FORM, NOW, TODAY, Course, make_course, record, running
from tests.test_observations_page import png
from xapi import outbox, statements
from xapi.vocabulary import Verb

SITE_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"
PSEUDONYM = "ครูผู้เข้าร่วม ก-017"
NAME = "สมศรี ใจดี"


@dataclass(frozen=True)
class Destinations:
    """The settings the learning records need: the tool's address, its language and the LRSs they go to."""

    public_base_url: str = "https://plc.example.org"
    default_locale: str = "th"
    lrs_names: list[str] = field(default_factory=lambda: ["ralph", "district-lrs"])


@dataclass
class World:
    course: Course
    program: Program
    person: Person  # the teacher who asks to be erased
    member: Membership
    other: Membership  # a teammate whose data must not move
    files: Path
    theirs: list[str]  # ids of statements about the person
    others: list[str]  # ids of the teammate's statements


def _session(db: Session, membership: Membership) -> Actor:
    return Actor(open_session(db, membership, None, locale="th", claims={"name": "x"}, ttl=timedelta(hours=1)))


def _statement(db: Session, issuer: str, sub: str, platform_id: int, email: str | None = None) -> str:
    actor = statements.Actor(issuer, sub, email)
    statement = {
        "id": str(uuid.uuid4()),
        "actor": actor.agent(),
        "verb": {"id": Verb.SCORED},
        "object": {"objectType": "Activity", "id": "https://plc.example.org/x"},
        "result": {"response": "ครูเขียนถึงคุณสมศรี", "completion": True},
    }
    outbox.record(db, statement, platform_id, ["ralph"])
    return str(statement["id"])


def world(db: Session, tmp_path: Path) -> World:
    course = make_course(db, "erase-" + uuid.uuid4().hex[:6], teachers=3)
    course.admin.lti_roles = [SITE_ADMIN]
    program, team = running(db, course, members=3)
    member, other = db.get(Membership, team.member_ids[0]), db.get(Membership, team.member_ids[1])
    assert member is not None and other is not None
    person = member.person
    person.name, person.given_name, person.family_name, person.email = NAME, "สมศรี", "ใจดี", "somsri@example.org"
    for element in (1, 2):  # recorded by the person, notes theirs alone
        record(db, team, element, notes="บันทึกของสมศรี", recorded_by_id=member.id)
    record(db, team, 3, notes="บันทึกของเพื่อน", recorded_by_id=other.id)
    for membership in (member, other):
        reflection = submit_reflection(db, team, 1, membership.id, f"สะท้อนของ {membership.id}", NOW)
        grade_reflection(
            db, reflection, grader_id=course.trainer.id, grader_role=AppRole.TRAINER, rubric_id="r",
            scores={"a": 3}, max_score=4, comment="ความเห็นถึงครู", now=NOW,
        )  # fmt: skip
    plan = team_plan(team)
    for membership in (member, other):  # each observes their Model Teacher in the first cycle they are a Buddy
        cycle_number = min(n for n, (_model, buddies) in plan.items() if membership.id in buddies)
        submit_observation(db, team, cycle_number, membership.id, FORM, NOW)
    alone = save_form(
        db,
        team,
        1,
        "problem-reflection",
        {"problem": "ปัญหาของสมศรี", "approaches": "แนวทาง", "plan": "แผน", "lesson_date": "2026-06-18"},
        member,
        TODAY,
    )
    shared = save_form(
        db, team, 1, "operation-tracking",
        {"taught_on": "2026-06-20", "activities": "กิจกรรม", "what_worked": "ได้ผล"}, other, TODAY,
    )  # fmt: skip
    correct_form(db, shared, {**shared.answers, "advice": "ข้อแนะนำของสมศรี"}, changer=member, reason="", now=NOW)
    assert alone.updated_by_id == member.id
    cycle = team.cycles[0]
    files = tmp_path / "evidence"
    store_evidence(db, files, cycle, [Upload("แผน.png", png())], member.id)
    store_evidence(db, files, cycle, [Upload("เพื่อน.png", png())], other.id)
    db.add(
        Certificate(
            program_id=program.id, membership_id=member.id, code=f"{uuid.uuid4().hex[:5].upper()}-AAAAA",
            holder_name=NAME, program_name=program.name, cycles=3, hours=Decimal(30), issued_on=TODAY,
        )
    )  # fmt: skip
    _session(db, member)  # an open session of theirs, holding their launch's claims
    issuer = course.trainer.person.platform.issuer
    theirs = [
        _statement(db, issuer, person.sub, person.platform_id),
        _statement(db, issuer, person.sub, person.platform_id, person.email),
    ]
    others = [_statement(db, issuer, other.person.sub, person.platform_id)]
    db.flush()
    return World(course, program, person, member, other, files, theirs, others)


def snapshot(db: Session, w: World) -> dict[str, Any]:
    """Everything an erasure would change, to show that a refusal changed none of it."""
    db.expire_all()
    return {
        "person": (w.person.name, w.person.email, w.person.erased_at),
        "reflections": sorted(db.scalars(select(Reflection.text))),
        "observations": sorted(db.scalars(select(Observation.lesson))),
        "forms": sorted(str(a) for a in db.scalars(select(FormEntry.answers))),
        "notes": sorted(db.scalars(select(ElementSession.notes))),
        "evidence": int(db.scalar(select(func.count()).select_from(Evidence)) or 0),
        "grades": sorted(db.scalars(select(Grade.comment))),
        "statements": int(db.scalar(select(func.count()).select_from(OutboxStatement)) or 0),
        "erasures": int(db.scalar(select(func.count()).select_from(PersonErasure)) or 0),
        "sessions": int(db.scalar(select(func.count()).select_from(AppSession)) or 0),
    }


def test_an_erasure_keeps_the_record_under_the_pseudonym_and_takes_what_names_them(db: Session, tmp_path: Path) -> None:
    w = world(db, tmp_path)
    admin = _session(db, w.course.admin)
    eligible_before = program_eligibility(db, w.program)[w.member.id]
    other_before = (w.other.person.name, w.other.person.email)
    preview = service.preview_erasure(db, admin, w.person.id)
    assert preview.learning_records == 2
    assert (len(preview.held.forms_alone), len(preview.held.forms_shared)) == (1, 1)
    assert (len(preview.held.notes_alone), len(preview.held.evidence)) == (2, 1)

    done = service.erase_person(db, Destinations(), admin, w.person.id, f"  {PSEUDONYM} ", "คำขอเลขที่ 12/2569")

    db.expire_all()
    person = db.get(Person, w.person.id)
    assert person is not None and person.erased_at is not None
    assert (person.name, person.given_name, person.family_name, person.email) == (PSEUDONYM, "", "", None)
    certificate = db.scalars(select(Certificate).where(Certificate.membership_id == w.member.id)).one()
    assert certificate.holder_name == PSEUDONYM
    # The rows the Council's record counts stay, so the teacher's eligibility, cycles and hours are as they were.
    assert program_eligibility(db, w.program)[w.member.id] == eligible_before
    assert db.scalars(select(Reflection.text).where(Reflection.membership_id == w.member.id)).all() == [""]
    assert db.scalars(select(Grade.comment).join(Reflection).where(Reflection.membership_id == w.member.id)).all() == [
        ""
    ]
    for observation in db.scalars(select(Observation).where(Observation.buddy_id == w.member.id)):
        assert (observation.lesson, observation.student_notes, observation.suggestions) == ("", [], "")
    forms = {f.form: f.answers for f in db.scalars(select(FormEntry))}
    assert {k: v for k, v in forms["problem-reflection"].items() if v} == {"lesson_date": "2026-06-18"}  # words go
    assert forms["operation-tracking"]["what_worked"] == "ได้ผล"  # written with a teammate: kept
    notes = {s.created_by_id: s.notes for s in db.scalars(select(ElementSession))}
    assert notes == {w.member.id: "", w.other.id: "บันทึกของเพื่อน"}
    assert db.scalar(select(func.count()).select_from(SessionAttendance).where(
        SessionAttendance.membership_id == w.member.id)) == 3  # fmt: skip
    assert all(c.reason == "" or c.changed_by_id != w.member.id for c in db.scalars(select(RecordChange)))
    assert "ข้อแนะนำของสมศรี" in str([c.after for c in db.scalars(select(RecordChange))])  # the shared form's history
    # Files: the person's row is gone and its file named for deletion after commit; the teammate's stays.
    assert [e.uploaded_by_id for e in db.scalars(select(Evidence))] == [w.other.id]
    assert len(done.stored_files) == 1 and (w.files / done.stored_files[0]).exists()
    assert db.scalar(select(func.count()).select_from(AppSession).where(AppSession.person_id == w.person.id)) == 0
    # Their learning records are voided, once each, for every LRS; the teammate's are not.
    voiding = [r for r in db.scalars(select(OutboxStatement)) if r.verb == Verb.VOIDED]
    assert sorted(r.payload["object"]["id"] for r in voiding) == sorted(w.theirs)
    assert all(r.payload["object"]["objectType"] == "StatementRef" for r in voiding)
    assert all({d.destination for d in r.deliveries} == {"ralph", "district-lrs"} for r in voiding)
    assert all(r.payload["actor"]["account"]["name"] == "admin" for r in voiding)
    copies = {r.id: r.payload for r in db.scalars(select(OutboxStatement))}
    assert "somsri@example.org" not in str(copies) and "ความเห็นถึงครู" not in str([copies[i] for i in w.theirs])
    assert copies[w.others[0]]["result"]["response"] == "ครูเขียนถึงคุณสมศรี"
    # The erasure is kept: who, when, why and the pseudonym; never the name.
    kept = db.scalars(select(PersonErasure)).one()
    assert (kept.pseudonym, kept.reason, kept.erased_by_id) == (PSEUDONYM, "คำขอเลขที่ 12/2569", w.course.admin.person_id)
    assert kept.counts["learning_records"] == 2 and kept.counts["evidence"] == 1
    assert NAME not in str(vars(kept)) and "somsri" not in str(vars(kept))
    assert (w.other.person.name, w.other.person.email) == other_before


@pytest.mark.parametrize(
    "case",
    [
        "not_an_admin",
        "school_admin",
        "wrong_platform",
        "empty",
        "too_long",
        "someones_name",
        "earlier_pseudonym",
        "self",
    ],
)
def test_a_refused_erasure_changes_nothing(db: Session, tmp_path: Path, case: str) -> None:
    w = world(db, tmp_path)
    admin = _session(db, w.course.admin)
    target, pseudonym = w.person.id, PSEUDONYM
    if case == "earlier_pseudonym":
        third = db.get(Membership, w.program.teams[0].member_ids[2])
        assert third is not None
        service.erase_person(db, Destinations(), admin, third.person_id, PSEUDONYM.upper(), "คำขอแรก")
    expected: type[Exception] = InvalidInput
    if case == "not_an_admin":
        admin, expected = _session(db, w.other), NotAnAdministrator
    elif case == "school_admin":
        w.course.admin.lti_roles = ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"]
        db.flush()
        expected = NotAnAdministrator
    elif case == "wrong_platform":
        elsewhere = make_course(db, "other-" + uuid.uuid4().hex[:6], teachers=1)
        target, expected = elsewhere.teachers[0].person_id, NotFoundInCourse
    elif case == "empty":
        pseudonym = "   "
    elif case == "too_long":
        pseudonym = "ก" * 101
    elif case == "someones_name":
        pseudonym = w.other.person.name.upper()
    elif case == "self":
        target, expected = w.course.admin.person_id, CannotEraseYourself
    before = snapshot(db, w)

    with pytest.raises(expected):
        service.erase_person(db, Destinations(), admin, target, pseudonym, "คำขอ")

    assert snapshot(db, w) == before


def test_an_erased_person_is_not_erased_twice_and_a_reason_is_required(db: Session, tmp_path: Path) -> None:
    w = world(db, tmp_path)
    admin = _session(db, w.course.admin)
    with pytest.raises(InvalidInput) as missing:
        service.erase_person(db, Destinations(), admin, w.person.id, PSEUDONYM, "  ")
    assert [p.field for p in missing.value.problems] == ["reason"]
    service.erase_person(db, Destinations(), admin, w.person.id, PSEUDONYM, "คำขอ")
    before = snapshot(db, w)

    with pytest.raises(AlreadyErased):
        service.erase_person(db, Destinations(), admin, w.person.id, "ครูผู้เข้าร่วม ก-018", "คำขอ")

    assert snapshot(db, w) == before


def test_the_search_finds_people_of_the_platform_only_by_name_or_lms_user_id(db: Session, tmp_path: Path) -> None:
    w = world(db, tmp_path)
    elsewhere = make_course(db, "other-" + uuid.uuid4().hex[:6], teachers=1)
    elsewhere.teachers[0].person.name = NAME
    admin = _session(db, w.course.admin)

    assert [p.id for p in service.find_people(db, admin, "ใจดี")] == [w.person.id]
    assert [p.id for p in service.find_people(db, admin, w.other.person.sub)] == [w.other.person_id]
    assert service.find_people(db, admin, "%") == []
    with pytest.raises(NotAnAdministrator):
        service.find_people(db, _session(db, w.other), "ใจดี")


def test_the_plans_sent_to_the_council_name_the_pseudonym_instead(db: Session, tmp_path: Path) -> None:
    """Every plan version names the team's members and its facilitator: after the erasure the pseudonym stands
    there, and the teammates' names stay."""
    w = world(db, tmp_path)
    team = w.program.teams[0]
    team.facilitator_id = w.member.id
    names = {m.id: m.person.name for m in db.scalars(select(Membership).where(Membership.id.in_(team.member_ids)))}
    db.add(PlanVersion(program_id=w.program.id, number=1, snapshot=plan_snapshot(w.program, names)))
    db.flush()
    assert NAME in str(db.scalars(select(PlanVersion.snapshot)).one())

    service.erase_person(db, Destinations(), _session(db, w.course.admin), w.person.id, PSEUDONYM, "คำขอ 13/2569")

    db.expire_all()
    [snapshot] = db.scalars(select(PlanVersion.snapshot)).all()
    [kept_team] = snapshot["teams"]
    assert NAME not in str(snapshot) and kept_team["facilitator"] == PSEUDONYM
    assert {m["id"]: m["name"] for m in kept_team["members"]}[w.member.id] == PSEUDONYM
    assert {m["id"]: m["name"] for m in kept_team["members"]}[w.other.id] == w.other.person.name
