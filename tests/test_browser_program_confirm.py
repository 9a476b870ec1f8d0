"""Weighty steps in a real browser (Debian's Chromium, 800 px, Thai): End asks first and going back changes nothing;
confirming ends the program; reopening with a reason works until a certificate is issued; a cancelled program stays
readable and the course sets up a new one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from models.states import ProgramState
from tests.conftest import TRAINER, ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_browser_plc import fits, open_as
from tests.test_certificates import finished_program, issue, wait_for_job
from tests.test_program_confirm import state
from tests.test_program_pages import create, programs, trainer_visit

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
REASON = "บันทึกการประชุมองค์ประกอบที่ 5 ของวงรอบที่ 3 ตกหล่น ต้องบันทึกเพิ่ม"

pytestmark = pytest.mark.browser


@pytest.fixture
def thai_trainer(platform: TestPlatform) -> Iterator[None]:
    """The same trainer, whose LMS is in Thai for this test; the platform is shared, so English again afterwards."""
    platform.add_user(replace(TRAINER, locale="th"))
    yield
    platform.add_user(TRAINER)


def program_page(browser: Any, platform: TestPlatform) -> Any:
    page = open_as(browser, platform, TRAINER)
    page.goto(page.url.replace("/home?", "/program?"))
    page.get_by_role("heading", name="โครงการ PLC").wait_for()
    return page


def test_a_trainer_ends_after_a_confirmation_and_reopens_with_a_reason_until_a_certificate_is_issued(
    tool: ToolServer, platform: TestPlatform, browser: Any, thai_trainer: None
) -> None:
    done = finished_program(tool, platform, end=False)
    page = program_page(browser, platform)
    assert page.locator("#next-work a.button").count() in (0, 1)  # the main button is the next cycle, not End

    page.get_by_role("link", name="สิ้นสุดโครงการ").click()
    page.get_by_role("heading", name="สิ้นสุดโครงการหรือไม่?").wait_for()
    assert "30 วัน" in page.locator("#confirm-follows").inner_text()
    assert fits(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "confirm-end-program-th.png"), full_page=True)

    page.get_by_role("link", name="ย้อนกลับ: ไม่เปลี่ยนแปลงอะไร").click()
    page.get_by_role("heading", name="โครงการ PLC").wait_for()
    assert state(tool) == ProgramState.RUNNING

    page.get_by_role("link", name="สิ้นสุดโครงการ").click()
    page.get_by_role("button", name="สิ้นสุดโครงการ").click()
    page.get_by_role("heading", name="โครงการ PLC").wait_for()
    assert state(tool) == ProgramState.ENDED

    page.get_by_role("link", name="เปิดโครงการอีกครั้ง").click()
    page.get_by_label("เหตุผล (เก็บไว้ในประวัติของโครงการ)").fill(REASON)
    page.get_by_role("button", name="เปิดโครงการอีกครั้ง").click()
    page.locator("#program-history").wait_for()
    assert state(tool) == ProgramState.RUNNING and REASON in page.locator("#program-history").inner_text()
    assert fits(page)
    page.locator("#program-history").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "program-history-th.png"), full_page=True)

    page.get_by_role("link", name="สิ้นสุดโครงการ").click()
    page.get_by_role("button", name="สิ้นสุดโครงการ").click()
    page.get_by_role("heading", name="โครงการ PLC").wait_for()
    wait_for_job(done.trainer, issue(done.trainer))
    page.reload()
    page.get_by_role("link", name="เปิดโครงการอีกครั้ง").click()
    page.get_by_label("เหตุผล (เก็บไว้ในประวัติของโครงการ)").fill(REASON)
    page.get_by_role("button", name="เปิดโครงการอีกครั้ง").click()
    page.get_by_role("alert").wait_for()
    assert "เพิกถอน" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("เหตุผล (เก็บไว้ในประวัติของโครงการ)").input_value() == REASON
    assert state(tool) == ProgramState.ENDED
    page.close()


def test_a_cancelled_program_stays_readable_and_a_new_program_is_set_up_in_the_same_course(
    tool: ToolServer, platform: TestPlatform, browser: Any, thai_trainer: None
) -> None:
    create(trainer_visit(tool, platform), name="โครงการปีที่แล้ว (ข้อมูลสังเคราะห์)")
    page = program_page(browser, platform)

    page.get_by_role("link", name="ยกเลิกโครงการ").click()
    page.get_by_label("หน่วยงานที่ดำเนินโครงการ").check()
    page.get_by_label("เหตุผล (เก็บไว้ในประวัติของโครงการ)").fill("คุรุสภาขอให้เสนอใหม่ในปีการศึกษาหน้า")
    page.get_by_role("button", name="ยกเลิกโครงการ").click()
    page.locator("#earlier-programs").wait_for()

    page.get_by_role("link", name="โครงการปีที่แล้ว (ข้อมูลสังเคราะห์)").click()
    page.locator("#cancellation").wait_for()
    assert "คุรุสภาขอให้เสนอใหม่" in page.locator("#cancellation").inner_text()
    assert page.locator("form[action*='/program?']").count() == 0  # read-only

    page.goto(page.url.split("/program/")[0] + "/program?" + page.url.split("?", 1)[1])
    page.get_by_label("ชื่อโครงการ").fill("โครงการปีนี้ (ข้อมูลสังเคราะห์)")
    page.get_by_role("button", name="บันทึก").click()
    page.get_by_text("โครงการปีนี้ (ข้อมูลสังเคราะห์)").first.wait_for()
    assert sorted(p.state for p in programs(tool)) == sorted([ProgramState.CANCELLED, ProgramState.DRAFT])
    assert page.locator("#earlier-programs").is_visible()
    page.close()
