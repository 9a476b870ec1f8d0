"""The site administrator's read log in Chromium at 800 px and in Thai: the trainer's reads of the teachers' records
are listed, the search is keyboard-usable, and a typed day that is not one is refused beside its field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from models.people import Membership, Person
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_browser_plc import fits
from tests.test_program_pages import Visit, trainer_visit
from tests.test_read_log import admin_visit
from tests.test_reflections_page import reflection_id, write
from tests.test_sessions_page import running_program_with_a_team

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def test_the_site_administrator_searches_who_read_what_in_thai(
    tool: ToolServer, platform: TestPlatform, browser: Any
) -> None:
    running_program_with_a_team(tool, platform)
    write(Visit(tool, launch(requests.Session(), platform, TEACHER)), 1)
    trainer = trainer_visit(tool, platform)
    rid = reflection_id(tool)
    trainer.get(f"/program/reflections/{rid}")
    with tool.database.transaction() as db:
        teacher_id = db.scalars(select(Membership.id).join(Person).where(Person.sub == TEACHER.sub)).one()
    trainer.get(f"/program/logbook/{teacher_id}")
    admin = admin_visit(tool, platform)

    page = browser.new_page(viewport={"width": 800, "height": 900}, locale="th-TH")
    try:
        page.goto(tool.url("/admin/read-log") + f"?s={admin.token}&lang=th")
        assert page.locator("h1").inner_text() == "ใครอ่านข้อมูลของใคร"
        rows = page.locator("tr[data-read-entry]")
        assert (
            rows.count() == 2 and "บันทึกชั่วโมง" in rows.nth(0).inner_text() and "การสะท้อนผล" in rows.nth(1).inner_text()
        )
        assert TEACHER.name in rows.first.inner_text()
        assert fits(page)

        page.locator("#f-reader").focus()
        page.keyboard.type("กาญจนา")
        page.keyboard.press("Enter")  # the search is an ordinary form: Enter sends it
        page.wait_for_url("**reader=*")
        assert page.locator("tr[data-read-entry]").count() == 2
        page.screenshot(path=str(SCREENSHOTS / "read-log-th.png"), full_page=True)

        page.locator("#f-since").fill("2026-12-31")
        page.locator("#f-until").fill("2026-01-01")
        page.locator(".read-log-search button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator("#until-error").inner_text() == "วันสุดท้ายอยู่ก่อนวันเริ่มต้น"
        assert page.locator("#f-until").get_attribute("aria-invalid") == "true"
    finally:
        page.close()
