"""The site administrator's learning-record page in a real browser (Debian's Chromium), in Thai at Moodle's 800 px:
records waiting for an LRS while none is configured, the LRS configured later catching up, then all delivered."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from models.base import utcnow
from models.outbox import OutboxStatement
from tests.conftest import ToolServer, register, start_tool
from tests.support.lrs import RalphServer
from tests.support.lti_platform import TestPlatform
from tests.test_browser_plc import fits, open_as
from tests.test_browser_session_corrections import go
from tests.xapi.test_delivery import drain
from tests.xapi.test_destinations_added_later import learning_record_job, write_for_platform
from tests.xapi.test_outbox_web import ADMIN

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = pytest.mark.browser


def outbox_page(browser: Any, platform: TestPlatform) -> Any:
    page = open_as(browser, platform, ADMIN)
    go(page, "/admin/outbox")
    page.get_by_role("heading", name="บันทึกการเรียนรู้ (xAPI)").wait_for()
    return page


def row(page: Any, destination: str) -> dict[str, str]:
    cells = page.locator(f'tr[data-destination="{destination}"]').first
    return {
        "waiting": cells.get_attribute("data-waiting") or "",
        "text": cells.inner_text(),
    }


def test_the_outbox_page_shows_what_waits_for_an_lrs_then_the_lrs_added_later_catching_up(
    browser: Any, ralph: RalphServer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'outbox.sqlite3'}"
    before = start_tool(tmp_path / "before", url)
    after: ToolServer | None = None
    platform = TestPlatform(client_id="client-outbox-page", deployment_id="dep-outbox-page").start()
    try:
        platform.configure_tool(before.url("/lti/login"), before.url("/lti/launch"), before.url("/lti/jwks"))
        platform.add_user(ADMIN)
        register(before, platform)
        write_for_platform(before.database, 22, platform.issuer)
        with before.database.transaction() as db:  # written over the last two days, while no LRS was configured
            for n, statement_id in enumerate(db.scalars(select(OutboxStatement.id))):
                db.execute(
                    update(OutboxStatement)
                    .where(OutboxStatement.id == statement_id)
                    .values(created_at=utcnow() - timedelta(days=2) + timedelta(hours=2 * n))
                )

        page = outbox_page(browser, platform)  # the administrator's own launch is the 23rd record
        assert row(page, "")["waiting"] == "23"
        notice = page.locator('[data-outbox="no-lrs"]').inner_text()
        assert "บันทึกการเรียนรู้ 23 รายการรอส่งไปยังคลังบันทึกการเรียนรู้ (LRS)" in notice and "PLC_LRS" in notice
        assert "ยังไม่มีบันทึก" not in page.content()
        assert fits(page)
        page.screenshot(path=str(SCREENSHOTS / "admin-outbox-waiting-for-an-lrs-th.png"), full_page=True)
        page.close()

        after = start_tool(tmp_path / "after", url, lrs=[ralph.destination(name="district")])
        platform.configure_tool(after.url("/lti/login"), after.url("/lti/launch"), after.url("/lti/jwks"))
        page = outbox_page(browser, platform)  # one more record, written for the LRS now configured
        catching_up = row(page, "district")
        assert catching_up["waiting"] == "24" and "23 รายการจากก่อนตั้งค่า" in catching_up["text"]
        assert page.locator('[data-outbox="no-lrs"]').count() == 0
        assert fits(page)
        page.screenshot(path=str(SCREENSHOTS / "admin-outbox-lrs-added-later-th.png"), full_page=True)

        drain(learning_record_job(after.database, after.settings))
        page.reload()
        delivered = page.locator('tr[data-destination="district"]')
        assert delivered.get_attribute("data-waiting") == "0" and delivered.get_attribute("data-delivered") == "24"
        assert fits(page)
        page.screenshot(path=str(SCREENSHOTS / "admin-outbox-all-delivered-th.png"), full_page=True)
        page.close()
    finally:
        platform.stop()
        for tool in (before, after):
            if tool is not None:
                tool.server.shutdown()
                tool.server.server_close()
                tool.database.dispose()
