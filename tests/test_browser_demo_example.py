"""Issue #8's "done when": from the demo LMS, a trainer issues certificates for a finished program and downloads the
results report. The demo's second course holds a finished example program (lti_tool/demo_lms/example_course.py); the trainer
launches into it from the demo page, issues the certificates, downloads the results report and opens a teacher's
logbook, a teacher downloads their certificate, and /verify says the certificate is valid. Debian's Chromium."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from lti_tool.demo_lms import platform as demo
from models.base import utcnow
from models.people import Context, Membership, Person
from tests.conftest import ToolServer, start_tool
from tests.test_application_package import comparable
from tests.test_browser_plc import shot

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@pytest.fixture(scope="module")
def demo_tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolServer]:
    instance = tmp_path_factory.mktemp("demo-example-browser")
    server = start_tool(instance, f"sqlite:///{instance / 'demo.sqlite3'}", demo_enabled=True)
    yield server
    server.server.shutdown()
    server.server.server_close()


def launch_into_the_example(browser: Any, demo_tool: ToolServer, sub: str, width: int = 1024) -> tuple[Any, Any]:
    """Open the demo course page in Thai and press the person's button on the example course's card; returns the
    page and the tool's frame once the tool's landing page is in it."""
    page = browser.new_page(viewport={"width": width, "height": 900}, locale="th-TH")
    page.goto(demo_tool.url("/demo/?lang=th"))
    page.locator(f"#example-course a[data-sub='{sub}']").click()
    page.frame_locator("iframe[name=tool]").locator("a[href*='/program?']").first.wait_for(timeout=15_000)
    frame = page.frame(name="tool")
    assert frame is not None
    return page, frame


def pdf_text(page: Any, frame: Any, link: Any) -> str:
    """Fetch a PDF link of the tool's frame with the browser's own cookies, as a click would."""
    answer = page.request.get(urljoin(frame.url, link.get_attribute("href")))
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    body = answer.body()
    assert body.startswith(b"%PDF-")
    return comparable("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages))


def test_a_trainer_finishes_the_example_program_and_a_teacher_downloads_a_certificate(
    demo_tool: ToolServer, browser: Any
) -> None:
    started = utcnow()
    trainer_page, trainer = launch_into_the_example(browser, demo_tool, "demo-trainer-1")
    shot(trainer_page, "demo-example-course-th.png")
    trainer.locator("a[href*='/program?']").first.click()
    trainer.wait_for_url("**/program?**")
    window = trainer.locator("#certificates-window")
    assert "25" in window.inner_text()  # ended five days ago: 25 of the Council's 30 days are left

    trainer.locator("#certificates-window a[href*='/program/certificates?']").click()
    trainer.wait_for_url("**/program/certificates?**")
    rows = trainer.locator("tbody tr")
    assert rows.count() == 4
    trainer.locator(
        "form[action='/program/certificates/issue/confirm'] button"
    ).click()  # a weighty step: it asks first
    trainer.locator("form[action*='/program/certificates/issue/confirm?'] button[type=submit]").click()
    trainer.wait_for_url(re.compile(r".*/program/certificates/jobs/\d+.*"))
    trainer.locator("[data-state=done]").wait_for(timeout=15_000)  # the page refreshes itself until the job ends
    trainer.locator("a.button[href*='/program/certificates?']").click()
    trainer.wait_for_url("**/program/certificates?**")
    codes = [c.strip() for c in trainer.locator("tbody .mono").all_inner_texts()]
    assert len(codes) == 3 and all(re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", c) for c in codes)
    not_yet = trainer.locator("tbody tr", has_text="ณัฐพล บุญมา")
    assert not_yet.locator(".mono").count() == 0  # the teacher who is not eligible gets nothing

    report = pdf_text(trainer_page, trainer, trainer.locator("a[href*='/program/report.pdf']").first)
    assert comparable("PLC คณิตศาสตร์ ม.1 ปีการศึกษา 2569") in report
    assert all(code in report for code in codes)

    trainer.locator("tbody tr", has_text="สมศรี ใจดี").locator("a[href*='/program/logbook/']").click()
    trainer.wait_for_url("**/program/logbook/**")
    assert "48" in trainer.locator("main").inner_text()  # four cycles of 12 hours

    trainer.goto(re.sub(r"/program/logbook/\d+", "/program/progress", trainer.url))
    away = trainer.locator("tbody tr", has_text="ณัฐพล บุญมา")
    assert away.locator("ul.reasons li").count() == 2  # too few complete cycles, too few hours
    assert trainer.locator("tbody tr strong", has_text="✓").count() == 3
    trainer_page.close()

    teacher_page, teacher = launch_into_the_example(browser, demo_tool, "demo-teacher-1", width=800)
    teacher.goto(re.sub(r"/home\?", "/program/progress?", teacher.url))
    teacher.locator(".card.eligibility.eligible").wait_for()  # four complete cycles, both roles, 48 hours
    teacher.goto(re.sub(r"/program/progress\?", "/program?", teacher.url))
    teacher.wait_for_url("**/program?**")
    teacher.locator("#certificates-window a[href*='/program/certificates?']").click()
    teacher.wait_for_url("**/program/certificates?**")
    mine = teacher.locator("tbody .mono").inner_text().strip()
    assert mine in codes
    certificate = pdf_text(teacher_page, teacher, teacher.locator("a[href*='.pdf'][href*='lang=th']").first)
    assert comparable("สมศรี ใจดี") in certificate and mine in certificate
    teacher_page.close()

    verify = browser.new_page(locale="th-TH")
    verify.goto(demo_tool.url(f"/verify/{mine}"))
    assert verify.locator("[data-status=valid]").is_visible()
    assert "สมศรี ใจดี" in verify.locator("main").inner_text()
    verify.close()

    # The launches found the rows the demo built at start-up: one person per sub, updated, not doubled.
    with demo_tool.database.transaction() as db:
        subs = list(db.scalars(select(Person.sub).where(Person.sub.in_(["demo-trainer-1", "demo-teacher-1"]))))
        assert sorted(subs) == ["demo-teacher-1", "demo-trainer-1"]
        launched = list(
            db.scalars(
                select(Membership)
                .join(Person)
                .join(Context, Membership.context_id == Context.id)
                .where(Person.sub == "demo-teacher-1", Context.context_id == demo.EXAMPLE.id)
            )
        )
        assert len(launched) == 1 and launched[0].last_launch_at >= started  # the launch updated the built row


def test_the_demo_course_page_shows_both_courses_in_thai(demo_tool: ToolServer, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1024, "height": 900}, locale="th-TH")
    page.goto(demo_tool.url("/demo/?lang=th"))
    card = page.locator("#example-course")
    assert demo.EXAMPLE.title in card.inner_text()
    assert card.locator("a[data-course=example]").count() == len(demo.EXAMPLE.people)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "demo-two-courses-th.png"), full_page=True)
    page.close()
