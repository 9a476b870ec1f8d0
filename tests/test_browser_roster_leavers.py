"""A teacher who left the Moodle course, in a real browser (Debian's Chromium, 800 px, Thai): the teams page keeps them
in their team's plan marked "left the course" with the day in the Buddhist Era, and the program's progress counts them
out while showing what they did."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from models.base import utcnow
from models.calendar import buddhist_year, program_day
from tests.conftest import TRAINER, ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_browser_plc import fits, open_as
from tests.test_program_teams import COLLEAGUES
from tests.test_roster_leavers import COURSE, read_again, three_eligible_teachers

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

pytestmark = pytest.mark.browser


@pytest.fixture
def thai_trainer(platform: TestPlatform) -> Iterator[None]:
    platform.add_user(replace(TRAINER, locale="th"))
    yield
    platform.add_user(TRAINER)


def test_a_teacher_who_left_is_marked_on_the_teams_page_and_counted_out_of_the_progress(
    tool: ToolServer, platform: TestPlatform, browser: Any, thai_trainer: None
) -> None:
    trainer = three_eligible_teachers(tool, platform)
    platform.services.suspend(COURSE, COLLEAGUES[1].sub)
    read_again(trainer)
    year = str(buddhist_year(program_day(utcnow())))

    page = open_as(browser, platform, TRAINER)
    page.goto(page.url.replace("/home?", "/program/teams?"))
    page.get_by_role("heading", name="กลุ่มและบทบาท").wait_for()
    plan = page.locator("section.card").first.inner_text()
    assert f"{COLLEAGUES[1].name} (ออกจากรายวิชาแล้วเมื่อ" in plan and year in plan
    assert fits(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "teams-member-left-the-course-th.png"), full_page=True)

    page.goto(page.url.replace("/program/teams?", "/program/progress?"))
    page.locator("#left-count").wait_for()
    text = page.inner_text("main")
    assert "ครู 2 จาก 2 คนผ่านเกณฑ์รับเกียรติบัตร" in text and "ไม่นับรวม: 1 คน" in text
    assert fits(page)
    page.screenshot(path=str(SCREENSHOTS / "progress-member-left-the-course-th.png"), full_page=True)
    page.close()
