"""Nothing typed is lost, in Chromium: a teacher's link expires while they write a reflection; posting it shows the
Thai page that says how to continue; the next launch into the reflection fills the text in again with a notice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lti_tool.web import session as web_session
from tests.conftest import TEACHER, ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_browser_plc import fits
from tests.test_sessions_page import running_program_with_a_team

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
TEXT = "นักเรียนใช้แถบเศษส่วนแล้วอธิบายได้ ครั้งหน้าจะให้นักเรียนสร้างโจทย์ปัญหาเอง"


def launch_into_reflection(browser: Any, platform: TestPlatform) -> Any:
    page = browser.new_page(viewport={"width": 800, "height": 900}, locale="th-TH")
    page.goto(
        platform.initiation_url(
            sub=TEACHER.sub,
            context_id="course-42",
            context_title="PLC วิทยาศาสตร์ ม.2",
            resource_link_id="rl-refl-1",
            resource_link_title="สะท้อนผลวงรอบที่ 1",
            custom={"plc_activity": "reflection", "plc_cycle": "1"},
        )
    )
    page.wait_for_url("**/cycles/1/reflection?**", timeout=15_000)
    return page


def test_a_reflection_typed_before_the_link_expired_is_restored_by_the_next_launch(
    tool: ToolServer, platform: TestPlatform, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    running_program_with_a_team(tool, platform)
    page = launch_into_reflection(browser, platform)
    page.get_by_label("การสะท้อนผลของคุณ").fill(TEXT)
    # Two hours pass in Moodle's iframe, where the browser keeps no cookie of ours: only the link names the session.
    page.context.clear_cookies()
    monkeypatch.setattr(web_session, "LINK_TOKEN_MAX_AGE", -1)
    monkeypatch.setattr(web_session, "FORM_POST_MAX_AGE", -1)

    page.get_by_role("button", name="ส่งการสะท้อนผล").click()

    page.get_by_text("ระบบเก็บสิ่งที่คุณพิมพ์ไว้ให้ 1 สัปดาห์").wait_for()
    assert "เปิดกิจกรรมอีกครั้งจากรายวิชาใน LMS" in page.content()
    monkeypatch.undo()
    page.close()

    again = launch_into_reflection(browser, platform)

    again.get_by_text("กู้คืนข้อความที่ยังไม่ได้บันทึกจากเวลา").wait_for()
    assert again.get_by_label("การสะท้อนผลของคุณ").input_value() == TEXT
    assert fits(again)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    again.screenshot(path=str(SCREENSHOTS / "draft-restored-th.png"), full_page=True)
    again.get_by_role("button", name="ส่งการสะท้อนผล").click()
    again.get_by_text("บันทึกการสะท้อนผลของคุณแล้ว").wait_for()
    assert "กู้คืนข้อความ" not in again.content()
    again.close()
