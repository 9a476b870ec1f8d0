"""The approved plan is kept, over real HTTP launches: a submitted plan refuses every change until the submission is
withdrawn (its own confirmation, with a reason); version 2 shows what changed; the approval asks for the Council's
letter number and date beside their fields; after it the plan never changes, citing the guideline's clause 2.6; the
pages and the plan say which version they follow."""

from __future__ import annotations

import re
from datetime import timedelta

import requests
from sqlalchemy import select

from models.base import utcnow
from models.calendar import program_day
from models.plan_versions import PlanVersion
from models.program_history import ProgramChange, ProgramChangeKind
from models.states import ProgramState
from models.teams import Team
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_application_package import comparable, pdf_text
from tests.test_certificates import finished_program
from tests.test_program_confirm import confirm, state
from tests.test_program_pages import GOOD, Visit, create, take_step, trainer_visit
from tests.test_program_pages import LETTER as TEST_LETTER
from tests.test_program_teams import form_team, teachers_launch, teams_csrf

TODAY = program_day(utcnow())
LETTER = "ศธ 0206.4/1234"
REASON = "คุรุสภาขอให้แยกกลุ่ม PLC ของครูคณิตศาสตร์ออกเป็นสองกลุ่ม"
SECTION_2_6_TH = "ไม่เปลี่ยนแปลงโครงการหรือกิจกรรมระหว่างดำเนินการ"


def versions(tool: ToolServer) -> list[PlanVersion]:
    with tool.database.transaction() as db:
        return list(db.scalars(select(PlanVersion).order_by(PlanVersion.number)))


def team_names(tool: ToolServer) -> list[str]:
    with tool.database.transaction() as db:
        return sorted(db.scalars(select(Team.name)))


def submitted_program(tool: ToolServer, platform: TestPlatform) -> tuple[Visit, list[str]]:
    """A course's program with one team of three, submitted to the Council today; four teachers have launched."""
    names = teachers_launch(platform, 4)
    trainer = trainer_visit(tool, platform)
    create(trainer)
    form_team(trainer, tool, "กลุ่มคณิตศาสตร์", names[:3])
    assert take_step(trainer, "submit", submitted_on=TODAY.isoformat()).status_code == 200
    return trainer, names


def edit_token(trainer: Visit) -> str:
    """The program form's token, read while the plan is a draft (the form is bound to the session, not the page)."""
    return trainer.csrf(trainer.get("/program"), "?")


def remove_only_team(tool: ToolServer, trainer: Visit) -> requests.Response:
    with tool.database.transaction() as db:
        team_id = db.scalar(select(Team.id))
    return trainer.post(f"/program/teams/{team_id}/remove", {"csrf": teams_csrf(trainer)})


def error_beside(page: str, field: str) -> str:
    found = re.search(rf'id="{field}-error" class="field-error">([^<]*)<', page)
    return found.group(1) if found else ""


def test_submitting_keeps_version_1_and_the_pages_say_so(tool: ToolServer, platform: TestPlatform) -> None:
    trainer, _names = submitted_program(tool, platform)

    [version] = versions(tool)
    assert (version.number, version.submitted_on) == (1, TODAY)
    assert [t["name"] for t in version.snapshot["teams"]] == ["กลุ่มคณิตศาสตร์"]
    program_page = trainer.get("/program", lang="th").text
    assert "ฉบับที่ 1 ที่ยื่นเมื่อ" in program_page and 'id="plan-versions"' in program_page
    assert "ฉบับที่ 1 ที่ยื่นเมื่อ" in trainer.get("/program/teams", lang="th").text


def test_a_submitted_plan_refuses_every_change_and_says_to_withdraw_first(
    tool: ToolServer, platform: TestPlatform
) -> None:
    names = teachers_launch(platform, 4)
    trainer = trainer_visit(tool, platform)
    create(trainer)
    form_team(trainer, tool, "กลุ่มคณิตศาสตร์", names[:3])
    edit, teams = edit_token(trainer), teams_csrf(trainer)  # a page opened before the submission
    take_step(trainer, "submit", submitted_on=TODAY.isoformat())

    renamed = trainer.post("/program", {**GOOD, "name": "ชื่อใหม่", "csrf": edit})
    added = form_team(trainer, tool, "กลุ่มที่สอง", names[3:], teams)

    assert renamed.status_code == added.status_code == 409
    assert "withdraw the submission first" in renamed.text and "withdraw the submission first" in added.text
    assert team_names(tool) == ["กลุ่มคณิตศาสตร์"] and state(tool) == ProgramState.SUBMITTED
    page = trainer.get("/program", lang="th").text
    assert 'id="plan-frozen"' in page and "ถอนการยื่นก่อน" in page and "/program/confirm/withdraw" in page
    assert 'action="/program?' not in page  # no edit form while submitted


def test_withdrawing_asks_first_and_refuses_without_a_reason_beside_the_field(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer, _names = submitted_program(tool, platform)

    page = trainer.get("/program/confirm/withdraw", lang="th")
    assert page.status_code == 200 and state(tool) == ProgramState.SUBMITTED
    assert "ฉบับที่ 2" in page.text and 'name="reason"' in page.text

    refused = confirm(trainer, "withdraw", reason="   ")

    assert refused.status_code == 422 and error_beside(refused.text, "reason")
    assert state(tool) == ProgramState.SUBMITTED and not versions(tool)[0].withdrawn


def test_withdrawing_with_a_reason_makes_a_draft_kept_in_the_history_and_the_versions(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer, _names = submitted_program(tool, platform)

    done = confirm(trainer, "withdraw", reason=REASON)

    assert done.status_code == 200 and "Withdrew the submission" in done.text
    assert state(tool) == ProgramState.DRAFT
    [version] = versions(tool)
    assert (version.withdrawn_on, version.withdrawn_reason) == (TODAY, REASON)
    with tool.database.transaction() as db:
        [change] = db.scalars(select(ProgramChange))
        assert (change.kind, change.reason) == (ProgramChangeKind.WITHDRAWN, REASON)
    page = trainer.get("/program", lang="th").text
    assert "ร่าง (ยังไม่ได้ยื่นต่อคุรุสภา)" in page and REASON in page and "ถอนการยื่นต่อคุรุสภา" in page


def test_version_2_shows_what_changed_from_version_1(tool: ToolServer, platform: TestPlatform) -> None:
    trainer, names = submitted_program(tool, platform)
    confirm(trainer, "withdraw", reason=REASON)
    remove_only_team(tool, trainer)
    form_team(trainer, tool, "กลุ่มคณิตศาสตร์", [names[0], names[1], names[3]])
    draft = trainer.get("/program", lang="en").text
    assert 'id="plan-draft-changes"' in draft and f"members added: {names[3]}" in draft

    assert take_step(trainer, "submit", submitted_on=TODAY.isoformat()).status_code == 200

    first, second = versions(tool)
    assert first.withdrawn and second.number == 2 and not second.withdrawn
    page = trainer.get("/program", lang="th").text
    block = page.split('data-version="2"', 1)[1]
    assert "สิ่งที่เปลี่ยนไปจากฉบับที่ 1" in block
    assert f"สมาชิกที่เพิ่ม: {names[3]}" in block and f"สมาชิกที่ออก: {names[2]}" in block
    assert "ฉบับที่ 2 ที่ยื่นเมื่อ" in page and 'id="plan-draft-changes"' not in page


def test_the_approval_asks_the_letter_number_and_date_and_refuses_beside_them_keeping_the_text(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer, _names = submitted_program(tool, platform)
    page = trainer.get("/program/confirm/approve", lang="th")
    assert page.status_code == 200 and 'id="council_letter_number"' in page.text and 'id="approved_on"' in page.text
    assert SECTION_2_6_TH in page.text and state(tool) == ProgramState.SUBMITTED

    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    missing = confirm(trainer, "approve", council_letter_number=" ", approved_on=tomorrow)
    too_early = confirm(
        trainer, "approve", council_letter_number=LETTER, approved_on=(TODAY - timedelta(days=1)).isoformat()
    )
    no_date = confirm(trainer, "approve", council_letter_number="", approved_on="")

    assert missing.status_code == too_early.status_code == no_date.status_code == 422
    assert error_beside(missing.text, "council_letter_number") and "future" in error_beside(missing.text, "approved_on")
    assert "before it was submitted" in error_beside(too_early.text, "approved_on")
    assert f'value="{LETTER}"' in too_early.text  # the typed letter number is kept
    assert error_beside(no_date.text, "council_letter_number") and error_beside(no_date.text, "approved_on")
    assert state(tool) == ProgramState.SUBMITTED and not versions(tool)[0].approved


def test_the_approval_records_the_letter_against_the_version_and_the_pages_cite_it(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer, _names = submitted_program(tool, platform)

    done = confirm(trainer, "approve", council_letter_number=LETTER, approved_on=TODAY.isoformat())

    assert done.status_code == 200 and "Recorded the Council" in done.text
    [version] = versions(tool)
    assert (version.council_letter_number, version.council_letter_date) == (LETTER, TODAY)
    assert state(tool) == ProgramState.APPROVED
    for path in ("/program", "/program/teams"):
        assert f"ฉบับที่ 1 ที่คุรุสภาให้ความเห็นชอบ ตามหนังสือที่ {LETTER} ลงวันที่" in trainer.get(path, lang="th").text


def test_after_the_approval_every_change_is_refused_citing_clause_2_6(tool: ToolServer, platform: TestPlatform) -> None:
    trainer, names = submitted_program(tool, platform)
    csrf = teams_csrf(trainer)
    confirm(trainer, "approve", council_letter_number=LETTER, approved_on=TODAY.isoformat())

    added = form_team(trainer, tool, "กลุ่มที่สอง", names[3:], csrf)
    withdraw = confirm(trainer, "withdraw", reason=REASON)

    assert added.status_code == 409 and "clause 2.6: a program is not changed while it runs" in added.text
    assert withdraw.status_code == 409 and state(tool) == ProgramState.APPROVED
    page = trainer.get("/program", lang="th").text
    assert "ข้อ 2.6" in page and SECTION_2_6_TH in page and 'id="plan-frozen"' in page
    assert team_names(tool) == ["กลุ่มคณิตศาสตร์"] and len(versions(tool)) == 1


def test_the_old_direct_approval_post_only_leads_to_its_confirmation(tool: ToolServer, platform: TestPlatform) -> None:
    names = teachers_launch(platform, 3)
    trainer = trainer_visit(tool, platform)
    create(trainer)
    form_team(trainer, tool, "กลุ่มคณิตศาสตร์", names)
    steps = trainer.csrf(trainer.get("/program"), "/state")  # the steps' form of a page opened before the submission
    take_step(trainer, "submit", submitted_on=TODAY.isoformat())

    answer = trainer.post("/program/state", {"action": "approve", "approved_on": TODAY.isoformat(), "csrf": steps})

    assert answer.status_code == 200 and "/program/confirm/approve" in answer.url
    assert state(tool) == ProgramState.SUBMITTED and not versions(tool)[0].approved


def test_a_teacher_neither_withdraws_nor_approves_nor_reads_the_versions(
    tool: ToolServer, platform: TestPlatform
) -> None:
    submitted_program(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    assert teacher.get("/program/confirm/withdraw").status_code == 403
    assert (
        teacher.post("/program/confirm/approve", {"csrf": "0" * 64, "council_letter_number": LETTER}).status_code == 403
    )
    page = teacher.get("/program")
    assert 'id="plan-versions"' not in page.text and "ฉบับที่ 1 ที่ยื่นเมื่อ" in page.text
    assert state(tool) == ProgramState.SUBMITTED


def test_the_results_report_says_which_approved_version_it_follows(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)

    report = done.trainer.get("/program/report.pdf", lang="th")

    assert report.status_code == 200
    expected = f"แผนของโครงการ: ฉบับที่ 1 ที่คุรุสภาให้ความเห็นชอบ ตามหนังสือที่ {TEST_LETTER} ลงวันที่ 1 พฤศจิกายน 2569"
    assert comparable(expected) in pdf_text(report.content)
