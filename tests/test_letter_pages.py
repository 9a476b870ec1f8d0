"""The letters to the Council from the program page over real HTTP launches: the trainer types the letter number and
date and downloads the letter; a number left out is refused beside its field with what was typed kept; the request for
certificates waits for the end of the program, and a letter for an agency without its details says what is missing;
teachers print nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import requests
from sqlalchemy import select

from lti_tool.web.i18n import format_date_local
from models.base import utcnow
from models.calendar import program_day
from models.programs import Program
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_agency_pages import AGENCY, STAFF, post
from tests.test_cycle_pages import SCHOOL_HEAD
from tests.test_letter_documents import compact, text_layer
from tests.test_program_pages import Visit, take_step, trainer_visit
from tests.test_sessions_page import running_program_with_a_team

TODAY = program_day(utcnow())
THAI_TODAY = format_date_local(TODAY, "th").translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))


def letter_form(visit: Visit, kind: str) -> str:
    """The letter form's token on the program page."""
    page = visit.get("/program")
    form = page.text.split(f'id="letter-{kind}"', 1)[1].split("</form>", 1)[0]
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', form)
    assert match, form[:400]
    return match.group(1)


def download(visit: Visit, kind: str, **fields: str) -> requests.Response:
    data = {"number": "ศธ 04073/1234", "dated": TODAY.isoformat(), **fields, "csrf": letter_form(visit, kind)}
    return visit.post(f"/program/letters/{kind}.pdf", data)


def with_agency(trainer: Visit) -> None:
    """The agency set up while the plan is a draft: which agency runs it is part of what the Council approves."""
    post(trainer, "", AGENCY)
    post(trainer, "/staff", STAFF)


def program_with_agency(tool: ToolServer, platform: TestPlatform, start: bool = True) -> Visit:
    running_program_with_a_team(tool, platform, start=start, before_submit=with_agency)
    return trainer_visit(tool, platform)


def test_the_trainer_downloads_the_application_letter_with_the_number_and_date_typed(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = program_with_agency(tool, platform, start=False)

    got = download(trainer, "application")

    assert got.status_code == 200 and got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    text = text_layer(got.content)
    for words in ("ที่ ศธ ๐๔๐๗๓/๑๒๓๔", THAI_TODAY, "เลขาธิการคุรุสภา", "(นายสมชาย ตัวอย่าง)",
                  "รายชื่อผู้เข้าร่วมโครงการ จำนวน ๓ คน", "ใน ๑ กลุ่ม PLC", AGENCY["contact_unit"]):  # fmt: skip
        assert compact(words) in text, words


def test_a_letter_without_its_number_is_refused_beside_the_field_with_the_date_kept(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = program_with_agency(tool, platform, start=False)

    refused = download(trainer, "application", number="  ", dated="2026-12-01")
    too_long = download(trainer, "application", number="ศธ" * 40)

    assert refused.status_code == 422 and 'id="application-number-error"' in refused.text
    assert "Please fill this in." in refused.text and 'value="2026-12-01"' in refused.text
    assert too_long.status_code == 422 and "at most 64 characters" in too_long.text
    assert 'value="' + "ศธ" * 40 + '"' in too_long.text  # the text is kept, not cut
    not_a_date = download(trainer, "application", dated="5 ธันวาคม")
    assert not_a_date.status_code == 422 and 'id="application-dated-error"' in not_a_date.text


def test_the_request_for_certificates_waits_for_the_end_and_cites_the_councils_approval_letter(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = program_with_agency(tool, platform)
    running = trainer.get("/program").text
    assert 'id="letter-certificates-not-ready"' in running and "once the program has ended" in running
    forged = trainer.post(
        "/program/letters/certificates.pdf",
        {"number": "ศธ 1/2", "dated": "2026-12-05", "csrf": letter_form(trainer, "application")},
    )
    assert forged.status_code == 409 and "once the program has ended" in forged.text

    take_step(trainer, "end")
    ended = trainer.get("/program").text
    # The approval recorded the Council's letter against the plan version it approved: the request cites it.
    assert 'id="letter-certificates-no-reference"' not in ended and 'id="letter-certificates-none-issued"' in ended
    got = download(trainer, "certificates")

    assert got.status_code == 200
    text = text_layer(got.content)
    assert compact("อ้างถึง หนังสือสำนักงานเลขาธิการคุรุสภา ที่ ศธ ๐๐๐๐/ทดสอบ (synthetic) ลงวันที่") in text
    assert "ยังไม่ได้บันทึกเลขที่" not in text
    assert compact("รายงานผลการจัดกิจกรรม จำนวน ๑ เล่ม") in text and compact("จำนวน ๐ ฉบับ") in text


def test_a_letter_names_what_the_agency_still_lacks(tool: ToolServer, platform: TestPlatform) -> None:
    def without_signatory(trainer: Visit) -> None:
        assert "the agency that runs the program" in trainer.get("/program").text  # no agency yet
        post(trainer, "", {**AGENCY, "signatory_name": "", "telephone": ""})

    running_program_with_a_team(tool, platform, start=False, before_submit=without_signatory)
    trainer = trainer_visit(tool, platform)

    page = trainer.get("/program").text

    assert 'id="letter-application-not-ready"' in page
    assert "the name of who signs" in page and "the telephone number" in page


def test_an_administrator_prints_the_letters_and_a_teacher_does_not(tool: ToolServer, platform: TestPlatform) -> None:
    program_with_agency(tool, platform, start=False)
    platform.add_user(SCHOOL_HEAD)
    head = Visit(tool, launch(requests.Session(), platform, SCHOOL_HEAD))
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    assert download(head, "application").status_code == 200
    assert 'id="letters"' not in teacher.get("/program").text
    refused = teacher.post("/program/letters/application.pdf", {"number": "1", "dated": "2026-12-05", "csrf": "0" * 64})
    assert refused.status_code == 403


def test_a_letter_dated_in_the_future_or_a_request_dated_before_the_end_is_refused_beside_the_date(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = program_with_agency(tool, platform)
    future = download(trainer, "application", dated=(TODAY + timedelta(days=1)).isoformat())
    assert future.status_code == 422 and 'id="application-dated-error"' in future.text
    take_step(trainer, "end")

    early = download(trainer, "certificates", dated=(TODAY - timedelta(days=1)).isoformat())

    assert early.status_code == 422 and 'id="certificates-dated-error"' in early.text
    assert "cannot be dated before the program" in early.text


def test_a_request_for_certificates_after_the_30_days_says_it_is_late_instead_of_within_them(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = program_with_agency(tool, platform)
    take_step(trainer, "end")
    on_time = text_layer(download(trainer, "certificates").content)
    assert compact("ภายใน ๓๐ วัน นับจากวันสิ้นสุดการดำเนินการ") in on_time and compact("พ้นกำหนด") not in on_time
    with tool.database.transaction() as db:  # the program ended 31 days ago: the Council's 30 days are over
        program = db.scalars(select(Program).where(Program.state == "ended")).one()
        program.ended_on = TODAY - timedelta(days=31)

    late = text_layer(download(trainer, "certificates").content)

    assert compact("ซึ่งพ้นกำหนด ๓๐ วัน นับจากวันสิ้นสุดการดำเนินการ") in late
    assert compact("ภายใน ๓๐ วัน") not in late
