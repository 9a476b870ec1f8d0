"""Goal met is a choice, over real launches: radio buttons in the results report, an answer not offered refused
beside them, the choice shown by its label, free text saved before kept visible, and the next cycle's problem
reflection starting from what the previous cycle's results report said the team will improve."""

from __future__ import annotations

import re

import requests
from sqlalchemy import select

from models.cycles import Cycle
from models.forms import FormEntry
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_cycle_pages import SCHOOL_HEAD, entries
from tests.test_program_pages import Visit
from tests.test_sessions_page import running_program_with_a_team

REPORT = {"summary": "นักเรียนผ่านเกณฑ์ร้อยละ 58 ต่ำกว่าเป้าหมาย", "goal_met": "not_met"}
IMPROVE = "ใช้บัตรสีแทนจำนวนบวกและลบ และทดสอบย่อยท้ายคาบ"


def teacher(tool: ToolServer, platform: TestPlatform) -> Visit:
    return Visit(tool, launch(requests.Session(), platform, TEACHER))


def send_report(visit: Visit, number: int, **answers: str) -> requests.Response:
    page = visit.get(f"/program/cycles/{number}")
    csrf = visit.csrf(page, f"/cycles/{number}/forms/results-report")
    return visit.post(f"/program/cycles/{number}/forms/results-report", {"csrf": csrf, **REPORT, **answers})


def form_of(page: requests.Response, slug: str) -> str:
    return page.text.split(f'id="{slug}"', 1)[1].split("</details>", 1)[0]


def test_the_results_report_asks_whether_the_goal_was_met_with_radio_buttons(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    form = form_of(teacher(tool, platform).get("/program/cycles/1"), "results-report")

    radios = re.findall(r'<input type="radio" id="([^"]+)" name="goal_met" value="([^"]+)"', form)
    assert [value for _, value in radios] == ["met", "not_met"]
    for radio_id, _ in radios:  # each radio has its label, inside one fieldset whose legend asks the question
        assert f'<label for="{radio_id}">' in form
    assert '<fieldset class="choice"' in form and "<legend>วงรอบนี้บรรลุเป้าหมายหรือไม่" in form
    assert ">บรรลุเป้าหมาย</label>" in form and ">ไม่บรรลุเป้าหมาย</label>" in form
    assert "checked" not in form.split('name="goal_met"', 1)[1].split("</fieldset>", 1)[0]


def test_an_answer_not_offered_is_refused_beside_the_choice_and_nothing_is_saved(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)

    refused = send_report(teacher(tool, platform), 1, goal_met="บรรลุบางส่วน")

    assert refused.status_code == 422
    choice = form_of(refused, "results-report").split('<fieldset class="choice"', 1)[1].split("</fieldset>", 1)[0]
    assert 'aria-invalid="true"' in choice and 'id="results-report-goal_met-error"' in choice
    assert "โปรดเลือกหนึ่งในคำตอบที่มีให้" in choice
    assert entries(tool) == []


def test_a_choice_saved_is_checked_when_the_form_opens_again_and_read_as_its_label(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    saved = send_report(teacher(tool, platform), 1)
    platform.add_user(SCHOOL_HEAD)
    head = Visit(tool, launch(requests.Session(), platform, SCHOOL_HEAD))

    read = form_of(head.get("/program/cycles/1"), "results-report")

    assert saved.status_code == 200 and [a["goal_met"] for _, _, a in entries(tool)] == ["not_met"]
    assert re.search(r'value="not_met" checked', form_of(saved, "results-report"))
    assert "<dd>ไม่บรรลุเป้าหมาย</dd>" in read and "not_met" not in read


def test_free_text_saved_before_the_choice_stays_visible_as_not_recorded_as_a_choice(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    send_report(teacher(tool, platform), 1)
    with tool.database.transaction() as db:  # as a team saved it while the field was free text
        entry = db.scalars(select(FormEntry)).one()
        entry.answers = {**entry.answers, "goal_met": "บรรลุบางส่วน"}
    platform.add_user(SCHOOL_HEAD)

    form = form_of(teacher(tool, platform).get("/program/cycles/1"), "results-report")
    read = form_of(
        Visit(tool, launch(requests.Session(), platform, SCHOOL_HEAD)).get("/program/cycles/1"), "results-report"
    )

    choice = form.split('<fieldset class="choice"', 1)[1].split("</fieldset>", 1)[0]
    assert "checked" not in choice and "“บรรลุบางส่วน”" in choice and "ไม่ได้บันทึกเป็นตัวเลือก" in choice
    assert 'บรรลุบางส่วน <span class="muted">(ไม่ได้บันทึกเป็นตัวเลือก)</span>' in read


def test_the_next_cycle_shows_what_the_previous_cycle_will_improve_at_the_top_of_its_problem_reflection(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    visit = teacher(tool, platform)
    send_report(visit, 1, improvements=IMPROVE)

    second = form_of(visit.get("/program/cycles/2"), "problem-reflection")
    first, third = visit.get("/program/cycles/1"), visit.get("/program/cycles/3")

    carried = second.split('<section class="carried"', 1)[1].split("</section>", 1)[0]
    assert "จากรายงานผลของวงรอบที่ 1" in carried and IMPROVE in carried and "ไม่บรรลุเป้าหมาย" in carried
    assert second.index('class="carried"') < second.index("<form")  # read-only, above the form
    assert 'class="carried"' not in first.text and 'class="carried"' not in third.text
    with tool.database.transaction() as db:
        assert [c.number for c in db.scalars(select(Cycle))] == [1]  # reading cycle 2 opened nothing


def test_nothing_is_carried_over_when_the_previous_report_names_no_improvement(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    visit = teacher(tool, platform)
    send_report(visit, 1, goal_met="met")

    assert 'class="carried"' not in visit.get("/program/cycles/2").text


def test_a_corrected_goal_shows_in_the_history_by_its_labels(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    visit = teacher(tool, platform)
    send_report(visit, 1)

    corrected = send_report(visit, 1, goal_met="met")

    history = form_of(corrected, "results-report").split('<table class="history">', 1)[1].split("</table>", 1)[0]
    assert "<del>ไม่บรรลุเป้าหมาย</del> → <ins>บรรลุเป้าหมาย</ins>" in history
    assert [a["goal_met"] for _, _, a in entries(tool)] == ["met"]
