"""A teacher corrects an element session in a real browser (Debian's Chromium): "saved", the correction, the
history with both values, the logbook and progress following, and Ralph holding the first statement voided and the
corrected one; a second identical session is caught and can still be recorded on purpose."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from models.outbox import OutboxStatement
from tests.conftest import TEACHER, ToolServer
from tests.support.lrs import RalphServer
from tests.support.lti_platform import TestPlatform
from tests.support.waiting import wait_until
from tests.test_browser_plc import fits, open_as
from tests.test_sessions_page import running_program_with_a_team
from xapi import outbox
from xapi.delivery import OutboxDelivery
from xapi.vocabulary import Verb

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

pytestmark = pytest.mark.browser


def go(page: Any, path: str) -> None:
    """Another page of the tool, in the same launch (its link token carried along)."""
    address = urlsplit(page.url)
    token = parse_qs(address.query)["s"][0]
    page.goto(f"{address.scheme}://{address.netloc}{path}?s={token}")


def record_in_browser(page: Any, hours: str) -> None:
    page.get_by_label("วงรอบ").select_option("1")
    page.get_by_label("องค์ประกอบ").select_option("1")
    page.get_by_label("วันที่").fill("2026-11-20")
    page.get_by_label("ชั่วโมง").fill(hours)
    page.get_by_role("button", name="บันทึกการประชุม").click()


def test_a_teacher_corrects_the_hours_and_everything_follows_into_ralph(
    tool: ToolServer, platform: TestPlatform, browser: Any, ralph: RalphServer
) -> None:
    running_program_with_a_team(tool, platform)
    page = open_as(browser, platform, TEACHER)
    go(page, "/program/sessions")
    record_in_browser(page, "5")
    page.get_by_text("บันทึกการประชุมองค์ประกอบที่ 1 วงรอบที่ 1 แล้ว").wait_for()
    with tool.database.transaction() as db:
        first = {r.id for r in db.scalars(select(OutboxStatement).where(OutboxStatement.verb == Verb.ATTENDED))}
        mine = next(r.id for r in db.scalars(select(OutboxStatement)) if r.id in first and
                    r.payload["actor"].get("account", {}).get("name") == TEACHER.sub)  # fmt: skip

    page.get_by_role("link", name="เปิดดู").click()
    page.get_by_label("ชั่วโมง").fill("1.5")
    page.get_by_role("button", name="บันทึกการแก้ไข").click()
    page.get_by_text("แก้ไขการประชุมองค์ประกอบที่ 1 วงรอบที่ 1 แล้ว").wait_for()
    history = page.locator("table.history")
    assert "5.00" in history.inner_text() and "1.50" in history.inner_text()
    assert page.get_by_text("แก้ไขโดย").count() == 1
    assert fits(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "session-correction-history-th.png"), full_page=True)

    go(page, "/program/logbook")
    assert "1.5" in page.locator("main").inner_text() and "5.00" not in page.locator("main").inner_text()
    go(page, "/program/progress")
    assert "1.5" in page.locator("main").inner_text()

    with tool.database.transaction() as db:
        outbox.resend(db, "ralph")
        ours = set(db.scalars(select(OutboxStatement.id)))  # Ralph lives for the whole run: other tests' are there
    worker = OutboxDelivery(tool.database, [ralph.destination()])
    wait_until(lambda: worker.run_once().handled == 0, 60, 0, "the outbox did not drain into Ralph")
    # Ralph (5.x) holds the first statement and the statement voiding it. Its API documents `voidedStatementId` as
    # "Not implemented" and does not hide a voided statement (xAPI 1.0.3 §2.3.2 asks an LRS to), so what is checked
    # here is that the voiding statement refers to exactly the first one and the corrected one is stored.
    stored = ralph.statements()
    assert mine in {s["id"] for s in stored}
    assert any(s["verb"]["id"] == Verb.VOIDED and s["object"]["id"] == mine for s in stored)
    corrected = [
        s for s in stored
        if s["id"] in ours - first and s["verb"]["id"] == Verb.ATTENDED and s["actor"]["account"]["name"] == TEACHER.sub
    ]  # fmt: skip
    assert [s["result"]["duration"] for s in corrected] == ["PT1H30M"]
    page.close()


def test_a_second_identical_session_is_caught_and_can_be_recorded_on_purpose(
    tool: ToolServer, platform: TestPlatform, browser: Any
) -> None:
    running_program_with_a_team(tool, platform)
    page = open_as(browser, platform, TEACHER)
    go(page, "/program/sessions")
    record_in_browser(page, "2")
    page.get_by_text("บันทึกการประชุมองค์ประกอบที่ 1 วงรอบที่ 1 แล้ว").wait_for()

    record_in_browser(page, "2")
    page.get_by_role("heading", name="การประชุมนี้อาจบันทึกไว้แล้ว").wait_for()
    assert page.locator("table.sessions tbody tr").count() == 1
    assert fits(page)
    page.get_by_role("button", name="บันทึกต่อไป").click()
    page.get_by_text("บันทึกการประชุมองค์ประกอบที่ 1 วงรอบที่ 1 แล้ว").wait_for()
    assert page.locator("table.sessions tbody tr").count() == 2
    page.close()
