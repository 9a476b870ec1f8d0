"""Drafts of typed text: kept for a week, one per person and form, readable only by their owner, never tokens or
secrets, and never large enough to be used as storage."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.base import utcnow
from models.drafts import (
    DRAFT_LIFETIME,
    MAX_FIELD_CHARS,
    MAX_FIELDS,
    Draft,
    discard_draft,
    draft_fields,
    drafts_of,
    keep_draft,
)
from tests.factories import make_course

PATH = "/program/cycles/1/reflection"
TEXT = {"text": ["นักเรียนใช้แถบเศษส่วนแล้วอธิบายได้"]}


def owner(db: Session, name: str = "drafts") -> tuple[int, int, int]:
    """(person, course, another person of the same course)."""
    course = make_course(db, name, teachers=2)
    first, second = course.teachers
    return first.person_id, first.context_id, second.person_id


def test_a_kept_draft_is_read_back_by_its_owner_in_that_course(db: Session) -> None:
    person, context, _ = owner(db)
    now = utcnow()

    keep_draft(db, person, context, PATH, TEXT, False, now)

    [draft] = drafts_of(db, person, context, now)
    assert (draft.path, draft.fields, draft.files_dropped) == (PATH, TEXT, False)
    assert draft.expires_at == now + DRAFT_LIFETIME


def test_another_person_of_the_same_course_reads_no_draft(db: Session) -> None:
    person, context, colleague = owner(db)
    keep_draft(db, person, context, PATH, TEXT, False, utcnow())

    assert drafts_of(db, colleague, context, utcnow()) == []


def test_the_same_person_in_another_course_reads_no_draft(db: Session) -> None:
    person, context, _ = owner(db)
    _, other_context, _ = owner(db, "another-course")
    keep_draft(db, person, context, PATH, TEXT, False, utcnow())

    assert drafts_of(db, person, other_context, utcnow()) == []


def test_a_draft_is_readable_until_a_week_has_passed(db: Session) -> None:
    person, context, _ = owner(db)
    then = utcnow()
    keep_draft(db, person, context, PATH, TEXT, False, then)

    assert len(drafts_of(db, person, context, then + DRAFT_LIFETIME - timedelta(minutes=1))) == 1


def test_a_draft_older_than_a_week_is_neither_read_nor_kept(db: Session) -> None:
    person, context, _ = owner(db)
    then = utcnow()
    keep_draft(db, person, context, PATH, TEXT, False, then)

    assert drafts_of(db, person, context, then + DRAFT_LIFETIME) == []
    assert db.scalar(select(func.count()).select_from(Draft)) == 0  # purged on read, not only hidden


def test_keeping_any_draft_purges_the_expired_ones_of_everybody(db: Session) -> None:
    person, context, colleague = owner(db)
    then = utcnow()
    keep_draft(db, person, context, PATH, TEXT, False, then)

    keep_draft(db, colleague, context, PATH, TEXT, False, then + DRAFT_LIFETIME + timedelta(seconds=1))

    assert db.scalars(select(Draft.person_id)).all() == [colleague]


def test_one_draft_per_person_and_form_the_newer_text_replaces_the_older(db: Session) -> None:
    person, context, _ = owner(db)
    now = utcnow()
    keep_draft(db, person, context, PATH, TEXT, True, now)

    keep_draft(db, person, context, PATH, {"text": ["ฉบับใหม่"]}, False, now + timedelta(minutes=5))

    [draft] = drafts_of(db, person, context, now + timedelta(minutes=5))
    assert (draft.fields, draft.files_dropped) == ({"text": ["ฉบับใหม่"]}, False)
    assert draft.expires_at == now + timedelta(minutes=5) + DRAFT_LIFETIME


def test_two_forms_keep_two_drafts(db: Session) -> None:
    person, context, _ = owner(db)
    keep_draft(db, person, context, PATH, TEXT, False, utcnow())
    keep_draft(db, person, context, "/program/sessions", {"notes": ["บันทึก"]}, False, utcnow())

    assert [d.path for d in drafts_of(db, person, context, utcnow())] == [
        "/program/cycles/1/reflection",
        "/program/sessions",
    ]


def test_a_post_with_nothing_typed_keeps_no_draft(db: Session) -> None:
    person, context, _ = owner(db)

    assert keep_draft(db, person, context, PATH, {"text": ["   "], "hours": [""]}, False, utcnow()) is None
    assert drafts_of(db, person, context, utcnow()) == []


def test_discarding_removes_only_that_forms_draft(db: Session) -> None:
    person, context, colleague = owner(db)
    keep_draft(db, person, context, PATH, TEXT, False, utcnow())
    keep_draft(db, person, context, "/program/sessions", {"notes": ["บันทึก"]}, False, utcnow())
    keep_draft(db, colleague, context, PATH, TEXT, False, utcnow())

    assert discard_draft(db, person, context, PATH) is True
    assert discard_draft(db, person, context, PATH) is False

    assert [d.path for d in drafts_of(db, person, context, utcnow())] == ["/program/sessions"]
    assert len(drafts_of(db, colleague, context, utcnow())) == 1


def test_form_tokens_session_tokens_and_secrets_are_never_kept() -> None:
    posted = [("csrf", "abc"), ("s", "signed"), ("password", "x"), ("api_token", "y"), ("text", "ข้อความ")]

    assert draft_fields(posted) == {"text": ["ข้อความ"]}


def test_repeated_fields_keep_every_value_in_order() -> None:
    posted = [("attendee", "3"), ("attendee", "5"), ("notes", "บันทึก")]

    assert draft_fields(posted) == {"attendee": ["3", "5"], "notes": ["บันทึก"]}


def test_a_field_longer_than_any_form_holds_is_capped() -> None:
    kept = draft_fields([("text", "ก" * (MAX_FIELD_CHARS + 500))])

    assert len(kept["text"][0]) == MAX_FIELD_CHARS


def test_a_post_of_very_many_fields_keeps_only_the_first_ones() -> None:
    kept = draft_fields((f"field-{n}", "x") for n in range(MAX_FIELDS + 40))

    assert len(kept) == MAX_FIELDS and "field-0" in kept and f"field-{MAX_FIELDS}" not in kept
