"""A Buddy submits an observation with a photo in a real browser (Debian's Chromium), and the Model Teacher reads it
and downloads the photo; both pages fit Moodle's 800 px iframe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from models.evidence import DATABASE, Evidence
from models.evidence_chunks import chunks_in
from tests.conftest import ToolServer
from tests.support.lti_platform import LaunchUser, TestPlatform
from tests.test_observations_page import GOOD, NOTES, PDF, USERS, png, running_program

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PHOTO = "ภาพนักเรียนพับแถบเศษส่วน.png"

pytestmark = pytest.mark.browser


def open_as(browser: Any, tool: ToolServer, platform: TestPlatform, user: LaunchUser, path: str) -> Any:
    """Launch from the course as `user` at 800 px, then go to `path` within the session (as its links do)."""
    page = browser.new_page(viewport={"width": 800, "height": 900}, locale="th-TH")
    page.goto(platform.initiation_url(sub=user.sub, context_id="course-42", context_title="PLC วิทยาศาสตร์ ม.2"))
    page.wait_for_url("**/home?**", timeout=15_000)
    token = page.url.split("s=", 1)[1].split("&", 1)[0]
    page.goto(tool.url(f"{path}?s={token}"))
    return page


def fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def test_a_buddy_submits_an_observation_with_a_photo_and_the_model_teacher_reads_it(
    tool: ToolServer, platform: TestPlatform, browser: Any
) -> None:
    the_plan = running_program(tool, platform)
    # A Thai-speaking Buddy (the launch's locale decides the language of every page in the session).
    (number, model, buddy) = next(
        (n, m, b) for (_, n), (m, buddies) in sorted(the_plan.items()) for b in buddies if USERS[b].locale == "th"
    )
    page = open_as(browser, tool, platform, USERS[buddy], "/program/observations")
    page.get_by_role("link", name="กรอกแบบบันทึก").first.click()
    page.get_by_role("heading", name="แบบบันทึกการสังเกตชั้นเรียนของครูร่วมการเรียนรู้ (Buddy)").wait_for()
    assert model in page.content()

    page.get_by_label("บทเรียนที่สังเกต").fill(GOOD["lesson"])
    page.get_by_label("สิ่งที่ผู้เรียนทำระหว่างบทเรียน").fill(GOOD["students_did"])
    page.get_by_label("สิ่งที่ผู้เรียนได้เรียนรู้").fill(GOOD["students_learned"])
    page.get_by_label("หลักฐานการเรียนรู้ของผู้เรียน").fill(GOOD["evidence"])
    page.get_by_label("ไฟล์หลักฐาน").set_input_files([{"name": PHOTO, "mimeType": "image/png", "buffer": png(96, 64)}])
    for row, (student, note) in enumerate(NOTES, start=1):
        page.get_by_label(f"ผู้เรียนคนที่ {row}", exact=True).fill(student)
        page.get_by_label(f"สิ่งที่คุณเห็นของผู้เรียนคนที่ {row}").fill(note)
    page.get_by_label("ข้อเสนอแนะสำหรับครูผู้สอน").fill(GOOD["suggestions"])
    assert fits(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "buddy-observation-form-th.png"), full_page=True)

    page.get_by_role("button", name="ส่งบันทึกการสังเกต").click()
    page.get_by_role("status").get_by_text("บันทึกการสังเกตของคุณแล้ว").wait_for()
    page.close()

    reader = open_as(browser, tool, platform, USERS[model], "/program/observations")
    reader.locator("a[href*='/program/observations/']").first.click()
    reader.get_by_text(GOOD["students_learned"]).wait_for()
    assert NOTES[1][1] in reader.content() and fits(reader)
    reader.goto(reader.url + "&lang=th")  # this Model Teacher launched in English; the page also reads in Thai
    reader.get_by_role("heading", name=f"บันทึกการสังเกตชั้นเรียน วงรอบที่ {number}").wait_for()
    reader.screenshot(path=str(ARTIFACTS / "model-reads-observation-th.png"), full_page=True)
    with reader.expect_download() as download:
        reader.get_by_role("link", name=PHOTO).click()
    assert download.value.suggested_filename == PHOTO
    with tool.database.transaction() as db:
        [photo] = db.scalars(select(Evidence)).all()
        if photo.storage == DATABASE:  # PostgreSQL's default store
            kept = b"".join(chunks_in(db, photo.id))
        else:
            kept = (tool.settings.evidence_path / photo.stored_name).read_bytes()
    assert Path(download.value.path()).read_bytes() == kept
    reader.close()


def test_a_teacher_records_a_session_with_a_lesson_plan_attached(
    tool: ToolServer, platform: TestPlatform, browser: Any
) -> None:
    the_plan = running_program(tool, platform)
    teacher = next(b for (_, n), (_, buddies) in sorted(the_plan.items()) for b in buddies if USERS[b].locale == "th")
    page = open_as(browser, tool, platform, USERS[teacher], "/program/sessions")
    page.get_by_label("วันที่").fill("2026-11-20")
    page.get_by_label("ชั่วโมง").fill("2")
    page.get_by_label("ไฟล์หลักฐาน").set_input_files(
        [{"name": "แผนการจัดการเรียนรู้ที่ 3.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="บันทึกการประชุม").click()

    page.get_by_role("link", name="แผนการจัดการเรียนรู้ที่ 3.pdf").wait_for()
    assert fits(page)
    page.screenshot(path=str(ARTIFACTS / "session-with-evidence-th.png"), full_page=True)
    page.close()
