"""Issue #4's "done when", in Chromium and from the demo LMS alone: register PLC Bridge by Dynamic Registration, add
a graded reflection by Deep Linking, a teacher writes the reflection through that activity, the trainer opens the
same activity and grades it with the rubric, and the grade appears in the demo LMS's gradebook (AGS, through the
score outbox and the worker thread of the embedded default)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ToolServer, start_tool
from tests.support.waiting import wait_until
from tests.test_browser_demo_cycle import set_up_a_running_program
from tests.test_browser_plc import shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolServer]:
    instance = tmp_path_factory.mktemp("demo-journey")
    server = start_tool(instance, f"sqlite:///{instance / 'demo.sqlite3'}", demo_enabled=True, worker_thread=True)
    yield server
    server.server.shutdown()
    server.server.server_close()


def open_added_activity(page: Any, demo_tool: ToolServer, button: str) -> Any:
    """The demo course's first added activity, opened in its iframe; returns the frame once the tool answers."""
    page.goto(demo_tool.url("/demo/?lang=th"))
    page.locator("#course-activities li[data-activity]").first.get_by_role("link", name=button).click()
    page.wait_for_function(
        "() => { const f = document.querySelector('iframe[name=tool]');"
        " return f && f.contentWindow.location.href.includes('s='); }",
        timeout=15_000,
    )
    return page.frame(name="tool")


def test_register_add_a_reflection_grade_it_and_see_the_grade_in_the_demo_gradebook(
    demo_tool: ToolServer, browser: Any
) -> None:
    lms = browser.new_page(viewport={"width": 1100, "height": 900}, locale="th-TH")
    lms.goto(demo_tool.url("/demo/admin?lang=th"))
    lms.get_by_role("button", name="เพิ่ม LTI Advantage").click()
    lms.locator("#registered-notice").wait_for(timeout=20_000)

    lms.goto(demo_tool.url("/demo/?lang=th"))
    lms.locator("#add-activity").click()
    picker = lms.frame_locator("iframe[name=tool]")
    picker.get_by_label("การสะท้อนผล (มีคะแนน)", exact=False).check()
    picker.get_by_label("วงรอบ (สำหรับวงรอบ", exact=False).select_option("1")
    picker.get_by_role("button", name="เพิ่มลงในรายวิชา").click()
    picker.locator("#deep-link-added").wait_for(timeout=15_000)

    set_up_a_running_program(browser, demo_tool).close()

    teacher = open_added_activity(lms, demo_tool, "เปิดในฐานะครู")
    assert "/program/cycles/1/reflection" in teacher.url
    teacher.fill("#text", "ผู้เรียนอธิบายเหตุผลได้ดีขึ้นเมื่อใช้แถบเศษส่วน")
    teacher.get_by_role("button", name="ส่งการสะท้อนผล").click()
    teacher.get_by_text("บันทึกการสะท้อนผลของคุณแล้ว").wait_for()

    trainer = open_added_activity(lms, demo_tool, "เปิดในฐานะวิทยากร")
    assert "/program/reflections" in trainer.url
    trainer.locator("a[href*='/program/reflections/']").first.click()
    trainer.locator("form.rubric-form").wait_for()
    for radio in trainer.locator("input[type=radio][value='3']").all():
        radio.check()
    trainer.fill("#comment", "เชื่อมโยงกับเป้าหมายของวงรอบได้ดี")
    trainer.locator("form.rubric-form button[type=submit]").click()
    trainer.locator("p.notice[role=status]").wait_for()

    lms.goto(demo_tool.url("/demo/gradebook?lang=th"))

    def scored() -> bool:  # the worker thread posts the score within a few seconds
        row = lms.locator("tr[data-sub='demo-teacher-1']")
        if row.count() and "15" in row.first.inner_text():
            return True
        lms.wait_for_timeout(500)
        lms.reload()
        return False

    wait_until(scored, timeout=60, interval=0, message="the gradebook never showed the score")
    row_text = lms.locator("tr[data-sub='demo-teacher-1']").first.inner_text()
    assert "15 / 20" in row_text and "เชื่อมโยงกับเป้าหมายของวงรอบได้ดี" in row_text
    shot(lms, "demo-gradebook-after-grading-th.png")
    lms.close()
