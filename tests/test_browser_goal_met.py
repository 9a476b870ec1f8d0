"""Goal met is a choice, in Chromium at Moodle's 800 px in Thai: the results report's radio buttons work from the
keyboard, the next cycle shows what the team will improve at the top of its problem reflection, and the dashboard
counts the cycles' goals. Saves the screenshots of docs/screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_browser_plc import fits
from tests.test_dashboard import LEADER, lead, seed_small
from tests.test_sessions_page import running_program_with_a_team

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
IMPROVE = "ใช้บัตรสีแทนจำนวนบวกและลบ ให้นักเรียนจับคู่อธิบายทุกข้อ และทดสอบย่อยท้ายคาบ"


def open_page(browser: Any, tool: ToolServer, platform: TestPlatform, user: Any, path: str, **kw: str) -> Any:
    landing = launch(requests.Session(), platform, user, **kw)
    page = browser.new_page(viewport={"width": 800, "height": 900}, locale="th-TH")
    page.goto(tool.url(f"{path}?s=" + landing.url.split("s=", 1)[1]))
    return page


def test_the_goal_is_chosen_with_the_keyboard_and_the_next_cycle_starts_from_what_to_improve(
    tool: ToolServer, platform: TestPlatform, browser: Any
) -> None:
    running_program_with_a_team(tool, platform)
    page = open_page(browser, tool, platform, TEACHER, "/program/cycles/1")
    report = page.locator("details#results-report")
    report.locator("summary").click()
    report.get_by_label("สรุปผลการดำเนินงานของวงรอบ").fill("นักเรียนผ่านเกณฑ์ร้อยละ 58 ต่ำกว่าเป้าหมายร้อยละ 70")

    met = report.get_by_label("บรรลุเป้าหมาย", exact=True)
    not_met = report.get_by_label("ไม่บรรลุเป้าหมาย", exact=True)
    met.focus()
    page.keyboard.press("Space")
    assert met.is_checked()
    page.keyboard.press("ArrowDown")  # the arrow keys move between the answers of one question
    assert not_met.is_checked() and not met.is_checked()
    report.get_by_label("หากยังไม่บรรลุ: สิ่งที่จะปรับปรุงและลองใหม่").fill(IMPROVE)
    assert fits(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    report.screenshot(path=str(SCREENSHOTS / "results-report-goal-choice-th.png"))

    report.get_by_role("button", name="บันทึกแบบฟอร์ม").click()
    page.wait_for_url("**saved=results-report**")
    assert page.locator("details#results-report").get_by_label("ไม่บรรลุเป้าหมาย", exact=True).is_checked()

    page.goto(page.url.split("/program/cycles/1", 1)[0] + "/program/cycles/2?" + page.url.split("?", 1)[1])
    carried = page.locator("details#problem-reflection section.carried")
    assert carried.is_visible()  # the form is open: the team starts from it
    assert IMPROVE in carried.inner_text() and "วงรอบที่ 1" in carried.inner_text()
    assert fits(page)
    page.locator("details#problem-reflection").screenshot(path=str(SCREENSHOTS / "cycle-carried-improvements-th.png"))
    page.close()


def test_the_dashboard_counts_the_cycles_goals_at_800_px(
    tool: ToolServer, platform: TestPlatform, browser: Any
) -> None:
    platform.add_user(LEADER)
    seed_small(tool, platform)
    lead(tool, platform)
    page = open_page(browser, tool, platform, LEADER, "/dashboard", context_id="district-office")

    section = page.locator("section[aria-labelledby=h-goals]")
    assert section.locator("svg.chart rect.chart-part").count() >= 1
    assert section.locator("table#t-goals tbody tr").last.locator("th").inner_text() == "รวม"
    assert fits(page)
    section.screenshot(path=str(SCREENSHOTS / "dashboard-goals-th.png"))
    page.close()
