"""A newcomer, in Chromium, registers PLC Bridge with the demo LMS by Dynamic Registration, then adds a PLC activity
to the demo course by Deep Linking and opens it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from models.platform import Platform
from tests.conftest import ToolServer, start_tool

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolServer]:
    instance = tmp_path_factory.mktemp("demo-advantage")
    server = start_tool(instance, f"sqlite:///{instance / 'demo.sqlite3'}", demo_enabled=True)
    yield server
    server.server.shutdown()
    server.server.server_close()


def demo_registrations(tool: ToolServer) -> list[str]:
    with tool.database.transaction() as db:
        rows = db.scalars(select(Platform).where(Platform.issuer == tool.url("/demo")).order_by(Platform.id))
        return [row.client_id for row in rows]


def test_newcomer_registers_the_tool_then_adds_and_opens_a_graded_reflection(
    demo_tool: ToolServer, browser: object
) -> None:
    page = browser.new_page(viewport={"width": 1024, "height": 900}, locale="th-TH")  # type: ignore[attr-defined]

    # Site administration → "Add LTI Advantage" with the tool's registration URL (prefilled).
    page.goto(demo_tool.url("/demo/admin?lang=th"))
    assert page.get_by_label("URL ของเครื่องมือ").input_value() == demo_tool.url("/lti/register")
    page.get_by_role("button", name="เพิ่ม LTI Advantage").click()
    page.locator("#registered-notice").wait_for(timeout=20_000)  # the tool's postMessage closed the frame
    assert len(demo_registrations(demo_tool)) == 2 and demo_registrations(demo_tool)[1].startswith("demo-dr-")
    assert demo_registrations(demo_tool)[1] in page.content()

    # The course: "Add a PLC activity" opens the tool's picker in the course frame.
    page.goto(demo_tool.url("/demo/?lang=th"))
    page.locator("#add-activity").click()
    frame = page.frame_locator("iframe[name=tool]")
    frame.get_by_role("heading", name="เพิ่มกิจกรรม PLC").wait_for(timeout=15_000)
    frame.get_by_label("การสะท้อนผล (มีคะแนน)", exact=False).check()
    frame.get_by_label("วงรอบ (สำหรับวงรอบ", exact=False).select_option("2")
    frame.get_by_role("button", name="เพิ่มลงในรายวิชา").click()
    frame.locator("#deep-link-added").wait_for(timeout=15_000)
    frame.get_by_role("link", name="กลับไปที่รายวิชาสาธิต").click()

    # The added activity is in the course, graded, and opens with its custom parameters.
    page.locator("#course-activities li[data-activity]").first.wait_for(timeout=15_000)
    row = page.locator("#course-activities li[data-activity]").first
    assert "plc_activity=reflection" in row.inner_text() and "plc_cycle=2" in row.inner_text()
    row.get_by_role("link", name="เปิดในฐานะครู").click()
    page.wait_for_function(
        "() => { const f = document.querySelector('iframe[name=tool]');"
        " return f && f.contentWindow.location.pathname !== 'blank' && f.contentWindow.location.href.includes('s='); }",
        timeout=15_000,
    )
    opened = page.frame(name="tool").url
    expected = "/program/cycles/2/reflection" if "reflections.show" in demo_tool.app.view_functions else "/home"
    assert expected in opened, opened
    page.close()


def test_screenshots_of_the_registration_and_the_picker_at_800px_in_thai(
    demo_tool: ToolServer, browser: object
) -> None:
    page = browser.new_page(viewport={"width": 800, "height": 900}, locale="th-TH")  # type: ignore[attr-defined]
    page.goto(demo_tool.url("/demo/admin?lang=th"))
    page.get_by_role("button", name="เพิ่ม LTI Advantage").click()
    page.locator("#registered-notice").wait_for(timeout=20_000)
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-dynamic-registration-th.png"), full_page=True)

    page.goto(demo_tool.url("/demo/deep-link/demo-trainer-1"))
    page.get_by_role("heading", name="เพิ่มกิจกรรม PLC").wait_for(timeout=15_000)
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    page.screenshot(path=str(ARTIFACTS / "deep-linking-picker-th.png"), full_page=True)
    page.close()


def test_the_demo_platform_refuses_a_registration_without_its_token(demo_tool: ToolServer) -> None:
    answer = requests.post(demo_tool.url("/demo/registration"), json={"client_name": "x"}, timeout=10)
    forged = requests.post(
        demo_tool.url("/demo/registration"), json={}, headers={"Authorization": "Bearer forged"}, timeout=10
    )

    assert (answer.status_code, answer.json()) == (401, {"error": "missing_registration_token"})
    assert (forged.status_code, forged.json()) == (401, {"error": "invalid_registration_token"})


def test_the_demo_platform_refuses_a_deep_linking_answer_it_cannot_verify(demo_tool: ToolServer) -> None:
    refused = requests.post(demo_tool.url("/demo/deep-link-return"), data={"JWT": "not.a.jwt"}, timeout=10)

    assert refused.status_code == 400 and "deep-link-added" not in refused.text


def test_the_picker_works_by_keyboard_alone(demo_tool: ToolServer, browser: object) -> None:
    page = browser.new_page(viewport={"width": 800, "height": 900}, locale="en-US")  # type: ignore[attr-defined]
    page.goto(demo_tool.url("/demo/deep-link/demo-trainer-1"))
    page.locator("#activity-cycle").wait_for(timeout=15_000)
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "activity-cycle":
            break
    for _ in range(3):  # cycle → session → observation → reflection
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")  # the cycle list
    page.keyboard.press("ArrowDown")  # cycle 2
    assert page.evaluate("document.activeElement.id") == "cycle"
    for _ in range(3):  # element, title, the button
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    page.locator("#deep-link-added").wait_for(timeout=15_000)
    course = json.loads((demo_tool.settings.instance_path / "demo-lms.json").read_text(encoding="utf-8"))
    assert course["activities"][-1]["custom"] == {"plc_activity": "reflection", "plc_cycle": "2"}
    assert course["activities"][-1]["line_item"]["tag"] == "plc-reflection"
    page.close()
