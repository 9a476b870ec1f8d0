"""What binds a launch and a session to the browser that started them (issue 15, fix 5), over real HTTP and HTTPS:
partitioned cookies over HTTPS; without a cookie, the login's state bound to the browser that asked for it; a link's
session token short-lived, and honoured only with the browser's cookie where the browser keeps one; sign out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.cookiejar import DefaultCookiePolicy

import pytest
import requests
from sqlalchemy import select

from models.sessions import AppSession
from tests.conftest import BOTH_DATABASES, TEACHER, TRAINER, ToolServer, launch
from tests.support.https_tool import https_browser, https_tool_and_platform
from tests.support.lti_platform import TestPlatform, submit_auto_form
from tests.support.signing import signed_seconds_ago
from tests.test_launch import reason_of
from tests.test_program_pages import Visit

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


def cookieless(user_agent: str = "Chromium in the staff room", https: bool = False) -> requests.Session:
    """A browser that keeps no cookie; `https`: one that accepts the test's self-signed certificates."""
    browser = https_browser() if https else requests.Session()
    browser.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # a cross-site iframe that keeps no cookie
    browser.headers["User-Agent"] = user_agent
    return browser


def token_of(page: requests.Response) -> str:
    return page.url.split("s=", 1)[1]


# --- Without a cookie: the login's state is bound to the browser that asked for it -----------------------------


def test_a_launch_posted_by_another_browser_than_the_one_that_logged_in_is_refused(
    tool: ToolServer, platform: TestPlatform
) -> None:
    # Login CSRF: someone starts a login in their own browser and has another person's browser post the launch.
    their_page = cookieless("Firefox of the person who logged in").get(
        platform.initiation_url(sub=TEACHER.sub, context_id="course-42", resource_link_id="rl-7")
    )
    before = tool.snapshot()

    response = submit_auto_form(cookieless("Chromium of someone else"), their_page)

    assert response.status_code == 401 and reason_of(response) == "browser_mismatch"
    assert "ไม่สามารถดำเนินการต่อได้" in response.text and "Cannot continue" in response.text
    assert tool.snapshot() == before  # no person, session or spent nonce


def test_the_browser_that_logged_in_is_let_in_without_any_cookie(tool: ToolServer, platform: TestPlatform) -> None:
    browser = cookieless()

    response = launch(browser, platform, TEACHER)

    assert response.status_code == 200, reason_of(response)
    assert "สมศรี ใจดี" in response.text and not browser.cookies


@pytest.fixture(scope="module")
def strict_tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ToolServer, TestPlatform]]:
    """A tool set to refuse launches that neither a cookie nor the platform's storage binds to the browser."""
    with https_tool_and_platform(tmp_path_factory.mktemp("strict"), "sqlite", require_browser_binding=True) as pair:
        yield pair


def test_the_setting_refuses_a_launch_that_no_cookie_binds_and_writes_nothing(
    strict_tool: tuple[ToolServer, TestPlatform],
) -> None:
    tool, platform = strict_tool
    browser = cookieless(https=True)
    auth_page = browser.get(platform.initiation_url(sub=TEACHER.sub, context_id="course-42"))
    before = tool.snapshot()

    response = submit_auto_form(browser, auth_page)

    assert response.status_code == 401 and reason_of(response) == "browser_binding_required"
    assert "ไม่สามารถดำเนินการต่อได้" in response.text and "Cannot continue" in response.text
    assert tool.snapshot() == before


def test_the_setting_lets_in_a_launch_whose_state_cookie_came_back(
    strict_tool: tuple[ToolServer, TestPlatform],
) -> None:
    tool, platform = strict_tool

    response = launch(https_browser(), platform, TEACHER)

    assert response.status_code == 200, reason_of(response)
    assert "สมศรี ใจดี" in response.text


# --- Over HTTPS: partitioned cookies, and a link honoured only with the browser's cookie ------------------------


@pytest.fixture(scope="module", params=BOTH_DATABASES)
def https(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ToolServer, TestPlatform]]:
    with https_tool_and_platform(tmp_path_factory.mktemp("https"), request.param) as pair:
        yield pair


def set_cookies(response: requests.Response) -> list[str]:
    return list(response.raw.headers.getlist("Set-Cookie"))


def test_over_https_the_state_and_session_cookies_are_partitioned(https: tuple[ToolServer, TestPlatform]) -> None:
    tool, platform = https
    browser = https_browser()
    auth_page = browser.get(platform.initiation_url(sub=TEACHER.sub, context_id="course-42"))
    [login] = [r for r in auth_page.history if "/lti/login" in r.url]

    landing = submit_auto_form(browser, auth_page)

    [launched] = [r for r in [*landing.history, landing] if "/lti/launch" in r.request.url]  # answered in place
    state_cookie = [c for c in set_cookies(login) if c.startswith("plc-state-")]
    session_cookie = [c for c in set_cookies(launched) if c.startswith("plc_session=")]
    assert state_cookie and session_cookie
    for cookie in state_cookie + session_cookie:
        attributes = {part.strip().split("=")[0] for part in cookie.split(";")}
        assert {"Secure", "HttpOnly", "Partitioned"} <= attributes, cookie
        assert "SameSite=None" in cookie, cookie


def test_over_https_a_link_opens_the_session_only_in_the_browser_that_holds_its_cookie(
    https: tuple[ToolServer, TestPlatform],
) -> None:
    tool, platform = https
    browser = https_browser()
    token = token_of(launch(browser, platform, TEACHER))

    mine = browser.get(tool.url("/home"), params={"s": token})
    # The same link copied from the browser's history into another browser (or after the browser was closed).
    elsewhere = https_browser().get(tool.url("/home"), params={"s": token})

    assert mine.status_code == 200 and "สมศรี ใจดี" in mine.text
    assert elsewhere.status_code == 401 and "สมศรี ใจดี" not in elsewhere.text


def test_over_https_a_browser_that_keeps_no_cookie_follows_the_links_of_its_first_page(
    https: tuple[ToolServer, TestPlatform],
) -> None:
    # The first page comes in the launch's answer, asked for in the tool: with the cookies this browser sent, not the
    # session cookie the launch sets and this browser drops (the page would take it as kept, and tie the links to it).
    tool, platform = https
    browser = cookieless(https=True)

    landing = launch(browser, platform, TEACHER)
    next_page = browser.get(tool.url("/home"), params={"s": token_of(landing)})

    assert landing.status_code == 200 and "data-launch-address" in landing.text and not landing.history
    assert next_page.status_code == 200 and "สมศรี ใจดี" in next_page.text
    with tool.database.transaction() as db:
        session = db.scalars(select(AppSession).order_by(AppSession.id.desc()).limit(1)).one()
        assert session.browser_bound_at is None


def test_the_next_person_launching_in_the_same_browser_closes_the_links_of_the_one_before(
    https: tuple[ToolServer, TestPlatform],
) -> None:
    tool, platform = https
    browser = https_browser()  # a shared staff-room computer
    teachers_link = token_of(launch(browser, platform, TEACHER))

    trainer = launch(browser, platform, TRAINER)
    from_history = browser.get(tool.url("/home"), params={"s": teachers_link})

    assert trainer.status_code == 200 and "กาญจนา ทองคำ" in trainer.text
    # The teacher's link opens nothing of theirs: the browser's cookie now opens the trainer's own session only.
    assert 'data-role="teacher"' not in from_history.text and 'data-role="trainer"' in from_history.text


def test_one_person_in_two_courses_keeps_both_tabs_over_https(https: tuple[ToolServer, TestPlatform]) -> None:
    tool, platform = https
    browser = https_browser()
    first = launch(browser, platform, TEACHER, context_id="course-a", context_title="วิชา ก")
    launch(browser, platform, TEACHER, context_id="course-b", context_title="วิชา ข")

    again = browser.get(first.url)

    assert again.status_code == 200 and "วิชา ก" in again.text and "วิชา ข" not in again.text


# --- A link's token lives twenty minutes, renewed on every page ------------------------------------------------


def signed_minutes_ago(tool: ToolServer, session_token: str, minutes: int) -> str:
    return signed_seconds_ago(tool.settings.secret_key, "plc-session-link", session_token, minutes * 60)


def test_a_link_older_than_twenty_minutes_no_longer_opens_the_session(tool: ToolServer, platform: TestPlatform) -> None:
    launch(cookieless(), platform, TEACHER)
    with tool.database.transaction() as db:
        session_token = db.scalars(select(AppSession.token)).one()

    recent = requests.get(tool.url("/home"), params={"s": signed_minutes_ago(tool, session_token, 19)})
    old = requests.get(tool.url("/home"), params={"s": signed_minutes_ago(tool, session_token, 21)})

    assert recent.status_code == 200 and "สมศรี ใจดี" in recent.text
    assert old.status_code == 401 and "สมศรี ใจดี" not in old.text
    # The page opened by the recent link carries fresh tokens: working on renews the link.
    fresh = re.search(r'href="/program\?s=([^"&]+)"', recent.text)
    assert fresh and fresh.group(1) != signed_minutes_ago(tool, session_token, 19)
    assert requests.get(tool.url("/program"), params={"s": fresh.group(1)}).status_code == 200


# --- Sign out ---------------------------------------------------------------------------------------------------


def sign_out_form(page: requests.Response) -> tuple[str, str]:
    match = re.search(
        r'<form id="sign-out" class="sign-out" method="post" action="([^"]+)">\s*'
        r'<input type="hidden" name="csrf" value="([0-9a-f]+)">',
        page.text,
    )
    assert match, "no sign-out form in the page's header"
    return match.group(1).replace("&amp;", "&"), match.group(2)


def test_every_page_of_a_session_offers_sign_out_in_its_header(tool: ToolServer, platform: TestPlatform) -> None:
    visit = Visit(tool, launch(requests.Session(), platform, TEACHER))

    for path in ("/home", "/program"):
        page = visit.get(path)
        header = page.text.split("</header>", 1)[0]
        assert 'form="sign-out"' in header and "ออกจากระบบ" in header, path
        sign_out_form(page)
        assert page.headers["Cache-Control"] == "no-store"  # Back after sign out asks the server again


def test_signing_out_ends_the_session_on_the_server(tool: ToolServer, platform: TestPlatform) -> None:
    visit = Visit(tool, launch(requests.Session(), platform, TEACHER))
    action, csrf = sign_out_form(visit.get("/home"))

    signed_out = visit.browser.post(tool.url(action), data={"csrf": csrf})

    assert signed_out.status_code == 200
    assert "ออกจากระบบ PLC Bridge แล้ว" in signed_out.text and "signed out of PLC Bridge" in signed_out.text
    assert 'form="sign-out"' not in signed_out.text
    assert visit.get("/home").status_code == 401  # the link from the history opens nothing any more
    with tool.database.transaction() as db:
        assert db.scalars(select(AppSession.ended_at)).one() is not None


def test_signing_out_without_the_forms_token_changes_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    visit = Visit(tool, launch(requests.Session(), platform, TEACHER))
    action, _csrf = sign_out_form(visit.get("/home"))

    refused = visit.browser.post(tool.url(action), data={"csrf": "0" * 64})

    assert refused.status_code == 400
    assert visit.get("/home").status_code == 200
    with tool.database.transaction() as db:
        assert db.scalars(select(AppSession.ended_at)).one() is None


def test_signing_out_over_https_ends_the_browsers_cookie_too(https: tuple[ToolServer, TestPlatform]) -> None:
    tool, platform = https
    browser = https_browser()
    landing = launch(browser, platform, TEACHER)
    action, csrf = sign_out_form(landing)

    signed_out = browser.post(tool.url(action), data={"csrf": csrf})

    assert signed_out.status_code == 200
    assert browser.get(tool.url("/home")).status_code == 401  # neither the cookie
    assert browser.get(landing.url).status_code == 401  # nor the link
