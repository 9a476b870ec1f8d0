"""Which LMS pages may frame the tool: a platform registered after the tool last read its list of platforms may frame
its own login at once, redirects included (Chromium checks frame-ancestors on every response of a framed
navigation, so a stale list on the login's redirect left the launch blank inside the new platform's iframe)."""

from __future__ import annotations

import requests
from sqlalchemy import delete

from lti_tool.lti.origin import origin_of
from models.platform import Platform
from tests.conftest import TEACHER, ToolServer, register
from tests.support.lti_platform import TestPlatform


def frame_ancestors(response: requests.Response) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    return policy.split("frame-ancestors", 1)[1].split(";", 1)[0].split()


def test_a_platform_registered_after_the_list_was_read_may_frame_its_logins_redirect(
    tool: ToolServer, platform: TestPlatform
) -> None:
    setup = requests.get(tool.url("/setup"), timeout=10)  # a page outside a session: the tool reads the list
    assert setup.status_code == 200
    newcomer = TestPlatform(client_id="client-newcomer", deployment_id="dep-newcomer", host="localhost")
    newcomer.start()
    try:
        newcomer.configure_tool(
            login_url=tool.url("/lti/login"), launch_url=tool.url("/lti/launch"), jwks_url=tool.url("/lti/jwks")
        )
        newcomer.add_user(TEACHER)
        register(tool, newcomer)
        assert origin_of(newcomer.issuer) not in frame_ancestors(setup)
        browser = requests.Session()
        to_login = browser.get(newcomer.initiation_url(sub=TEACHER.sub), allow_redirects=False, timeout=10)

        login = browser.get(to_login.headers["Location"], allow_redirects=False, timeout=10)

        assert 300 <= login.status_code < 400 and login.headers["Location"].startswith(newcomer.issuer)
        assert origin_of(newcomer.issuer) in frame_ancestors(login)
    finally:
        newcomer.stop()


def test_a_login_is_framed_by_its_own_platform_only(tool: ToolServer, platform: TestPlatform) -> None:
    with tool.database.transaction() as db:
        other = Platform(
            issuer="https://other-lms.example.org",
            client_id="client-other",
            name="Another district's Moodle",
            auth_login_url="https://other-lms.example.org/mod/lti/auth.php",
            auth_token_url="https://other-lms.example.org/mod/lti/token.php",
            key_set_url="https://other-lms.example.org/mod/lti/certs.php",
        )
        db.add(other)
    try:
        setup = requests.get(tool.url("/setup"), timeout=10)  # outside a session and a login: every platform
        assert "https://other-lms.example.org" in frame_ancestors(setup)
        browser = requests.Session()
        to_login = browser.get(platform.initiation_url(sub=TEACHER.sub), allow_redirects=False, timeout=10)

        login = browser.get(to_login.headers["Location"], allow_redirects=False, timeout=10)

        assert 300 <= login.status_code < 400 and login.headers["Location"].startswith(platform.issuer)
        assert frame_ancestors(login) == ["'self'", origin_of(platform.issuer)]
    finally:
        with tool.database.transaction() as db:
            db.execute(delete(Platform).where(Platform.issuer == "https://other-lms.example.org"))
