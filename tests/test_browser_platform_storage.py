"""Inside a platform's iframe with third-party cookies blocked, the launch keeps its state in the platform's
storage (LTI Client Side postMessages) and the session travels in links: a real Chromium, a real platform page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

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


def test_launch_in_a_cross_site_iframe_without_cookies_uses_platform_storage(
    tool: ToolServer, cross_site_platform: TestPlatform, browser: object
) -> None:
    context = browser.new_context(locale="th-TH")  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(cross_site_platform.course_page_url(sub=TEACHER.sub, context_id="course-42", storage_target="_parent"))

    frame = page.frame_locator("iframe[name=tool]")
    frame.get_by_role("heading", name="ยินดีต้อนรับ คุณสมศรี ใจดี").wait_for(timeout=20_000)

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
