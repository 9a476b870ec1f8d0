"""The Council's windows and who cancelled in a real browser (Debian's Chromium, 800 px, Thai): the program page counts
down the program year and the 30 days; issuing after the 30 days asks the reason (refused beside the field, the text
kept) and the certificate says it was issued late; the Council's cancellation with its letter, on the program page.
Each page is saved to docs/screenshots/."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TRAINER, ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_browser_plc import fits, open_as
from tests.test_certificates import finished_program, issued
from tests.test_program_pages import create, take_step, trainer_visit
from tests.test_windows_pages import LATE, move_end

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
LETTER = "ศธ 0206.3/1234"

pytestmark = pytest.mark.browser


@pytest.fixture
def thai_trainer(platform: TestPlatform) -> Iterator[None]:
    """The same trainer, whose LMS is in Thai for this test; the platform is shared, so English again afterwards."""
    platform.add_user(replace(TRAINER, locale="th"))
    yield
    platform.add_user(TRAINER)


def program_page(browser: Any, platform: TestPlatform) -> Any:
    page = open_as(browser, platform, TRAINER)
    page.goto(page.url.replace("/home?", "/program?"))
    page.get_by_role("heading", name="โครงการ PLC").wait_for()
    return page


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_the_program_page_counts_down_the_program_year_and_the_30_days(
    tool: ToolServer, platform: TestPlatform, browser: Any, thai_trainer: None
) -> None:
    finished_program(tool, platform, end=False)
    page = program_page(browser, platform)

    assert "เหลืออีก" in page.locator("#program-year").inner_text()
    shot(page, "program-year-countdown-th.png")

    page.get_by_role("link", name="สิ้นสุดโครงการ").click()
    page.get_by_role("button", name="สิ้นสุดโครงการ").click()
    page.locator("#certificates-countdown").wait_for()
    assert "เหลืออีก 30 วัน" in page.locator("#certificates-countdown").inner_text()
    assert page.locator("#program-year").count() == 1 and fits(page)
    shot(page, "program-30-days-countdown-th.png")


def test_issuing_after_the_30_days_asks_the_reason_and_the_certificate_says_it_is_late(
    tool: ToolServer, platform: TestPlatform, browser: Any, thai_trainer: None, tmp_path: Path
) -> None:
    done = finished_program(tool, platform)
    move_end(tool, 31)
    page = program_page(browser, platform)
    assert page.locator("#certificates-countdown[data-passed]").count() == 1

    page.get_by_role("link", name="เกียรติบัตรและบันทึกชั่วโมง").click()
    page.get_by_role("button", name="ออกเกียรติบัตรให้ครูทุกคนที่ผ่านเกณฑ์").click()
    reason = page.get_by_label("เหตุผลที่ออกเกียรติบัตรหลังพ้นกำหนด 30 วันของคุรุสภา")
    reason.fill("   ")
    page.locator("button.danger").click()
    page.locator("#reason-error").wait_for()
    assert issued(tool) == [] and fits(page)
    shot(page, "confirm-late-issue-th.png")
    reason.fill(LATE)
    page.locator("button.danger").click()
    page.locator('[data-state="done"]').wait_for(timeout=15_000)

    target = issued(tool)[0]
    pdf = done.trainer.get(f"/program/certificates/{target.id}.pdf", lang="th").content
    (tmp_path / "late.pdf").write_bytes(pdf)
    assert shutil.which("pdftoppm"), "poppler-utils is missing; scripts/test.sh installs it"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-singlefile", str(tmp_path / "late.pdf"), str(tmp_path / "late")], check=True
    )
    shutil.copy(tmp_path / "late.png", SCREENSHOTS / "certificate-issued-late-th.png")
    (tmp_path / "report.pdf").write_bytes(done.trainer.get("/program/report.pdf", lang="th").content)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(tmp_path / "report.pdf"), str(tmp_path / "report")], check=True)
    last_page = sorted(tmp_path.glob("report-*.png"))[-1]  # the eligible teachers, and the certificates issued late
    shutil.copy(last_page, SCREENSHOTS / "results-report-issued-late-th.png")

    page.goto(tool.url(f"/verify/{target.code}"))
    page.locator("#issued-late").wait_for()
    shot(page, "verify-issued-late-th.png")


def test_the_councils_cancellation_is_shown_on_the_program_page(
    tool: ToolServer, platform: TestPlatform, browser: Any, thai_trainer: None
) -> None:
    visit = trainer_visit(tool, platform)
    create(visit, name="โครงการ PLC คณิตศาสตร์ ป.4 (ข้อมูลสังเคราะห์)")
    take_step(visit, "submit")
    page = program_page(browser, platform)

    page.get_by_role("link", name="ยกเลิกโครงการ").click()
    page.get_by_label("คุรุสภา (สำนักงานเลขาธิการคุรุสภา)").check()
    page.get_by_label("เหตุผล (เก็บไว้ในประวัติของโครงการ)").fill("หน่วยงานไม่ได้ส่งรายชื่อผู้เข้าร่วมตามแบบที่คุรุสภากำหนด")
    page.locator("button.danger").click()
    page.locator("#letter_number-error").wait_for()  # the Council's letter is required
    assert fits(page)
    shot(page, "confirm-cancel-council-letter-required-th.png")
    page.get_by_label("เลขที่หนังสือของคุรุสภา").fill(LETTER)
    page.get_by_label("ลงวันที่ (หนังสือของคุรุสภา)").fill(page.locator("#letter_date").get_attribute("max"))
    page.locator("button.danger").click()
    page.locator("#earlier-programs").wait_for()

    page.locator("#earlier-programs a").first.click()
    page.locator("#cancellation").wait_for()
    assert LETTER in page.locator("#cancellation").inner_text() and fits(page)
    shot(page, "program-cancelled-by-council-th.png")
