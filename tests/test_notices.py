"""Notices written by the use cases in the same transaction as their event, on SQLite and PostgreSQL: to the Model
Teacher when a Buddy's observation arrives, to the teacher when their reflection is graded or their certificate
issued; each person's list newest first with unread marked; kinds switched off reach the list only; and a reminder
with a once-key is written once whoever writes it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.channels import wording
from lti_tool.services import line_linking
from lti_tool.services import notices as service
from lti_tool.services.actor import Actor
from lti_tool.services.certificates import issue_certificates
from lti_tool.services.evidence import EvidenceFiles
from lti_tool.services.observations import submit_observation
from lti_tool.services.reflections import grade_reflection
from lti_tool.settings import Settings, load_settings
from models import erasure, line
from models import notices as model
from models.errors import InvalidInput, NotFoundInCourse
from models.notices import Channel, Kind, Notice, NoticeDelivery
from models.people import Context, Membership
from models.personal_data import held_about
from models.reflections import submit_reflection
from models.rubrics import rubric
from models.sessions import open_session
from tests.factories import ENDED_ON, FORM, NOW, Course, buddy_and_model, make_course, running
from tests.models.test_certificates import completed

NO_FILES: Any = None  # no uploads: the store is never used
COMMENT = "ชัดเจนดี ลองยกตัวอย่างนักเรียนเพิ่ม"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(instance_path=tmp_path)


@pytest.fixture
def course(db: Session) -> Course:
    return make_course(db, "notices")


def as_actor(db: Session, membership: Membership) -> Actor:
    return Actor(open_session(db, membership, None, locale="th", claims={"name": "x"}, ttl=timedelta(hours=1)))


def member(db: Session, membership_id: int) -> Membership:
    found = db.get(Membership, membership_id)
    assert found is not None
    return found


def observe(db: Session, settings: Settings, course: Course, tmp_path: Path) -> tuple[Membership, Membership]:
    _, team = running(db, course)
    buddy_id, model_id, _ = buddy_and_model(team)
    buddy, model_teacher = member(db, buddy_id), member(db, model_id)
    files = EvidenceFiles(NO_FILES)
    submit_observation(db, settings, as_actor(db, buddy), 1, FORM, [], files, now=NOW)
    return buddy, model_teacher


def test_a_submitted_observation_gives_the_model_teacher_a_notice_without_its_text(
    db: Session, settings: Settings, course: Course, tmp_path: Path
) -> None:
    buddy, model_teacher = observe(db, settings, course, tmp_path)

    [notice] = model.notices_of(db, model_teacher.person_id)
    assert notice.kind == Kind.OBSERVATION_SUBMITTED and notice.params == {"cycle": 1}
    assert (notice.endpoint, notice.endpoint_args) == ("observations.for_cycle", {"number": 1})
    assert FORM.students_did not in json.dumps(notice.params, ensure_ascii=False)
    assert model.notices_of(db, buddy.person_id) == []


def test_a_rewritten_observation_is_no_news(db: Session, settings: Settings, course: Course, tmp_path: Path) -> None:
    buddy, model_teacher = observe(db, settings, course, tmp_path)
    files = EvidenceFiles(NO_FILES)
    changed = FORM.__class__(**{**FORM.__dict__, "suggestions": "อีกแบบ"})
    submit_observation(db, settings, as_actor(db, buddy), 1, changed, [], files, now=NOW)

    assert len(model.notices_of(db, model_teacher.person_id)) == 1


def test_a_graded_reflection_tells_the_teacher_the_score_and_comment(
    db: Session, settings: Settings, course: Course
) -> None:
    _, team = running(db, course)
    teacher = member(db, team.member_ids[0])
    reflection = submit_reflection(db, team, 1, teacher.id, "งานเขียนของครู (synthetic)", NOW)
    chosen = rubric()
    top = {c.id: max(level.points for level in chosen.levels) for c in chosen.criteria}

    grade_reflection(db, settings, as_actor(db, course.trainer), reflection.id, top, COMMENT)

    [notice] = model.notices_of(db, teacher.person_id)
    assert notice.kind == Kind.REFLECTION_GRADED
    assert notice.params["comment"] == COMMENT
    assert Decimal(notice.params["score"]) == Decimal(notice.params["max_score"]) == chosen.max_score
    assert "งานเขียนของครู" not in json.dumps(notice.params, ensure_ascii=False)


def test_deliveries_go_to_linked_line_and_shared_email_only(db: Session, settings: Settings, course: Course) -> None:
    teacher = course.teachers[0]
    target = model.Target("home.landing")
    assert service.notify(db, teacher, Kind.YEAR_ENDING, {}, target).deliveries == []  # type: ignore[union-attr]

    teacher.person.email = "kru@example.org"
    db.add(line.LineChannel(platform_id=teacher.person.platform_id, access_token="t", channel_secret="s"))
    line.link(db, teacher.person_id, teacher.person.platform_id, "U" + "a" * 32)
    db.flush()
    notice = service.notify(db, teacher, Kind.YEAR_ENDING, {}, target)
    db.flush()

    assert notice is not None
    assert sorted(d.channel for d in notice.deliveries) == [Channel.EMAIL.value, Channel.LINE.value]


def test_a_kind_switched_off_reaches_the_list_only(db: Session, course: Course) -> None:
    teacher = course.teachers[0]
    teacher.person.email = "kru@example.org"
    actor = as_actor(db, teacher)
    service.save_preferences(db, actor, {k.value for k in model.TEACHER_KINDS} - {Kind.YEAR_ENDING.value})
    db.flush()

    notice = service.notify(db, teacher, Kind.YEAR_ENDING, {}, model.Target())
    db.flush()

    assert notice is not None and notice.deliveries == []
    assert [p.enabled for p in service.preferences(db, actor) if p.kind is Kind.YEAR_ENDING] == [False]


def test_the_list_is_newest_first_with_unread_counted_and_opening_marks_read(db: Session, course: Course) -> None:
    teacher = course.teachers[0]
    for days in (3, 1, 2):
        service.notify(db, teacher, Kind.YEAR_ENDING, {"days": days}, model.Target(), now=NOW - timedelta(days=days))
    db.flush()
    actor = as_actor(db, teacher)

    listed = service.my_notices(db, actor)
    assert [n.params["days"] for n in listed] == [1, 2, 3]
    assert service.unread(db, actor) == 3
    service.open_notice(db, actor, listed[0].id)
    assert service.unread(db, actor) == 2
    service.read_all(db, actor)
    assert service.unread(db, actor) == 0


def test_nobody_opens_another_persons_notice(db: Session, course: Course) -> None:
    notice = service.notify(db, course.teachers[0], Kind.YEAR_ENDING, {}, model.Target())
    db.flush()
    assert notice is not None
    with pytest.raises(NotFoundInCourse):
        service.open_notice(db, as_actor(db, course.teachers[1]), notice.id)


def test_a_reminder_with_a_once_key_is_written_once(db: Session, course: Course) -> None:
    teacher = course.teachers[0]
    first = service.notify(db, teacher, Kind.YEAR_ENDING, {}, model.Target(), once_key="year:1:30:p")
    again = service.notify(db, teacher, Kind.YEAR_ENDING, {}, model.Target(), once_key="year:1:30:p")
    db.flush()

    assert first is not None and again is None
    assert db.scalar(select(func.count()).select_from(Notice).where(Notice.once_key == "year:1:30:p")) == 1


def test_quiet_hours_are_twenty_to_seven_thai_time() -> None:
    evening = datetime(2026, 7, 1, 13, 0, tzinfo=UTC)  # 20:00 in Bangkok
    assert model.in_quiet_hours(evening)
    assert not model.in_quiet_hours(evening - timedelta(minutes=1))
    assert model.end_of_quiet_hours(evening) == datetime(2026, 7, 2, 0, 0, tzinfo=UTC)  # 07:00 the next day
    assert model.end_of_quiet_hours(datetime(2026, 7, 1, 23, 59, tzinfo=UTC)) == datetime(2026, 7, 2, 0, 0, tzinfo=UTC)
    assert model.end_of_quiet_hours(NOW) == NOW


def test_no_delivery_rows_for_an_erased_person(db: Session, course: Course) -> None:
    teacher = course.teachers[0]
    teacher.person.email = "kru@example.org"
    teacher.person.erased_at = NOW
    notice = service.notify(db, teacher, Kind.YEAR_ENDING, {}, model.Target())
    db.flush()
    assert notice is not None
    assert db.scalar(select(func.count()).select_from(NoticeDelivery)) == 0


def test_erasure_takes_the_line_id_the_notices_and_the_choices(db: Session, course: Course) -> None:
    teacher = course.teachers[0]
    teacher.person.email = "kru@example.org"
    db.add(line.LineChannel(platform_id=teacher.person.platform_id, access_token="t", channel_secret="s"))
    line.link(db, teacher.person_id, teacher.person.platform_id, "U" + "b" * 32)
    line.new_code(db, teacher.person_id, teacher.person.platform_id)
    service.save_preferences(db, as_actor(db, teacher), set())
    service.notify(db, teacher, Kind.REFLECTION_GRADED, {"cycle": 1, "comment": COMMENT}, model.Target())
    db.flush()
    held = erasure.holdings(db, teacher.person)

    erasure.erase(db, held, pseudonym="ครูผู้เข้าร่วม ก-001", reason="คำขอ", erased_by_id=None, now=NOW)
    db.flush()

    for table in (Notice, NoticeDelivery, model.NoticePreference, line.LineLink, line.LineLinkCode):
        assert db.scalar(select(func.count()).select_from(table)) == 0, table.__tablename__
    assert teacher.person.email is None


def test_my_data_holds_my_notices_my_choices_and_my_line_link(db: Session, course: Course) -> None:
    teacher = course.teachers[0]
    line.link(db, teacher.person_id, teacher.person.platform_id, "U" + "c" * 32)
    service.save_preferences(db, as_actor(db, teacher), {Kind.OBSERVATION_SUBMITTED.value})
    service.notify(db, teacher, Kind.REFLECTION_GRADED, {"cycle": 1, "comment": COMMENT}, model.Target())
    db.flush()

    held = held_about(db, teacher.person_id)

    assert [n.params["comment"] for n in held.notices] == [COMMENT]
    assert held.line_account is not None and held.line_account.line_user_id == "U" + "c" * 32
    assert Kind.REFLECTION_GRADED.value in held.notice_kinds_off
    assert held_about(db, course.teachers[1].person_id).notices == []


def test_a_reminder_writes_its_dates_as_a_thai_reader_does() -> None:
    params = {"program": "PLC คณิต", "days": 7, "last_day": "2027-06-01"}
    thai = wording.word(Kind.YEAR_ENDING, params, wording.translations("th"), locale="th")
    english = wording.word(Kind.YEAR_ENDING, params, wording.translations("en"), locale="en")
    assert "1 มิถุนายน 2570" in thai.text and "อีก 7 วัน" in thai.text
    assert "1 June 2027" in english.text and "7 days" in english.text


def test_an_issued_certificate_tells_its_teacher_with_the_verify_page(
    db: Session, settings: Settings, course: Course
) -> None:
    program = completed(db, course)

    issued = issue_certificates(db, settings, program, issued_by_id=course.trainer.id, today=ENDED_ON)

    assert issued
    for item in issued:
        teacher = item.certificate.membership
        [notice] = [n for n in model.notices_of(db, teacher.person_id) if n.kind == Kind.CERTIFICATE_ISSUED]
        assert notice.endpoint == "certificates.verify" and notice.endpoint_args == {"code": item.certificate.code}
        words = wording.word(notice.kind, notice.params, wording.translations("th"), verify_url="https://x/verify/c")
        assert program.name in words.text and "https://x/verify/c" in words.text


def test_the_line_page_shows_the_same_code_until_a_new_one_is_asked_for(db: Session, course: Course) -> None:
    teacher = course.teachers[0]
    db.add(line.LineChannel(platform_id=teacher.person.platform_id, access_token="token", channel_secret="ab12"))
    actor = as_actor(db, teacher)

    settings_page = line_linking.linking_page(db, actor, with_code=False)
    first = line_linking.linking_page(db, actor)
    again = line_linking.linking_page(db, actor)
    asked = line_linking.linking_page(db, actor, new_code=True)

    assert settings_page.code is None
    assert first.code is not None and again.code is not None and asked.code is not None
    assert again.code.code == first.code.code
    assert asked.code.code != first.code.code
    codes = db.scalars(select(line.LineLinkCode.code).where(line.LineLinkCode.person_id == teacher.person_id)).all()
    assert codes == [asked.code.code]


def test_a_notice_of_another_course_says_to_open_it_from_there(db: Session, course: Course) -> None:
    teacher = course.teachers[0]
    other_context = Context(
        platform_id=teacher.context.platform_id,
        deployment_id=teacher.context.deployment_id,
        context_id="other",
        title="คณิตศาสตร์ ป.5",
    )
    elsewhere = Membership(context=other_context, person=teacher.person, app_role=teacher.app_role)
    db.add(elsewhere)
    db.flush()
    notice = service.notify(db, elsewhere, Kind.YEAR_ENDING, {}, model.Target())
    db.flush()
    assert notice is not None

    with pytest.raises(service.NoticeOfAnotherCourse) as raised:
        service.open_notice(db, as_actor(db, teacher), notice.id)

    assert raised.value.course_title == "คณิตศาสตร์ ป.5"
    assert notice.read_at is None
    assert service.open_notice(db, as_actor(db, elsewhere), notice.id).read_at is not None


def test_a_first_line_setup_needs_both_the_token_and_the_secret(db: Session, course: Course) -> None:
    course.admin.lti_roles = ["http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"]
    admin = as_actor(db, course.admin)

    with pytest.raises(InvalidInput) as no_token:
        line_linking.set_line_account(db, admin, "", "0123456789abcdef0123456789abcdef", "")
    with pytest.raises(InvalidInput) as no_secret:
        line_linking.set_line_account(db, admin, "a-token", "", "")

    assert [p.field for p in no_token.value.problems] == ["access_token"]
    assert [p.field for p in no_secret.value.problems] == ["channel_secret"]
    assert line.channel_of(db, course.admin.person.platform_id) is None
    line_linking.set_line_account(db, admin, "a-token", "0123456789abcdef0123456789abcdef", "")
    line_linking.set_line_account(db, admin, "", "", "@district")  # both kept: a blank keeps the one set before
    account = line.channel_of(db, course.admin.person.platform_id)
    assert account is not None and account.is_on and account.basic_id == "@district"
