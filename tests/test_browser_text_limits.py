"""In Chromium: 5,000 characters into the 4,000-character notes field are refused beside it, and the text stays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEACHER, ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_browser_plc import fits, open_as
from tests.test_sessions_page import running_program_with_a_team

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

pytestmark = pytest.mark.browser


def test_notes_over_the_limit_typed_in_the_page_are_refused_beside_the_field_and_kept(
    tool: ToolServer, platform: TestPlatform, browser: Any
) -> None:
    running_program_with_a_team(tool, platform)
    page = open_as(browser, platform, TEACHER)
    page.goto(page.url.replace("/home?", "/program/sessions?"))
    notes = page.locator("#notes")
    assert notes.get_attribute("maxlength") == "4000"
    assert page.locator("#notes-limit").inner_text() == "ไม่เกิน 4,000 ตัวอักษร"
    typed = "ก" * 5000
    # A browser stops typing at maxlength; text set by a script or an older browser is the server's to refuse.
    notes.evaluate("(field, text) => { field.value = text; }", typed)
    page.fill("#held_on", "2026-11-20")
    page.fill("#hours", "1")
    page.select_option("#cycle", "1")
    page.select_option("#element", "1")
    page.get_by_role("button", name="บันทึกการประชุม").click()

    error = page.locator("#notes-error")
    assert "4,000" in error.inner_text()
    assert page.locator("#notes").input_value() == typed
    assert page.locator("#notes").get_attribute("aria-invalid") == "true"
    assert fits(page)
    error.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "limit-refused-th.png"), full_page=False)
