"""The approved plan is kept, in a real browser (Debian's Chromium, 800 px, Thai), as issue 14 asks: submit → an edit
refused → withdraw → change a team → submit version 2 → the difference shows the change → approve with the Council's
letter number → every later change refused, citing the guideline's clause 2.6."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

from models.states import ProgramState
from tests.conftest import TRAINER, ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_browser_plc import fits, open_as
from tests.test_browser_program_confirm import thai_trainer  # noqa: F401 - the fixture
from tests.test_plan_versions_pages import LETTER, REASON, SECTION_2_6_TH, versions
from tests.test_program_confirm import state
from tests.test_program_pages import create, trainer_visit
from tests.test_program_teams import form_team, teachers_launch

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

pytestmark = pytest.mark.browser


def goto(page: Any, path: str, heading: str) -> None:
    """Another page of the tool in the same session (its token travels in the address, as the links carry it)."""
    address = urlsplit(page.url)
    session = urlencode({"s": parse_qs(address.query)["s"][0]})
    page.goto(urlunsplit((address.scheme, address.netloc, path, session, "")))
    page.get_by_role("heading", name=heading, exact=True).wait_for()


def stale_tab(browser: Any, page: Any) -> Any:
    """The same page opened in another window (the session travels in its address), left open while the plan moves
    on."""
    tab = browser.new_page(viewport={"width": 800, "height": 900}, locale="th-TH")
    tab.goto(page.url)
    tab.get_by_role("heading", name="กลุ่มและบทบาท", exact=True).wait_for()
    return tab


@pytest.mark.usefixtures("thai_trainer")
def test_submit_edit_refused_withdraw_change_a_team_version_2_diff_approve_with_a_letter_then_frozen_citing_2_6(
    tool: ToolServer, platform: TestPlatform, browser: Any
) -> None:
    names = teachers_launch(platform, 4)
    create(trainer_visit(tool, platform), name="PLC คณิตศาสตร์ ม.1 (ข้อมูลสังเคราะห์)")
    form_team(trainer_visit(tool, platform), tool, "กลุ่มคณิตศาสตร์", names[:3])
    page = open_as(browser, platform, TRAINER)
    goto(page, "/program/teams", "กลุ่มและบทบาท")
    stale = stale_tab(browser, page)

    # submit: version 1
    goto(page, "/program", "โครงการ PLC")
    page.get_by_role("button", name="ส่งคุรุสภา").click()
    page.locator("#plan-versions").wait_for()
    assert state(tool) == ProgramState.SUBMITTED
    assert "ฉบับที่ 1 ที่ยื่นเมื่อ" in page.locator("#plan-version").inner_text()

    # an edit is refused: the plan is kept as sent, withdraw first
    stale.get_by_label("ชื่อกลุ่ม").fill("กลุ่มที่สอง")
    stale.get_by_label(names[3]).check()
    stale.get_by_role("button", name="จัดกลุ่ม").click()
    stale.get_by_role("alert").wait_for()
    assert "ถอนการยื่นก่อน" in stale.get_by_role("alert").inner_text()
    assert stale.locator("form[action*='/program/teams?']").count() == 0  # and no form to try again with
    stale.close()

    # withdraw, with a reason
    page.get_by_role("link", name="ถอนการยื่นต่อคุรุสภา").first.click()
    page.get_by_role("heading", name="ถอนการยื่นต่อคุรุสภาหรือไม่").wait_for()
    page.get_by_role("button", name="ถอนการยื่นต่อคุรุสภา").click()
    page.locator("#reason-error").wait_for()
    assert state(tool) == ProgramState.SUBMITTED
    page.get_by_label("เหตุผล (เก็บไว้ในประวัติของโครงการ)").fill(REASON)
    page.get_by_role("button", name="ถอนการยื่นต่อคุรุสภา").click()
    page.get_by_role("heading", name="โครงการ PLC").wait_for()
    assert state(tool) == ProgramState.DRAFT and "ร่าง" in page.locator("#plan-version").inner_text()

    # change a team: the fourth teacher joins in place of the third
    goto(page, "/program/teams", "กลุ่มและบทบาท")
    page.get_by_role("button", name="ลบกลุ่มนี้").click()
    page.get_by_label("ชื่อกลุ่ม").wait_for()
    page.get_by_label("ชื่อกลุ่ม").fill("กลุ่มคณิตศาสตร์")
    for name in (names[0], names[1], names[3]):
        page.get_by_label(name).check()
    page.get_by_role("button", name="จัดกลุ่ม").click()
    page.get_by_role("heading", name="กลุ่มคณิตศาสตร์").wait_for()
    late = stale_tab(browser, page)  # left open until after the approval

    # submit version 2: the difference shows the change
    goto(page, "/program", "โครงการ PLC")
    assert names[3] in page.locator("#plan-draft-changes").inner_text()
    page.get_by_role("button", name="ส่งคุรุสภา").click()
    page.locator("[data-version='2']").wait_for()
    second = page.locator("[data-version='2']").inner_text()
    assert "สิ่งที่เปลี่ยนไปจากฉบับที่ 1" in second
    assert f"สมาชิกที่เพิ่ม: {names[3]}" in second and f"สมาชิกที่ออก: {names[2]}" in second
    assert REASON in page.locator("[data-version='1']").inner_text()
    assert fits(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#plan-versions").screenshot(path=str(SCREENSHOTS / "plan-versions-and-changes-th.png"))

    # approve with the Council's letter: refused beside the fields without a number, the typed date kept
    page.get_by_role("link", name="บันทึกการให้ความเห็นชอบของคุรุสภา").click()
    page.get_by_role("heading", name="บันทึกการให้ความเห็นชอบของคุรุสภาหรือไม่").wait_for()
    assert SECTION_2_6_TH in page.locator("#confirm-follows").inner_text()
    today = page.locator("#approved_on").get_attribute("max")
    page.locator("#approved_on").fill(today)
    page.get_by_role("button", name="บันทึกการให้ความเห็นชอบของคุรุสภา").click()
    page.locator("#council_letter_number-error").wait_for()
    assert page.locator("#approved_on").input_value() == today and state(tool) == ProgramState.SUBMITTED
    assert fits(page)
    page.screenshot(path=str(SCREENSHOTS / "approve-with-council-letter-th.png"), full_page=True)
    page.get_by_label("เลขที่หนังสือให้ความเห็นชอบของคุรุสภา").fill(LETTER)
    page.get_by_role("button", name="บันทึกการให้ความเห็นชอบของคุรุสภา").click()
    page.get_by_role("heading", name="โครงการ PLC").wait_for()
    assert state(tool) == ProgramState.APPROVED and versions(tool)[1].council_letter_number == LETTER
    label = page.locator("#plan-version").inner_text()
    assert f"ฉบับที่ 2 ที่คุรุสภาให้ความเห็นชอบ ตามหนังสือที่ {LETTER} ลงวันที่" in label

    # every later change refused, citing clause 2.6, beside where the change would be made
    assert fits(page)
    page.screenshot(path=str(SCREENSHOTS / "program-approved-plan-version-th.png"), full_page=True)
    frozen = page.locator("#plan-frozen").inner_text()
    assert "ข้อ 2.6" in frozen and SECTION_2_6_TH in frozen
    assert page.get_by_role("link", name="ถอนการยื่นต่อคุรุสภา").count() == 0
    goto(page, "/program/teams", "กลุ่มและบทบาท")
    assert SECTION_2_6_TH in page.locator("#plan-frozen").inner_text()
    assert page.get_by_role("button", name="ลบกลุ่มนี้").count() == 0
    assert page.get_by_role("button", name="จัดกลุ่ม").count() == 0
    assert f"ตามหนังสือที่ {LETTER}" in page.locator("#plan-version").inner_text()
    late.get_by_role("button", name="ลบกลุ่มนี้").click()
    late.get_by_role("alert").wait_for()
    refused = late.get_by_role("alert").inner_text()
    assert "ข้อ 2.6" in refused and SECTION_2_6_TH in refused and len(versions(tool)) == 2
    assert state(tool) == ProgramState.APPROVED and late.get_by_role("heading", name="กลุ่มคณิตศาสตร์").count() == 1
    late.close()
    page.close()
