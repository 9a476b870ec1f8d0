"""Moodle 4.5 offers no platform storage, and Chromium keeps no ordinary third-party cookie: inside a cross-site
iframe over HTTPS the tool's partitioned cookies (CHIPS) are what bind the launch and the session to the browser.
A real Chromium, the tool at https://127.0.0.1 framed by the platform's course page at https://localhost."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from models.sessions import AppSession
from tests.conftest import TEACHER, ToolServer
from tests.support.https_tool import https_browser, https_tool_and_platform
from tests.support.lti_platform import TestPlatform

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")]


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ToolServer, TestPlatform]]:
    with https_tool_and_platform(tmp_path_factory.mktemp("chips"), "sqlite") as pair:
        yield pair


@pytest.fixture(scope="module")
def chromium(browser: Any) -> Iterator[Any]:
    """Debian's Chromium again, trusting the test's self-signed certificates."""
    trusting = browser.browser_type.launch(
        executable_path="/usr/bin/chromium",
        args=["--no-sandbox", "--disable-gpu", "--ignore-certificate-errors", "--disable-component-update"],
    )
    yield trusting
    trusting.close()


def test_an_embedded_launch_over_https_keeps_its_partitioned_cookies_in_the_cross_site_iframe(
    sites: tuple[ToolServer, TestPlatform], chromium: Any, launch_log: list[str]
) -> None:
    tool, platform = sites
    context = chromium.new_context(locale="th-TH")
    page = context.new_page()

    # As Moodle 4.5: no lti_storage_target, the tool in an iframe of the course page on another site.
    page.goto(platform.course_page_url(sub=TEACHER.sub, context_id="course-42"))
    frame = page.frame_locator("iframe[name=tool]")
    frame.get_by_role("heading", name="ยินดีต้อนรับ คุณสมศรี ใจดี").wait_for(timeout=20_000)

    launches = [line for line in launch_log if line.startswith("lti launch ")]
    assert launches and launches[-1].endswith("cookie=True"), launches
    assert page.evaluate("window.platformStorageLog") == []  # no platform storage was offered or used
    cookies = [c for c in context.cookies() if c["domain"] == "127.0.0.1"]
    assert [c["name"] for c in cookies] == ["plc_session"]
    assert cookies[0]["secure"] and cookies[0]["sameSite"] == "None"
    # The browser kept the cookie: the session is bound to it, and the next page goes through with it.
    with tool.database.transaction() as db:
        assert db.scalars(select(AppSession.browser_bound_at)).one() is not None
    frame.get_by_role("link", name="English").click()
    frame.get_by_role("heading", name="Welcome, สมศรี ใจดี").wait_for(timeout=10_000)
    frame.get_by_role("link", name="ไทย").click()
    frame.get_by_role("heading", name="ยินดีต้อนรับ คุณสมศรี ใจดี").wait_for(timeout=10_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tool_frame = page.locator("iframe[name=tool]")
    tool_frame.screenshot(path=str(SCREENSHOTS / "sign-out-in-the-header-th.png"))

    # Sign out, in the same iframe: the session ends on the server and the partitioned cookie goes.
    frame.get_by_role("button", name="ออกจากระบบ").click()
    frame.get_by_role("heading", name="คุณออกจากระบบ PLC Bridge แล้ว").wait_for(timeout=10_000)
    tool_frame.screenshot(path=str(SCREENSHOTS / "signed-out-th.png"))
    assert not [c for c in context.cookies() if c["domain"] == "127.0.0.1"]
    with tool.database.transaction() as db:
        assert db.scalars(select(AppSession.ended_at)).one() is not None
    context.close()


def test_a_launch_started_in_another_browser_is_refused_with_a_page_in_thai_and_english(
    sites: tuple[ToolServer, TestPlatform], chromium: Any
) -> None:
    """Login CSRF without cookies: a login started by another browser, its launch form posted by this Chromium."""
    tool, platform = sites
    elsewhere = https_browser()
    elsewhere.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    elsewhere.headers["User-Agent"] = "Firefox of the person who started the login"
    their_launch_form = elsewhere.get(platform.initiation_url(sub=TEACHER.sub, context_id="course-42"))
    before = tool.snapshot()
    context = chromium.new_context(locale="th-TH", viewport={"width": 800, "height": 600})
    page = context.new_page()
    page.goto(platform.issuer + "/mod/lti/return.php")  # any page of the platform's site

    page.set_content(their_launch_form.text)  # its script posts the form to the tool at once

    page.get_by_role("heading", name="ไม่สามารถดำเนินการต่อได้").wait_for(timeout=10_000)
    assert "browser_mismatch" in page.content() and "Cannot continue" in page.content()
    assert tool.snapshot() == before
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "launch-refused-another-browser-th.png"), full_page=True)
    context.close()
