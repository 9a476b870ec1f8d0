"""The course's observation link in a real browser (Debian's Chromium) at Moodle's 800 px iframe width, in Thai: the
Model Teacher lands on the observations of their lesson, a teacher of no team on a page saying why; /setup reads
in Thai with the Moodle settings this tool's address needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ToolServer
from tests.support.lti_platform import LaunchUser, TestPlatform
from tests.test_observation_link import NEWCOMER
from tests.test_observations_page import TEAM_A, USERS, observe, running_program, visit_as

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = pytest.mark.browser


def open_link(browser: Any, platform: TestPlatform, user: LaunchUser, cycle: int = 1) -> Any:
    page = browser.new_page(viewport={"width": 800, "height": 900}, locale="th-TH")
    page.goto(
        platform.initiation_url(
            sub=user.sub,
            context_id="course-42",
            context_title="PLC วิทยาศาสตร์ ม.2",
            resource_link_id="rl-observe-1",
            resource_link_title="การสังเกตชั้นเรียน วงรอบที่ 1",
            custom={"plc_activity": "observation", "plc_cycle": str(cycle)},
        )
    )
    page.wait_for_url("**/program/cycles/*/observation*", timeout=15_000)
    page.goto(page.url + "&lang=th")
    return page


def fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def test_the_model_teacher_follows_the_link_to_the_observations_of_their_lesson(
    tool: ToolServer, platform: TestPlatform, browser: Any
) -> None:
    model, (author, _) = running_program(tool, platform)[(TEAM_A, 1)]
    observe(visit_as(tool, platform, author))

    page = open_link(browser, platform, USERS[model])

    page.get_by_role("heading", name="บันทึกการสังเกตชั้นเรียนของคุณ วงรอบที่ 1").wait_for()
    assert page.get_by_role("link", name="อ่านบันทึก").count() == 1 and page.get_by_text("ยังไม่ได้เขียน").count() == 1
    assert fits(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "observation-link-model-teacher-th.png"), full_page=True)
    page.get_by_role("link", name="อ่านบันทึก").click()
    page.get_by_role("heading", name="บันทึกการสังเกตชั้นเรียน วงรอบที่ 1").wait_for()
    page.close()


def test_a_teacher_of_no_team_is_told_why_in_thai(tool: ToolServer, platform: TestPlatform, browser: Any) -> None:
    running_program(tool, platform)
    platform.add_user(NEWCOMER)

    page = open_link(browser, platform, NEWCOMER)

    page.get_by_role("heading", name="การสังเกตชั้นเรียน วงรอบที่ 1").wait_for()
    assert "คุณยังไม่ได้อยู่ในกลุ่ม PLC" in page.get_by_role("status").inner_text() and fits(page)
    page.screenshot(path=str(ARTIFACTS / "observation-link-no-team-th.png"), full_page=True)
    page.close()


def test_the_setup_page_reads_in_thai_at_800px(tool: ToolServer, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 800, "height": 900}, locale="th-TH")
    page.goto(tool.url("/setup?lang=th"))

    page.get_by_role("heading", name="เมื่อเครื่องมืออยู่ในเครือข่ายภายในของเขตพื้นที่หรือใช้พอร์ตอื่น").wait_for()
    assert page.locator("#blocked-host").count() == 1 and page.locator("#blocked-port").count() == 1
    assert fits(page)
    page.screenshot(path=str(ARTIFACTS / "setup-moodle-steps-th.png"), full_page=True)
    page.close()
