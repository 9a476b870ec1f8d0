"""PLC journeys in a real browser (Debian's Chromium): a teacher follows "what to do next" into the cycle and
writes a reflection; a trainer grades it with the rubric by keyboard and mouse; pages fit Moodle's 800 px iframe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from models.reflections import Grade
from tests.conftest import TEACHER, TRAINER, ToolServer, launch
from tests.support.lti_platform import LaunchUser, TestPlatform
from tests.test_program_pages import Visit
from tests.test_program_teams import COLLEAGUES
from tests.test_progress_page import observe_every_cycle
from tests.test_reflections_page import write
from tests.test_sessions_page import record, running_program_with_a_team

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = pytest.mark.browser


def open_as(browser: Any, platform: TestPlatform, user: LaunchUser, width: int = 800) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900}, locale="th-TH")
    page.goto(
        platform.initiation_url(
            sub=user.sub,
            context_id="course-42",
            context_title="PLC วิทยาศาสตร์ ม.2",
            resource_link_id="rl-7",
            resource_link_title="วงรอบ PLC ที่ 1",
        )
    )
    page.wait_for_url("**/home?**", timeout=15_000)
    return page


def fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_a_teacher_follows_what_to_do_next_into_the_cycle_and_writes_a_reflection(
    tool: ToolServer, platform: TestPlatform, browser: Any
) -> None:
    running_program_with_a_team(tool, platform)
    record(
        Visit(tool, launch(requests.Session(), platform, TEACHER)),
        cycle="1",
        element="1",
        held_on="2026-11-20",
        hours="2",
    )
    page = open_as(browser, platform, TEACHER)
    page.get_by_role("heading", name="สิ่งที่ต้องทำต่อไป").wait_for()
    assert fits(page)
    shot(page, "teacher-what-to-do-next-th.png")

    page.get_by_role("link", name="เปิดวงรอบที่ 1").click()
    page.get_by_role("heading", name="องค์ประกอบทั้งห้า").wait_for()
    page.locator("#problem-reflection summary").press("Enter")  # the form opens from the keyboard
    page.get_by_label("ปัญหาการเรียนรู้ของผู้เรียนที่กลุ่มเลือก").fill("นักเรียน ม.1 แก้โจทย์ปัญหาเศษส่วนไม่ได้")
    assert fits(page)
    shot(page, "cycle-page-th.png")

    page.get_by_role("link", name="การสะท้อนผลของคุณ").click()
    page.get_by_label("การสะท้อนผลของคุณ").fill("นักเรียนใช้แถบเศษส่วนแล้วอธิบายได้ดีขึ้น")
    page.get_by_role("button", name="ส่งการสะท้อนผล").click()
    page.get_by_text("บันทึกการสะท้อนผลของคุณแล้ว").wait_for()
    assert fits(page)
    page.close()


def test_a_trainer_grades_a_reflection_with_the_rubric(tool: ToolServer, platform: TestPlatform, browser: Any) -> None:
    running_program_with_a_team(tool, platform)
    write(Visit(tool, launch(requests.Session(), platform, TEACHER)), 1, "นักเรียนใช้แถบเศษส่วนแล้วอธิบายได้ดีขึ้น")
    page = open_as(browser, platform, TRAINER)

    page.get_by_role("link", name="Reflections to grade").click()
    page.get_by_role("link", name=TEACHER.name).click()
    for radio in page.locator("input[type=radio][value='3']").all():
        radio.check()
    page.get_by_label("4 Exemplary").first.check()
    page.get_by_label("Comment to the teacher").fill("อธิบายหลักฐานได้ชัดเจน")
    assert fits(page)
    page.get_by_role("button", name="Save the grade").press("Enter")

    page.get_by_text("The grade is saved.").wait_for()
    page.get_by_text("Score: 16 of 20").wait_for()
    shot(page, "trainer-grades-a-reflection-en.png")
    with tool.database.transaction() as db:
        assert [str(g.total) for g in db.scalars(select(Grade))] == ["16.00"]
    page.goto(page.url.replace("lang=en", "") + "&lang=th")
    page.get_by_text("คะแนน 16 จาก 20").wait_for()
    shot(page, "trainer-grades-a-reflection-th.png")
    page.close()


def test_progress_shows_eligibility_to_the_teacher_and_the_trainer(
    tool: ToolServer, platform: TestPlatform, browser: Any
) -> None:
    running_program_with_a_team(tool, platform)
    teachers = [Visit(tool, launch(requests.Session(), platform, user)) for user in (TEACHER, *COLLEAGUES[:2])]
    observe_every_cycle(tool)
    for number in (1, 2):
        for element in (1, 2, 3, 4, 5):
            record(teachers[0], cycle=str(number), element=str(element), held_on="2026-11-20", hours="3.5")
        for teacher in teachers:
            write(teacher, number)
    record(teachers[0], cycle="3", element="1", held_on="2026-11-21", hours="2")

    page = open_as(browser, platform, TEACHER)
    page.get_by_role("link", name="ความก้าวหน้าของคุณ").click()
    page.get_by_text("ยังไม่ผ่านเกณฑ์").wait_for()
    page.get_by_text("ครบ 2 วงรอบ จาก 3 วงรอบที่คุรุสภากำหนด").wait_for()
    assert fits(page)
    shot(page, "teacher-progress-th.png")
    page.close()

    trainer = open_as(browser, platform, TRAINER)
    trainer.get_by_role("link", name="Progress of the program").first.click()
    trainer.get_by_text("0 of 3 teachers are eligible for the certificate.").wait_for()
    assert fits(trainer)
    trainer.close()
