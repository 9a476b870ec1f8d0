"""Every save says what it saved, with a link to the item, through the redirect's `?saved=` (no cookie), and a
refused save says nothing of the kind (real HTTP)."""

from __future__ import annotations

import html
import re

import requests

from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_cycle_pages import PROBLEM_FORM
from tests.test_program_pages import Visit, create, trainer_visit
from tests.test_program_teams import form_team, teachers_launch
from tests.test_sessions_page import running_program_with_a_team

NOTICE = re.compile(r'<p class="notice" role="status">(.*?) <a href="([^"]+)">(.*?)</a></p>', re.S)


def notice(page: requests.Response) -> tuple[str, str, str] | None:
    found = NOTICE.search(page.text)
    return (html.unescape(found.group(1)), html.unescape(found.group(2)), found.group(3)) if found else None


def test_saving_the_program_says_so_with_a_link_to_it(tool: ToolServer, platform: TestPlatform) -> None:
    page = create(trainer_visit(tool, platform))

    assert page.status_code == 200 and "saved=program" in page.url
    text, link, label = notice(page)  # type: ignore[misc]
    assert text == "Saved the program's details." and link.startswith("/program?") and label == "Open it"


def test_a_refused_program_save_says_nothing_was_saved_rather_than_saved(
    tool: ToolServer, platform: TestPlatform
) -> None:
    page = create(trainer_visit(tool, platform), name="")

    assert page.status_code == 422 and notice(page) is None


def test_forming_a_team_names_it_and_links_to_it(tool: ToolServer, platform: TestPlatform) -> None:
    names = teachers_launch(platform, 3)
    trainer = trainer_visit(tool, platform)
    create(trainer)

    page = form_team(trainer, tool, "กลุ่มคณิตศาสตร์", names)

    text, link, _ = notice(page)  # type: ignore[misc]
    assert text == "Formed the team “กลุ่มคณิตศาสตร์” with its plan of roles."
    team_id = re.search(r"formed=(\d+)", page.url).group(1)  # type: ignore[union-attr]
    assert link.endswith(f"#team-{team_id}") and f'id="team-{team_id}"' in page.text


def test_a_saved_code_that_names_no_team_of_the_course_shows_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)

    assert notice(trainer.get("/program/teams", saved="team", formed="999999")) is None
    assert notice(trainer.get("/program/teams", saved="no-such-code")) is None


def test_saving_a_cycles_target_says_so_in_thai_with_a_link_to_it(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = teacher.get("/program/cycles/2")

    saved = teacher.post(
        "/program/cycles/2/target", {"csrf": teacher.csrf(page, "/cycles/2/target"), "problem": "อ่านจับใจความไม่ได้"}
    )

    text, link, label = notice(saved)  # type: ignore[misc]
    assert text == "บันทึกปัญหาและผลลัพธ์ของวงรอบที่ 2 แล้ว" and label == "เปิดดู"
    assert link.startswith("/program/cycles/2?") and link.endswith("#target")


def test_saving_a_tracking_form_names_the_form(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = teacher.get("/program/cycles/1")
    csrf = teacher.csrf(page, "/cycles/1/forms/problem-reflection")

    saved = teacher.post("/program/cycles/1/forms/problem-reflection", {"csrf": csrf, **PROBLEM_FORM})

    text, link, _ = notice(saved)  # type: ignore[misc]
    assert text.startswith("บันทึก “แบบติดตามการสะท้อนปัญหา") and text.endswith("ของวงรอบที่ 1 แล้ว")
    assert link.endswith("#problem-reflection")


def test_a_tracking_form_dated_outside_the_program_year_is_refused_beside_the_field_without_a_saved_notice(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = teacher.get("/program/cycles/1")
    csrf = teacher.csrf(page, "/cycles/1/forms/problem-reflection")

    refused = teacher.post(
        "/program/cycles/1/forms/problem-reflection", {"csrf": csrf, **PROBLEM_FORM, "lesson_date": "2031-01-01"}
    )

    assert refused.status_code == 422 and notice(refused) is None
    assert re.search(
        r'id="problem-reflection-lesson_date-error" class="field-error">วันที่ต้องอยู่ในปีของโครงการ ตั้งแต่ 1 พฤศจิกายน 2569',
        refused.text,
    )
