"""The page a launch leads to, in the launch's answer, in a real browser (Debian's Chromium): the address bar shows
the page's own address, and reloading it, or coming back to it, asks for that page and never posts the launch again."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import TEACHER, ToolServer
from tests.support.lti_platform import TestPlatform

pytestmark = pytest.mark.browser


def tool_requests(page: Any, tool: ToolServer) -> list[str]:
    """The browser's requests to the tool's pages, as "METHOD /path", from now on (not its static files)."""
    seen: list[str] = []

    def note(request: Any) -> None:
        if request.url.startswith(tool.base_url) and "/static/" not in request.url:
            seen.append(f"{request.method} {request.url[len(tool.base_url) :].split('?', 1)[0]}")

    page.on("request", note)
    return seen


def test_a_launch_shows_its_page_at_its_own_address_and_a_reload_does_not_post_it_again(
    tool: ToolServer, platform: TestPlatform, browser: Any
) -> None:
    page = browser.new_page(viewport={"width": 800, "height": 900}, locale="th-TH")
    seen = tool_requests(page, tool)

    page.goto(platform.initiation_url(sub=TEACHER.sub, context_id="course-42", resource_link_id="rl-7"))
    page.get_by_text("สมศรี ใจดี").first.wait_for()

    assert seen == ["GET /lti/login", "POST /lti/launch"]  # the page came in the launch's answer: no redirect
    assert page.url.startswith(tool.url("/home?s="))
    link = page.get_by_role("link", name="English").get_attribute("href")
    assert page.evaluate("href => new URL(href, document.baseURI).pathname", link) == "/home"

    seen.clear()
    page.reload()
    page.get_by_text("สมศรี ใจดี").first.wait_for()
    assert seen == ["GET /home"] and page.url.startswith(tool.url("/home?s="))

    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/home?*lang=en*")
    page.locator("html[lang=en]").wait_for(state="attached")
    seen.clear()
    page.go_back()
    page.wait_for_url("**/home?s=*")
    page.locator("html[lang=th]").wait_for(state="attached")
    assert "POST /lti/launch" not in seen
    page.close()


def test_a_browser_that_runs_no_script_goes_to_the_pages_address(
    tool: ToolServer, platform: TestPlatform, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 800, "height": 900}, locale="th-TH", java_script_enabled=False)
    page = context.new_page()
    seen = tool_requests(page, tool)

    # Without scripts the platform's auto-posted forms wait for their button (inside <noscript>).
    page.goto(platform.initiation_url(sub=TEACHER.sub, context_id="course-42", resource_link_id="rl-7"))
    page.get_by_role("button").first.click()
    page.wait_for_url("**/home?s=*")
    page.get_by_text("สมศรี ใจดี").first.wait_for()

    assert seen == ["GET /lti/login", "POST /lti/launch", "GET /home"]  # the page's refresh, as after a redirect
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/home?*lang=en*")
    assert page.locator("html[lang=en]").count() == 1 and "POST /lti/launch" not in seen[3:]
    context.close()
