"""The agency page over real HTTP launches (seed 004 §1, §2.1): the course's trainers set up the agency that runs the
program, correct it and list its staff with their PLC training; bad input is refused beside its field with the text
kept; removing a staff member asks first; administrators read; teachers and other courses see nothing of it."""

from __future__ import annotations

import re

import requests
from flask_babel import force_locale
from sqlalchemy import select

from lti_tool.web.messages import AGENCY_KINDS
from models.agencies import KIND_NAMES, Agency, AgencyKind, AgencyStaff
from models.programs import Program
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_cycle_pages import SCHOOL_HEAD
from tests.test_program_pages import GOOD, Visit, create, trainer_visit

AGENCY = {
    "kind": "service_area_office",
    "name": "สำนักงานเขตพื้นที่การศึกษาประถมศึกษานครปฐม เขต 2 (ข้อมูลสมมติ)",
    "address": "ถนนมาลัยแมน ตำบลสนามจันทร์\nอำเภอเมืองนครปฐม จังหวัดนครปฐม 73000",
    "signatory_name": "นายสมชาย ตัวอย่าง",
    "signatory_position": "ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษาประถมศึกษานครปฐม เขต 2",
    "contact_unit": "กลุ่มนิเทศ ติดตามและประเมินผลการจัดการศึกษา",
    "telephone": "0 3425 8100",
}
STAFF = {
    "name": "นางสาววิไล ศึกษานิเทศก์",
    "position": "ศึกษานิเทศก์ชำนาญการพิเศษ",
    "training": "หลักสูตรการขับเคลื่อน PLC ของคุรุสภา (ข้อมูลสมมติ)",
    "trained_on": "2025-08-20",
}


def token(page: requests.Response, action: str) -> str:
    form = page.text.split(f'action="/program/agency{action}', 1)[1]
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', form)
    assert match, "no CSRF token in the form"
    return match.group(1)


def post(
    visit: Visit, action: str, data: dict[str, str], page_action: str | None = None, **query: str
) -> requests.Response:
    page = visit.get("/program/agency", **query)
    return visit.post(
        f"/program/agency{action}", {**data, "csrf": token(page, action if page_action is None else page_action)}
    )


def agencies(tool: ToolServer) -> list[tuple[str, AgencyKind, list[str]]]:
    with tool.database.transaction() as db:
        return [(a.name, a.kind, [s.name for s in a.staff]) for a in db.scalars(select(Agency).order_by(Agency.id))]


def program_agency_id(tool: ToolServer) -> int | None:
    with tool.database.transaction() as db:
        return db.scalars(select(Program.agency_id)).one()


def set_up(tool: ToolServer, platform: TestPlatform, course: str = "course-42") -> Visit:
    """A trainer's course with a program run by the agency above, with one staff member."""
    trainer = trainer_visit(tool, platform, course=course)
    create(trainer)
    assert post(trainer, "", AGENCY).status_code == 200
    assert post(trainer, "/staff", STAFF).status_code == 200
    return trainer


def test_the_trainer_sets_up_the_agency_with_its_kind_and_the_program_is_run_by_it(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)

    page = post(trainer, "", AGENCY)

    assert page.status_code == 200 and "Saved the agency" in page.text  # this trainer launches in English
    assert "Educational service area office" in page.text
    [(name, kind, _staff)] = agencies(tool)
    assert (name, kind) == (AGENCY["name"], AgencyKind.SERVICE_AREA_OFFICE)
    with tool.database.transaction() as db:
        program = db.scalars(select(Program)).one()
        assert program.agency_id is not None and program.agency == AGENCY["name"]
    assert AGENCY["name"] in trainer.get("/program").text


def test_the_agency_page_names_the_kinds_in_the_guidelines_own_thai_words(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)

    page = trainer.get("/program/agency", lang="th").text

    for words in ("ศึกษานิเทศก์", "ศึกษานิเทศจังหวัด", "กองการศึกษา", "หน่วยงานระดับสำนักงานเขตพื้นที่",
                  "องค์กรปกครองส่วนท้องถิ่น", "สถาบันอุดมศึกษา", "หน่วยงานทางการศึกษาอื่น"):  # fmt: skip
        assert f">{words}</option>" in page


def test_bad_agency_input_is_refused_beside_each_field_in_thai_and_english_and_nothing_is_written(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)
    bad = {**AGENCY, "name": "  ", "telephone": "0" * 65, "kind": "ministry"}

    english = post(trainer, "", bad)
    page = trainer.get("/program/agency", lang="th")
    thai = trainer.browser.post(
        tool.url("/program/agency"), params={"s": trainer.token, "lang": "th"}, data={**bad, "csrf": token(page, "")}
    )

    assert english.status_code == thai.status_code == 422
    for field in ("name", "telephone", "kind"):
        assert f'id="agency-{field}-error"' in english.text and f'id="agency-{field}-error"' in thai.text
    assert "Please fill this in." in english.text and "at most 64 characters" in english.text
    assert "โปรดกรอกช่องนี้" in thai.text and "ไม่เกิน 64 ตัวอักษร" in thai.text
    assert AGENCY["signatory_name"] in english.text  # what was typed is kept
    assert agencies(tool) == [] and program_agency_id(tool) is None


def test_the_trainer_adds_corrects_and_removes_staff_with_a_confirmation(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = set_up(tool, platform)
    [(_name, _kind, staff)] = agencies(tool)
    assert staff == [STAFF["name"]]
    with tool.database.transaction() as db:
        staff_id = db.scalars(select(AgencyStaff.id)).one()

    corrected = post(trainer, f"/staff/{staff_id}", {**STAFF, "position": "ศึกษานิเทศก์เชี่ยวชาญ"}, staff=str(staff_id))
    assert corrected.status_code == 200 and "Corrected the details of" in corrected.text
    assert "ศึกษานิเทศก์เชี่ยวชาญ" in corrected.text
    assert "20 สิงหาคม 2568" in trainer.get("/program/agency", lang="th").text  # the training date in the Buddhist Era

    asking = trainer.get(f"/program/agency/staff/{staff_id}/remove")
    assert asking.status_code == 200 and "Remove" in asking.text
    assert agencies(tool)[0][2] == [STAFF["name"]]  # reading the confirmation changed nothing
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', asking.text)
    assert csrf
    removed = trainer.post(f"/program/agency/staff/{staff_id}/remove", {"csrf": csrf.group(1)})

    assert removed.status_code == 200 and "Removed" in removed.text
    assert agencies(tool)[0][2] == []


def test_a_removal_without_its_own_token_changes_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    trainer = set_up(tool, platform)
    with tool.database.transaction() as db:
        staff_id = db.scalars(select(AgencyStaff.id)).one()
    page = trainer.get("/program/agency")

    refused = trainer.post(f"/program/agency/staff/{staff_id}/remove", {"csrf": token(page, "/staff")})

    assert refused.status_code == 400 and agencies(tool)[0][2] == [STAFF["name"]]


def test_a_training_date_to_come_or_missing_is_refused_beside_its_field_with_the_text_kept(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = set_up(tool, platform)

    future = post(trainer, "/staff", {**STAFF, "name": "ครูใหม่ (ข้อมูลสมมติ)", "trained_on": "2999-01-01"})
    missing = post(trainer, "/staff", {**STAFF, "name": "ครูใหม่ (ข้อมูลสมมติ)", "trained_on": "", "training": ""})

    assert future.status_code == missing.status_code == 422
    assert 'id="staff-trained_on-error"' in future.text and "The date is in the future." in future.text
    assert 'id="staff-trained_on-error"' in missing.text and 'id="staff-training-error"' in missing.text
    assert "ครูใหม่ (ข้อมูลสมมติ)" in future.text and "ครูใหม่ (ข้อมูลสมมติ)" in missing.text
    assert agencies(tool)[0][2] == [STAFF["name"]]


def test_an_administrator_reads_the_agency_but_cannot_change_it_and_a_teacher_sees_nothing(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = set_up(tool, platform)
    platform.add_user(SCHOOL_HEAD)
    head = Visit(tool, launch(requests.Session(), platform, SCHOOL_HEAD))
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    read = head.get("/program/agency")
    refused = head.post(
        "/program/agency", {**AGENCY, "name": "ชื่อใหม่", "csrf": token(trainer.get("/program/agency"), "")}
    )

    assert read.status_code == 200 and AGENCY["name"] in read.text and STAFF["name"] in read.text
    assert 'id="agency-form"' not in read.text
    assert refused.status_code == 403 and agencies(tool)[0][0] == AGENCY["name"]
    assert teacher.get("/program/agency").status_code == 403
    assert teacher.post("/program/agency/staff", {**STAFF, "csrf": "0" * 64}).status_code == 403


def test_another_courses_agency_is_neither_shown_nor_chosen_nor_changed(
    tool: ToolServer, platform: TestPlatform
) -> None:
    set_up(tool, platform, course="course-42")
    with tool.database.transaction() as db:
        other_agency = db.scalars(select(Agency.id)).one()
        other_staff = db.scalars(select(AgencyStaff.id)).one()
    trainer = trainer_visit(tool, platform, course="course-43")
    create(trainer)
    post(trainer, "", {**AGENCY, "name": "กองการศึกษา เทศบาลตัวอย่าง (ข้อมูลสมมติ)"})

    page = trainer.get("/program/agency")
    chosen = post(trainer, "/choose", {"agency": str(other_agency)}, page_action="")
    removal = trainer.get(f"/program/agency/staff/{other_staff}/remove")
    removed = post(trainer, f"/staff/{other_staff}/remove", {}, page_action="/staff")
    corrected = post(trainer, f"/staff/{other_staff}", {**STAFF, "name": "แก้ชื่อ"}, page_action="/staff")

    assert AGENCY["name"] not in page.text and STAFF["name"] not in page.text
    assert chosen.status_code == removal.status_code == corrected.status_code == 404
    assert removed.status_code == 400  # no token of this course's pages removes it
    assert [staff for _name, _kind, staff in agencies(tool)] == [[STAFF["name"]], []]


def test_the_trainer_chooses_another_agency_of_the_course_while_the_plan_may_change(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = set_up(tool, platform)
    first = program_agency_id(tool)

    made = post(
        trainer, "/new", {**AGENCY, "kind": "university", "name": "มหาวิทยาลัยตัวอย่าง (ข้อมูลสมมติ)"}, page_action="", new="1"
    )
    assert made.status_code == 200 and program_agency_id(tool) != first
    back = post(trainer, "/choose", {"agency": str(first)}, page_action="")

    assert back.status_code == 200 and "is now run by" in back.text
    assert program_agency_id(tool) == first and len(agencies(tool)) == 2


def test_a_program_set_up_with_an_agencys_name_offers_it_when_the_agency_is_set_up(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer, agency="กองการศึกษา องค์การบริหารส่วนจังหวัดตัวอย่าง")

    page = trainer.get("/program/agency").text

    assert 'id="no-agency"' in page
    assert 'value="กองการศึกษา องค์การบริหารส่วนจังหวัดตัวอย่าง"' in page.split('id="agency-form"', 1)[1]


def test_the_pages_name_each_kind_as_the_documents_do_in_thai_and_in_english(tool: ToolServer) -> None:
    with tool.app.test_request_context():
        for lang in ("th", "en"):
            with force_locale(lang):
                assert {k: str(v) for k, v in AGENCY_KINDS.items()} == {k.value: n[lang] for k, n in KIND_NAMES.items()}


def test_an_approved_programs_agency_keeps_the_name_it_was_sent_to_the_council_with(
    tool: ToolServer, platform: TestPlatform
) -> None:
    """Which agency runs the program is part of the plan the Council approved (seed 004 §2.6)."""
    from tests.test_sessions_page import running_program_with_a_team

    running_program_with_a_team(tool, platform, start=False)  # approved, set up before its agency was kept
    trainer = trainer_visit(tool, platform)
    before = tool.snapshot()

    other = post(trainer, "", {**AGENCY, "name": "มหาวิทยาลัยตัวอย่าง (ข้อมูลสมมติ)"}, lang="en")

    assert other.status_code == 409 and "2.6" in other.text
    assert tool.snapshot() == before and program_agency_id(tool) is None
    kept = post(trainer, "", {**AGENCY, "name": GOOD["agency"]})
    assert kept.status_code == 200 and program_agency_id(tool) is not None
    with tool.database.transaction() as db:
        assert db.scalars(select(Program.agency)).one() == GOOD["agency"]
