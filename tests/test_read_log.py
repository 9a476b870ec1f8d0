"""Who read what (PDPA) over real HTTP on SQLite and PostgreSQL: a trainer reading a teacher's reflection is logged,
a teacher reading their own is not; the site administrator searches only their platform's log and downloads it as
CSV; nobody else opens the log."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import requests
from sqlalchemy import delete, select

from models.base import utcnow
from models.calendar import program_day
from models.people import Membership, Person
from models.platform import Platform
from models.read_log import ReadLogEntry
from tests.conftest import TEACHER, TRAINER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_program_pages import Visit, trainer_visit
from tests.test_reflections_page import reflection_id, write
from tests.test_sessions_page import running_program_with_a_team
from tests.xapi.test_outbox_web import ADMIN as SITE_ADMIN


def entries(tool: ToolServer) -> list[tuple[str, str, str, int]]:
    """(reader, person read, kind, record id) of every entry, oldest first."""
    with tool.database.transaction() as db:
        people = {p.id: p.name for p in db.scalars(select(Person))}
        return [
            (people.get(e.reader_person_id or 0, ""), people.get(e.subject_person_id or 0, ""), e.kind, e.record_id)
            for e in db.scalars(select(ReadLogEntry).order_by(ReadLogEntry.id))
        ]


def admin_visit(tool: ToolServer, platform: TestPlatform) -> Visit:
    platform.add_user(SITE_ADMIN)
    return Visit(tool, launch(requests.Session(), platform, SITE_ADMIN))


def a_trainer_read_a_reflection(tool: ToolServer, platform: TestPlatform) -> int:
    running_program_with_a_team(tool, platform)
    write(Visit(tool, launch(requests.Session(), platform, TEACHER)), 1)
    rid = reflection_id(tool)
    assert trainer_visit(tool, platform).get(f"/program/reflections/{rid}").status_code == 200
    return rid


@contextmanager
def another_platforms_entry(tool: ToolServer) -> Iterator[None]:
    """A read on another platform, by people with names that would match a search here too."""
    with tool.database.transaction() as db:
        other = Platform(
            issuer="https://other-lms.example", client_id="x", name="Other", auth_login_url="https://o/a",
            auth_token_url="https://o/t", key_set_url="https://o/j",
        )  # fmt: skip
        db.add(other)
        db.flush()
        reader = Person(platform_id=other.id, sub="elsewhere-1", name=TRAINER.name)
        subject = Person(platform_id=other.id, sub="elsewhere-2", name=TEACHER.name)
        db.add_all([reader, subject])
        db.flush()
        db.add(
            ReadLogEntry(platform_id=other.id, reader_person_id=reader.id, subject_person_id=subject.id,
                         kind="reflection", record_id=999, read_at=datetime.now(UTC))
        )  # fmt: skip
    try:
        yield
    finally:
        with tool.database.transaction() as db:
            gone = db.scalars(select(Platform).where(Platform.issuer == "https://other-lms.example")).one()
            db.execute(delete(ReadLogEntry).where(ReadLogEntry.platform_id == gone.id))
            db.execute(delete(Person).where(Person.platform_id == gone.id))
            db.delete(gone)


# --- What is logged ---------------------------------------------------------------------------------------------


def test_a_trainer_reading_a_teachers_reflection_is_logged(tool: ToolServer, platform: TestPlatform) -> None:
    rid = a_trainer_read_a_reflection(tool, platform)

    assert entries(tool) == [(TRAINER.name, TEACHER.name, "reflection", rid)]
    with tool.database.transaction() as db:
        entry = db.scalars(select(ReadLogEntry)).one()
        reader = db.get(Membership, entry.reader_membership_id)
        assert reader is not None and entry.context_id == reader.context_id
        assert entry.platform_id == reader.context.platform_id


def test_a_teacher_reading_their_own_reflection_is_not_logged(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    write(teacher, 1)

    own = teacher.get("/program/cycles/1/reflection")
    logbook = teacher.get("/program/logbook")

    assert own.status_code == 200 and logbook.status_code == 200
    assert entries(tool) == []


def test_a_trainer_reading_a_teachers_logbook_is_logged_for_the_page_its_csv_and_its_pdf(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    teacher.get("/program")
    with tool.database.transaction() as db:
        member_id = db.scalars(select(Membership.id).join(Person).where(Person.sub == TEACHER.sub)).one()
    trainer = trainer_visit(tool, platform)

    for path in (f"/program/logbook/{member_id}", f"/program/logbook/{member_id}.csv"):
        assert trainer.get(path).status_code == 200, path

    assert entries(tool) == [(TRAINER.name, TEACHER.name, "logbook", member_id)] * 2


def test_a_refused_read_is_not_logged(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    write(teacher, 1)
    rid = reflection_id(tool)

    assert teacher.get(f"/program/reflections/{rid}").status_code == 403

    assert entries(tool) == []


# --- The administrator's search ---------------------------------------------------------------------------------


def test_the_site_administrator_sees_only_their_platforms_entries(tool: ToolServer, platform: TestPlatform) -> None:
    rid = a_trainer_read_a_reflection(tool, platform)
    admin = admin_visit(tool, platform)

    with another_platforms_entry(tool):
        page = admin.get("/admin/read-log", lang="en")
        by_subject = admin.get("/admin/read-log", lang="en", subject=TEACHER.name.split()[0])

    assert page.status_code == 200 and 'data-total="1"' in page.text
    assert TRAINER.name in page.text and TEACHER.name in page.text and f"#{rid}" in page.text
    assert "#999" not in page.text
    assert by_subject.status_code == 200 and 'data-total="1"' in by_subject.text and "#999" not in by_subject.text


def test_the_search_narrows_by_reader_person_read_and_days(tool: ToolServer, platform: TestPlatform) -> None:
    a_trainer_read_a_reflection(tool, platform)
    admin = admin_visit(tool, platform)
    today = program_day(utcnow()).isoformat()  # the search's days are Thai days

    assert 'data-total="1"' in admin.get("/admin/read-log", reader="กาญจนา", since=today, until=today).text
    assert 'data-total="0"' in admin.get("/admin/read-log", reader="สมศรี").text  # the teacher read nobody's
    assert 'data-total="0"' in admin.get("/admin/read-log", since="2099-01-01").text
    assert 'data-total="0"' in admin.get("/admin/read-log", until="2000-01-01").text


def test_a_day_that_is_not_one_is_refused_beside_its_field(tool: ToolServer, platform: TestPlatform) -> None:
    admin = admin_visit(tool, platform)

    page = admin.get("/admin/read-log", lang="en", since="yesterday")

    assert page.status_code == 422 and 'id="since-error"' in page.text and "Please enter a date." in page.text


def test_the_csv_export_holds_the_searched_rows_in_utf8_with_a_bom(tool: ToolServer, platform: TestPlatform) -> None:
    rid = a_trainer_read_a_reflection(tool, platform)
    admin = admin_visit(tool, platform)

    with another_platforms_entry(tool):
        exported = admin.get("/admin/read-log.csv", lang="th")
        nobody = admin.get("/admin/read-log.csv", reader="ไม่มีใคร")

    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    assert exported.content.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert header[2:4] == ["ผู้อ่าน (Reader)", "ผู้เป็นเจ้าของข้อมูล (Person read)"]
    assert [(r[2], r[3], r[5]) for r in rows] == [(TRAINER.name, TEACHER.name, str(rid))]
    assert "(reflection)" in rows[0][4] and "พ.ศ. 25" in rows[0][1]
    assert len(list(csv.reader(io.StringIO(nobody.content.decode("utf-8-sig"))))) == 1  # the header alone


def test_nobody_but_the_site_administrator_opens_the_read_log(tool: ToolServer, platform: TestPlatform) -> None:
    a_trainer_read_a_reflection(tool, platform)
    trainer = trainer_visit(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    for visit in (trainer, teacher):
        for path in ("/admin/read-log", "/admin/read-log.csv"):
            refused = visit.get(path, lang="en")
            assert refused.status_code == 403, path
            assert TEACHER.name not in refused.text and "text/csv" not in refused.headers["Content-Type"]
    assert requests.get(tool.url("/admin/read-log"), timeout=10).status_code == 401


def test_the_site_administrator_is_offered_the_read_log(tool: ToolServer, platform: TestPlatform) -> None:
    landing = admin_visit(tool, platform).get("/home", lang="en")

    assert "/admin/read-log" in landing.text and "Who read what" in landing.text
