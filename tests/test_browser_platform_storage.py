"""Inside a platform's iframe with third-party cookies blocked, the launch keeps its state in the platform's
storage (LTI Client Side postMessages) and the session travels in links: a real Chromium, a real platform page."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import TEACHER, ToolServer, register
from tests.support.lti_platform import TestPlatform

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def cross_site_platform(tool: ToolServer) -> Iterator[TestPlatform]:
    platform = TestPlatform(client_id="client-storage", deployment_id="dep-storage", host="localhost")
    platform.start()
    platform.configure_tool(
        login_url=tool.url("/lti/login"), launch_url=tool.url("/lti/launch"), jwks_url=tool.url("/lti/jwks")
    )
    platform.add_user(TEACHER)
    register(tool, platform)
    yield platform
    platform.stop()


def _what_the_frame_shows(page: Any) -> str:
    """The tool frame's address and visible text, for a failure message (the heading did not come)."""
    frame = page.frame(name="tool")
    if frame is None:
        return "no tool frame"
    try:  # a locator's read gives up after its timeout; a frame's evaluate waits on a navigating frame for ever
        text = frame.locator("body").inner_text(timeout=5_000)
    except Exception as error:  # a crashed or navigating frame
        text = f"(unreadable: {error})"
    return f"{frame.url}\n{text[:800]}\nplatform storage: {page.evaluate('window.platformStorageLog')}"


def _launch_in_the_course_page(browser: Any, platform: TestPlatform) -> tuple[Any, Any, str | None]:
    """Open the platform's course page with the tool in its cross-site iframe; the context, the page, and what the
    frame showed instead of the teacher's welcome (None when the welcome came)."""
    context = browser.new_context(locale="th-TH")
    page = context.new_page()
    page.goto(platform.course_page_url(sub=TEACHER.sub, context_id="course-42", storage_target="_parent"))
    heading = page.frame_locator("iframe[name=tool]").get_by_role("heading", name="ยินดีต้อนรับ คุณสมศรี ใจดี")
    try:
        heading.wait_for(timeout=60_000)  # the launch's four round trips and the storage messages, on a busy machine
    except PlaywrightTimeout:
        return context, page, _what_the_frame_shows(page)
    return context, page, None


@pytest.mark.timeout(300)  # two attempts of up to a minute each
def test_launch_in_a_cross_site_iframe_without_cookies_uses_platform_storage(
    tool: ToolServer, cross_site_platform: TestPlatform, browser: Any
) -> None:
    context, page, shown = _launch_in_the_course_page(browser, cross_site_platform)
    if shown is not None:
        # Once in several full CI runs the welcome did not come within 20 s (then the limit) although the tool had accepted the launch
        # (never reproduced here, alone or after the whole suite). A second, fresh browser context tells a passing
        # hiccup of the browser from a fault of ours, which fails both times; the first attempt is reported either way.
        context.close()
        warnings.warn(f"the first cross-site launch showed instead of the welcome: {shown}", stacklevel=1)
        context, page, again = _launch_in_the_course_page(browser, cross_site_platform)
        assert again is None, f"first attempt showed: {shown}\nsecond attempt showed: {again}"
    frame = page.frame_locator("iframe[name=tool]")

    # The state went into the platform's storage at login and was read back at launch.
    log = page.evaluate("window.platformStorageLog")
    assert any(entry.startswith("lti.put_data:state_") for entry in log)
    assert any(entry.startswith("lti.get_data:state_") for entry in log)
    # The browser kept no cookie of the tool's: the session rides in the links.
    assert not [c for c in context.cookies() if c["domain"] == "127.0.0.1"]
    frame.get_by_role("link", name="English").click()
    frame.get_by_role("heading", name="Welcome, สมศรี ใจดี").wait_for(timeout=10_000)
    context.close()


def test_launch_posted_without_the_storage_check_is_answered_with_the_check_page(
    tool: ToolServer, cross_site_platform: TestPlatform
) -> None:
    """Without a cookie, a launch whose login offered storage is not accepted until the state is confirmed."""
    from tests.support.lti_platform import submit_auto_form

    browser_without_cookies = requests.Session()
    browser_without_cookies.cookies.set_policy(
        __import__("http.cookiejar").cookiejar.DefaultCookiePolicy(allowed_domains=[])
    )
    auth_page = browser_without_cookies.get(
        cross_site_platform.initiation_url(sub=TEACHER.sub, context_id="course-42", storage_target="_parent")
    )
    # The login page asks the platform to store state and nonce, then goes on to the platform's auth URL.
    assert 'data-mode="login"' in auth_page.text
    before = tool.snapshot()
    next_url = auth_page.text.split('data-next="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    launch_page = submit_auto_form(browser_without_cookies, browser_without_cookies.get(next_url))

    assert launch_page.status_code == 200 and 'data-mode="launch"' in launch_page.text
    assert tool.snapshot() == before  # nothing accepted, nothing written yet
