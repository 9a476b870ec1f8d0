"""The launch answers with the page it leads to (lti_tool/web/launch_answer.py), over real HTTP: the page as its own
GET would show it, which puts its address back in the history; the redirect of before where that page cannot be
shown in place. A reload in a real browser: tests/test_browser_launch_answer.py."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
import requests
from flask import redirect
from sqlalchemy.exc import OperationalError

from lti_tool.demo_lms.auto_form import launch_address_of, read_auto_form
from lti_tool.lti.origin import origin_of
from models.sessions import AppSession
from tests.conftest import TEACHER, TRAINER, ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_frame_ancestors import frame_ancestors
from tests.test_launch import reason_of


def posted_launch(platform: TestPlatform, user: Any = TEACHER, **initiation: Any) -> tuple[requests.Session, Any]:
    """A browser, and the platform's auto-posted launch form as the browser would post it: (action, fields)."""
    browser = requests.Session()
    params = {"sub": user.sub, "context_id": "course-42", "resource_link_id": "rl-7", **initiation}
    auth_page = browser.get(platform.initiation_url(**params), timeout=10)
    action, _method, fields = read_auto_form(auth_page)
    return browser, (action, fields)


def post(browser: requests.Session, form: tuple[str, Any], **headers: str) -> requests.Response:
    return browser.post(form[0], data=form[1], headers=headers, allow_redirects=False, timeout=10)


def address_of(page: requests.Response) -> str:
    address = launch_address_of(page)
    assert address, page.text[:300]
    return address


def test_the_launch_answers_with_the_page_it_leads_to(tool: ToolServer, platform: TestPlatform) -> None:
    browser, form = posted_launch(platform)

    answer = post(browser, form, **{"X-Request-ID": "launch-0123456789abcdef"})

    assert answer.status_code == 200 and "Location" not in answer.headers
    assert "สมศรี ใจดี" in answer.text and 'data-role="teacher"' in answer.text
    address = address_of(answer)
    assert address.startswith("/home?s=")
    assert 'src="/static/launch_address.js"' in answer.text
    assert f'<noscript><meta http-equiv="refresh" content="0; url={html.escape(address)}"></noscript>' in answer.text
    # The answer is a page of the session: its links carry the session's token, its headers a page's.
    # (signed for the same session, maybe a second later than the address: the signature carries its time)
    links = set(re.findall(r'href="/[^"]*[?&]s=([^"&]+)"', answer.text))
    assert links and {link.split(".")[0] for link in links} == {address.split("s=", 1)[1].split(".")[0]}
    assert frame_ancestors(answer) == ["'self'", origin_of(platform.issuer)]  # the launching platform's page only
    assert answer.headers["Referrer-Policy"] == "no-referrer" and "no-store" in answer.headers["Cache-Control"]
    assert answer.headers["X-Request-ID"] == "launch-0123456789abcdef"
    # The launch's cookies: the session's set, the login's state removed.
    assert browser.cookies.get("plc_session") and not [c for c in browser.cookies if c.name.startswith("plc-state-")]


def test_the_pages_address_shows_it_again_by_get_and_the_launch_is_not_posted_twice(
    tool: ToolServer, platform: TestPlatform
) -> None:
    browser, form = posted_launch(platform)
    answer = post(browser, form)

    reloaded = browser.get(tool.url(address_of(answer)), allow_redirects=False, timeout=10)
    posted_again = post(browser, form)  # what reloading the launch's own address would do

    assert reloaded.status_code == 200 and "สมศรี ใจดี" in reloaded.text
    assert "data-launch-address" not in reloaded.text  # a page asked for by its address has nothing to put back
    assert posted_again.status_code == 401 and reason_of(posted_again) == "nonce_used"


def test_a_staff_launch_of_an_activity_answers_with_that_activitys_page(
    tool: ToolServer, platform: TestPlatform
) -> None:
    browser, form = posted_launch(platform, TRAINER, custom={"activity": "landing"})

    answer = post(browser, form)

    assert answer.status_code == 200 and "กาญจนา ทองคำ" in answer.text and 'data-role="trainer"' in answer.text


@pytest.mark.parametrize("failure", ["raises", "redirects", "refuses", "database away", "puts no address back"])
def test_a_page_that_cannot_be_shown_in_the_answer_leaves_the_redirect_and_the_launch_recorded(
    tool: ToolServer, platform: TestPlatform, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    def landing() -> Any:
        if failure == "raises":
            raise RuntimeError("the page broke")
        if failure == "redirects":
            return redirect("/elsewhere")
        if failure == "puts no address back":  # a page not made from base.html: a reload would post the launch
            return "<!doctype html><p>สมศรี ใจดี data-launch-address=</p>"
        if failure == "database away":  # the error page says so (503), as the browser's own GET would show it
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        return "not found", 404

    browser, form = posted_launch(platform)
    sessions_before = tool.counts()[AppSession.__tablename__]
    with monkeypatch.context() as patched:
        patched.setitem(tool.app.view_functions, "home.landing", landing)
        answer = post(browser, form)

    assert answer.status_code == 303 and answer.headers["Location"].startswith("/home?s=")
    assert browser.cookies.get("plc_session")
    assert tool.counts()[AppSession.__tablename__] == sessions_before + 1
    page = browser.get(tool.url(answer.headers["Location"]), timeout=10)  # what the browser does next
    assert page.status_code == 200 and "สมศรี ใจดี" in page.text
