"""Issuing certificates asks first, in a real browser (Debian's Chromium, 800 px, Thai): the confirmation page says
who gets one and who does not and why; going back changes nothing; its own button issues."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import TRAINER, ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_browser_plc import fits, open_as
from tests.test_browser_program_confirm import SCREENSHOTS, thai_trainer  # noqa: F401 (a fixture)
from tests.test_certificates import ABSENT, finished_program, issued

pytestmark = pytest.mark.browser
QUESTION = "ออกเกียรติบัตรให้ครูทุกคนที่ผ่านเกณฑ์หรือไม่"


def test_a_trainer_issues_certificates_through_the_confirmation_page(
    tool: ToolServer,
    platform: TestPlatform,
    browser: Any,
    thai_trainer: None,  # noqa: F811
) -> None:
    finished_program(tool, platform)
    page = open_as(browser, platform, TRAINER)
    page.goto(page.url.replace("/home?", "/program/certificates?"))

    page.get_by_role("button", name="ออกเกียรติบัตรให้ครูทุกคนที่ผ่านเกณฑ์").click()
    page.get_by_role("heading", name=QUESTION).wait_for()
    people = page.locator("#confirm-people").inner_text()
    assert "ครู 2 คนจะได้รับเกียรติบัตรในครั้งนี้" in people and f"{ABSENT} จะไม่ได้รับเกียรติบัตร" in people
    assert "ล็อกบันทึก" in page.locator("#confirm-follows").inner_text()
    assert fits(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "confirm-issue-certificates-th.png"), full_page=True)

    page.get_by_role("link", name="ย้อนกลับ: ไม่เปลี่ยนแปลงอะไร").click()
    page.get_by_role("button", name="ออกเกียรติบัตรให้ครูทุกคนที่ผ่านเกณฑ์").wait_for()
    assert issued(tool) == []

    page.get_by_role("button", name="ออกเกียรติบัตรให้ครูทุกคนที่ผ่านเกณฑ์").click()
    page.get_by_role("button", name="ออกเกียรติบัตร", exact=True).click()
    page.locator('[data-state="done"]').wait_for(timeout=15_000)
    assert len(issued(tool)) == 2
    page.close()
