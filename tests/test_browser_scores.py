"""Where a grade is on its way to the LMS gradebook, in Chromium at 800 px and in Thai: the trainer's grading page and
reflections list, the site administrator's scores page with Moodle's keyset problem, and the dismissal's confirmation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import update

from lti_tool.lti.service_tokens import ServiceClient
from lti_tool.workers.in_process import delivery_jobs
from lti_tool.workers.scores import ScoreDelivery
from models.base import utcnow
from models.scores import ScorePost
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_browser_plc import fits
from tests.test_program_pages import Visit, trainer_visit
from tests.test_reflections_page import ALL_THREES, reflection_id, write
from tests.test_reflections_page import grade as grade_on_page
from tests.test_score_closing import admin_visit
from tests.test_score_lineitems import deep_link_reflection
from tests.test_sessions_page import running_program_with_a_team

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def worker(tool: ToolServer) -> ScoreDelivery:
    """The score job as `plc-bridge worker` and the web process wire it (it names the tool's keyset URL)."""
    jobs = delivery_jobs(tool.database, tool.settings, ServiceClient(tool.database, timeout=5.0))
    [job] = [j for j in jobs if isinstance(j, ScoreDelivery)]
    job.base_backoff = 0.0
    return job


def open_page(browser: Any, tool: ToolServer, visit: Visit, path: str) -> Any:
    page = browser.new_page(viewport={"width": 800, "height": 900}, locale="th-TH")
    page.goto(tool.url(path) + f"?s={visit.token}&lang=th")
    return page


def test_the_trainer_and_the_site_administrator_see_where_a_grade_is_in_thai(
    tool: ToolServer, platform: TestPlatform, browser: Any
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    running_program_with_a_team(tool, platform)
    write(Visit(tool, launch(requests.Session(), platform, TEACHER)), 1)  # from a plain link: no column yet
    trainer = trainer_visit(tool, platform)
    grade_on_page(trainer, reflection_id(tool), ALL_THREES, "อธิบายปัญหาของนักเรียนได้ชัดเจน")
    worker(tool).run_once()

    review = open_page(browser, tool, trainer, f"/program/reflections/{reflection_id(tool)}")
    status = review.locator("#grade-delivery")
    assert "ยังไม่มีกิจกรรมการสะท้อนผลของวงรอบที่ 1" in status.inner_text() and fits(review)
    status.scroll_into_view_if_needed()
    review.screenshot(path=str(SCREENSHOTS / "grade-waits-for-the-reflection-activity-th.png"), full_page=True)
    review.close()

    listing = open_page(browser, tool, trainer, "/program/reflections")
    assert "รอส่งไปยัง LMS" in listing.locator("table").inner_text() and fits(listing)
    listing.screenshot(path=str(SCREENSHOTS / "reflections-list-grade-delivery-th.png"), full_page=True)
    listing.close()

    platform.services.moodle_default_http_security()  # Moodle's defaults block the tool's address and port
    platform.services.revoke_tokens()  # its next token request has Moodle fetch the keyset
    grade_on_page(trainer, reflection_id(tool), {**ALL_THREES, "evidence": "4"}, "ปรับคะแนนหลักฐาน")  # a regrade
    worker(tool).run_once()
    admin = admin_visit(tool, platform)
    scores = open_page(browser, tool, admin, "/admin/scores")
    text = scores.locator("main").inner_text()
    assert "ตรวจลายเซ็นของ PLC Bridge ไม่ได้" in text and "curlsecurityallowedport" in text and fits(scores)
    scores.screenshot(path=str(SCREENSHOTS / "admin-scores-moodle-keyset-th.png"), full_page=True)
    scores.close()

    platform.services.curl_blocked_hosts, platform.services.curl_allowed_ports = (), ()
    deep_link_reflection(tool, platform, 1, "rl-refl-1")
    platform.services.ags_mode = "forbidden"
    with tool.database.transaction() as db:
        db.execute(update(ScorePost).values(next_attempt_at=utcnow()))
    worker(tool).run_once()
    scores = open_page(browser, tool, admin, "/admin/scores")
    scores.get_by_role("link", name="ปิดรายการนี้").first.click()
    scores.get_by_role("heading", name="ปิดรายการคะแนนที่ส่งไม่สำเร็จ", exact=False).wait_for()
    assert "ย้อนกลับไม่ได้" in scores.locator("main").inner_text() and fits(scores)
    scores.screenshot(path=str(SCREENSHOTS / "admin-dismiss-a-failed-score-th.png"), full_page=True)
    scores.close()
