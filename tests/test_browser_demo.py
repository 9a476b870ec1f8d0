"""A newcomer clicks through the demo LMS in a real browser (Debian's Chromium through Playwright)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ToolServer, start_tool

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolServer]:
    instance = tmp_path_factory.mktemp("demo")
    server = start_tool(instance, f"sqlite:///{instance / 'demo.sqlite3'}", demo_enabled=True)
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.mark.parametrize(
    ("button", "name", "role_marker", "shot"),
    [
        ("เข้าใช้งานในฐานะครู", "สมศรี ใจดี", 'data-role="teacher"', "demo-teacher-th.png"),
        ("เข้าใช้งานในฐานะวิทยากร", "กาญจนา ทองคำ", 'data-role="trainer"', "demo-trainer-th.png"),
    ],
)
def test_newcomer_launches_from_the_demo_course_into_the_tool(
    demo_tool: ToolServer, browser: object, button: str, name: str, role_marker: str, shot: str
) -> None:
    page = browser.new_page(viewport={"width": 1024, "height": 900}, locale="th-TH")  # type: ignore[attr-defined]
    page.goto(demo_tool.url("/demo/"))
    page.get_by_role("link", name=button).first.click()

    frame = page.frame_locator("iframe[name=tool]")
    frame.get_by_role("heading", name=f"ยินดีต้อนรับ คุณ{name}").wait_for(timeout=15_000)
    assert role_marker in page.frame(name="tool").content()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    page.close()


def test_demo_launch_works_by_keyboard_alone(demo_tool: ToolServer, browser: object) -> None:
    page = browser.new_page(locale="en-US")  # type: ignore[attr-defined]
    page.goto(demo_tool.url("/demo/?lang=en"))
    launch_link = page.get_by_role("link", name="Launch as teacher").first
    for _ in range(20):
        page.keyboard.press("Tab")
        if launch_link.evaluate("el => el === document.activeElement"):
            break
    page.keyboard.press("Enter")

    page.frame_locator("iframe[name=tool]").get_by_text("สมศรี ใจดี").first.wait_for(timeout=15_000)
    page.close()


def test_tool_landing_page_fits_an_800px_iframe(demo_tool: ToolServer, browser: object) -> None:
    page = browser.new_page(viewport={"width": 800, "height": 700}, locale="th-TH")  # type: ignore[attr-defined]
    page.goto(demo_tool.url("/demo/launch/demo-trainer-1"))
    page.get_by_role("heading", name="ยินดีต้อนรับ คุณกาญจนา ทองคำ").wait_for(timeout=15_000)

    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, "the page scrolls sideways in an 800 px frame"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "landing-800px-th.png"), full_page=True)
    page.close()
