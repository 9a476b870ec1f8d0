"""Issue #7's "done when": from the demo LMS alone, in Thai, a trainer sets up a program and a team of three, the
teachers run a whole cycle (five element sessions, two Buddy observations, three reflections), the trainer grades a
reflection, and eligibility moves on the teachers' progress pages. Debian's Chromium through Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from models.base import utcnow
from models.calendar import program_day
from tests.conftest import ToolServer, start_tool
from tests.test_browser_plc import fits, shot

pytestmark = pytest.mark.browser
TEAM = ("demo-teacher-1", "demo-teacher-2", "demo-teacher-3")


@pytest.fixture(scope="module")
def demo_tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolServer]:
    instance = tmp_path_factory.mktemp("demo-cycle")
    server = start_tool(instance, f"sqlite:///{instance / 'demo.sqlite3'}", demo_enabled=True)
    yield server
    server.server.shutdown()
    server.server.server_close()


def as_person(browser: Any, demo_tool: ToolServer, sub: str) -> Any:
    page = browser.new_page(viewport={"width": 800, "height": 900}, locale="th-TH")
    page.goto(demo_tool.url(f"/demo/launch/{sub}"))
    page.wait_for_url("**/home?**", timeout=15_000)
    if "lang=th" not in page.url and page.locator("html[lang=th]").count() == 0:
        page.get_by_role("link", name="ไทย").click()
    return page


def go(page: Any, path: str) -> None:
    """Open a page of the tool in the same session, as its own links do (the session token travels in `s`)."""
    query = parse_qs(urlsplit(page.url).query)
    page.goto(urlsplit(page.url)._replace(path=path, query=urlencode({"s": query["s"][0]}), fragment="").geturl())


def set_up_a_running_program(browser: Any, demo_tool: ToolServer) -> Any:
    """As the demo's trainer, in Thai: a program, a team of three from the demo roster, submitted, approved today
    and started. Returns the trainer's page."""
    today = program_day(utcnow()).isoformat()
    trainer = as_person(browser, demo_tool, "demo-trainer-1")
    trainer.get_by_role("link", name="ไทย").click()
    trainer.locator("a[href*='/program?']").first.click()
    trainer.fill("#name", "PLC คณิตศาสตร์ ม.1 (ตัวอย่าง)")
    trainer.fill("#agency", "สำนักงานเขตพื้นที่การศึกษา (ตัวอย่าง)")
    trainer.fill("#min_hours", "10")
    trainer.locator("form.form button[type=submit]").first.click()
    trainer.locator("a[href*='/program/teams']").first.click()
    trainer.fill("#name", "กลุ่มคณิตศาสตร์")
    for name in ("สมศรี ใจดี", "ประยุทธ แก้วมณี"):
        trainer.get_by_label(name).check()
    trainer.locator("input[name=member]:not(:checked)").first.check()
    trainer.get_by_role("button", name="จัดกลุ่ม").click()
    trainer.locator("a[href*='/program?']").first.click()
    trainer.locator("form:has(input[value=submit]) button").click()
    trainer.locator("a[data-step=approve]").click()  # the approval asks first, with the Council's letter
    trainer.fill("#council_letter_number", "ศธ 0000/ตัวอย่าง (synthetic)")
    trainer.fill("#approved_on", today)
    trainer.locator("form.form button[type=submit]").click()
    trainer.locator("form:has(input[value=start]) button").click()
    trainer.get_by_text("กำลังดำเนินการ").first.wait_for()
    return trainer


def test_a_newcomer_runs_a_whole_cycle_from_the_demo_lms_in_thai(demo_tool: ToolServer, browser: Any) -> None:
    trainer = set_up_a_running_program(browser, demo_tool)

    recorder = as_person(browser, demo_tool, TEAM[0])
    for element in range(1, 6):
        recorder.get_by_role("link", name=f"องค์ประกอบที่ {element}: บันทึกกิจกรรมของกลุ่มเมื่อได้พบกัน").click()
        recorder.select_option("#element", str(element))
        recorder.fill("#hours", "2")
        recorder.get_by_role("button", name="บันทึกการประชุม").click()
        recorder.get_by_role("link", name="← กลับ").first.click()
    for sub in TEAM:
        page = recorder if sub == TEAM[0] else as_person(browser, demo_tool, sub)
        if page.get_by_role("link", name="สังเกตชั้นเรียนของครูผู้สอนและกรอกแบบบันทึกการสังเกตชั้นเรียน").count():
            page.get_by_role("link", name="สังเกตชั้นเรียนของครูผู้สอนและกรอกแบบบันทึกการสังเกตชั้นเรียน").click()
            for field in ("lesson", "students_did", "students_learned"):
                page.fill(f"#{field}", "นักเรียนใช้แถบเศษส่วนเปรียบเทียบเศษส่วน")
            page.locator("form button[type=submit]").last.click()
            page.wait_for_load_state()
            go(page, "/home")
        page.get_by_role("link", name="เขียนการสะท้อนผลของวงรอบที่ 1").click()
        page.fill("#text", "ผู้เรียนอธิบายเหตุผลได้ดีขึ้น ครั้งหน้าจะให้นักเรียนสร้างโจทย์เอง")
        page.get_by_role("button", name="ส่งการสะท้อนผล").click()
        page.get_by_text("บันทึกการสะท้อนผลของคุณแล้ว").wait_for()
        go(page, "/program/progress")
        page.get_by_text("ครบ 1 วงรอบ จาก 3 วงรอบที่คุรุสภากำหนด").wait_for()
        assert fits(page)
    shot(page, "demo-cycle-one-complete-th.png")

    go(trainer, "/program/reflections")
    trainer.locator("a[href*='/program/reflections/']").first.click()
    for radio in trainer.locator("input[type=radio][value='3']").all():
        radio.check()
    trainer.get_by_role("button", name="บันทึกคะแนน").click()
    trainer.get_by_text("บันทึกคะแนนแล้ว").wait_for()
    go(trainer, "/program/progress")
    trainer.get_by_text("ครู 0 จาก 3 คนผ่านเกณฑ์รับเกียรติบัตร").wait_for()
