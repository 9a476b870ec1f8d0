"""A Buddy corrects their observation in a real browser (Debian's Chromium): the correction form on the item page,
"corrected", the history with both values, at 800 px and in Thai."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_browser_observation import fits, open_as
from tests.test_observation_corrections import CORRECTED_LESSON, only_observation
from tests.test_observations_page import GOOD, USERS, observe, running_program, visit_as

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

pytestmark = pytest.mark.browser


def test_a_buddy_corrects_the_observation_and_the_history_shows_both_values(
    tool: ToolServer, platform: TestPlatform, browser: Any
) -> None:
    the_plan = running_program(tool, platform)
    (number, buddy) = next(
        (n, b) for (_, n), (_, buddies) in sorted(the_plan.items()) for b in buddies if USERS[b].locale == "th"
    )
    assert observe(visit_as(tool, platform, buddy), number).status_code == 200
    observation = only_observation(tool)

    page = open_as(browser, tool, platform, USERS[buddy], f"/program/observations/{observation.id}")
    page.get_by_role("heading", name="แก้ไขบันทึกการสังเกตนี้").wait_for()
    assert page.get_by_text("แก้ไขโดย").count() == 0  # nothing corrected yet
    page.get_by_label("บทเรียนที่สังเกต").fill(CORRECTED_LESSON)
    page.get_by_role("button", name="บันทึกการแก้ไข").click()

    page.get_by_text(f"แก้ไขบันทึกการสังเกตชั้นเรียนวงรอบที่ {number} แล้ว").wait_for()
    history = page.locator("table.history").inner_text()
    assert GOOD["lesson"] in history and CORRECTED_LESSON in history
    assert page.get_by_text("แก้ไขโดย").count() == 1
    assert only_observation(tool).lesson == CORRECTED_LESSON
    assert fits(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "observation-correction-history-th.png"), full_page=True)
    page.close()
