"""An OIDC login's state signed by the tool instead of stored, and its nonce spent once at launch: over real HTTP from
the Moodle-like platform with its RS256 keys, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.demo_lms.auto_form import read_auto_form
from lti_tool.lti.login_state import LoginState, issue_state, read_state, state_salt
from models.base import utcnow
from models.launch import RetiredLoginRequest, SpentNonce, purge_expired, spend_nonce
from models.platform import Platform
from tests.conftest import TEACHER, ToolServer
from tests.support.lti_platform import TestPlatform
from tests.support.signing import signed_seconds_ago
from tests.test_launch import reason_of


def _auth_form(
    tool: ToolServer, browser: requests.Session, platform: TestPlatform
) -> tuple[str, dict[str, str], LoginState]:
    """The platform's answer to the tool's login: the launch form's action and fields (id_token and state), and the
    login its state names."""
    page = browser.get(platform.initiation_url(sub=TEACHER.sub, context_id="course-42"), timeout=10)
    assert page.status_code == 200, page.text[:300]
    action, method, fields = read_auto_form(page)
    assert method == "post"
    login = read_state(tool.settings, dict(fields)["state"])
    assert login is not None
    return action, dict(fields), login


def _signed_at(
    tool: ToolServer, payload: object, seconds_ago: int, secret_key: str | None = None, base_url: str | None = None
) -> str:
    """A state of this payload as the tool would sign it `seconds_ago` (or with another key, or for another tool's
    address)."""
    salt = state_salt(base_url or tool.settings.public_base_url)
    return signed_seconds_ago(secret_key or tool.settings.secret_key, salt, payload, seconds_ago)


def _payload(login: LoginState) -> list[object]:
    return [login.platform_id, login.client_id, login.nonce, login.storage_target, login.browser_binding]


def test_a_login_writes_nothing_and_its_launch_spends_its_nonce_once(tool: ToolServer, platform: TestPlatform) -> None:
    browser = requests.Session()
    before = tool.snapshot()
    action, fields, login = _auth_form(tool, browser, platform)
    assert tool.snapshot() == before  # the login wrote no row
    assert browser.cookies.get("plc-state-" + login.nonce) == login.nonce  # the state cookie, named by the nonce

    landing = browser.post(action, data=fields, timeout=10)

    assert landing.status_code == 200 and "สมศรี ใจดี" in landing.text
    with tool.database.transaction() as db:
        [spent] = db.scalars(select(SpentNonce)).all()
    assert spent.nonce == login.nonce and spent.platform_id == login.platform_id
    assert spent.expires_at == login.expires_at(tool.settings)
    # The launch cleared the state cookie.
    assert not any(name.startswith("plc-state-") for name in browser.cookies.keys())


def test_an_expired_state_is_refused_and_changes_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    browser = requests.Session()
    action, fields, login = _auth_form(tool, browser, platform)
    payload = _payload(login)
    ttl = tool.settings.login_request_ttl_seconds
    before = tool.snapshot()

    leeway = tool.settings.jwt_leeway_seconds
    for seconds_ago in (ttl + 5, -leeway - 5):  # too old; or from a clock further ahead than the leeway
        refused = browser.post(action, data={**fields, "state": _signed_at(tool, payload, seconds_ago)}, timeout=10)
        assert refused.status_code == 401 and reason_of(refused) == "unknown_state", seconds_ago
    assert tool.snapshot() == before
    # The same payload signed a moment ago, or by a host whose clock is a little ahead, is the login: it goes through.
    fresh = browser.post(action, data={**fields, "state": _signed_at(tool, payload, -leeway + 5)}, timeout=10)
    assert fresh.status_code == 200 and "สมศรี ใจดี" in fresh.text


def test_a_state_signed_with_another_key_or_changed_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    browser = requests.Session()
    action, fields, login = _auth_form(tool, browser, platform)
    payload = _payload(login)
    body, stamp, signature = fields["state"].rsplit(".", 2)
    before = tool.snapshot()

    for state in (
        _signed_at(tool, payload, 0, secret_key="another-tool's-key"),
        _signed_at(tool, payload, 0, base_url="https://staging.example.org"),  # the same key, another tool's address
        "x" + body + "." + stamp + "." + signature,  # the payload changed under its signature
        body + "." + stamp + "." + signature[:-2] + ("AA" if not signature.endswith("AA") else "BB"),
        _signed_at(tool, {"platform": login.platform_id, "nonce": login.nonce}, 0),  # signed, not a login's shape
        _signed_at(tool, [login.platform_id + 1000, *payload[1:]], 0),  # a registration that is not there
        _signed_at(tool, [login.platform_id, "another-client", *payload[2:]], 0),  # its row now another's
    ):
        refused = browser.post(action, data={**fields, "state": state}, timeout=10)
        assert refused.status_code == 401 and reason_of(refused) == "unknown_state", state

    assert tool.snapshot() == before


def test_read_state_takes_only_what_issue_state_signed(tool: ToolServer) -> None:
    login = issue_state(tool.settings, 7, "client-7", "nonce-7", storage_target="_parent", browser_binding="ab" * 32)

    found = read_state(tool.settings, login.state)

    assert found == login
    assert (found.platform_id, found.client_id, found.nonce, found.storage_target) == (
        7,
        "client-7",
        "nonce-7",
        "_parent",
    )
    assert found.expires_at(tool.settings) - found.issued_at == timedelta(
        seconds=tool.settings.login_request_ttl_seconds
    )
    assert read_state(tool.settings, "") is None and read_state(tool.settings, "not.a.state") is None
    link = URLSafeTimedSerializer(tool.settings.secret_key, salt="plc-session-link").dumps([7, "c", "n", None, None])
    assert read_state(tool.settings, link) is None  # the tool's other signed tokens are not states
    for shape in (
        [7, "c", "n", None],
        [True, "c", "n", None, None],
        [0, "c", "n", None, None],
        [2**31, "c", "n", None, None],
        ["7", "c", "n", None, None],
        [7, 3, "n", None, None],
        [7, "c", "", None, None],
        [7, "c", "n", 3, None],
        [7, "c", "n", None, 4],
    ):
        assert read_state(tool.settings, _signed_at(tool, shape, 0)) is None, shape


def test_a_nonce_is_spent_once_and_forgotten_an_hour_after_its_state_expired(db: Session) -> None:
    now = utcnow()
    assert spend_nonce(db, "nonce-1", 1, now + timedelta(minutes=10))
    assert not spend_nonce(db, "nonce-1", 1, now + timedelta(minutes=10))  # a replay, in the same transaction
    assert spend_nonce(db, "nonce-2", 1, now - timedelta(minutes=50))  # its state expired 50 minutes ago: kept
    assert spend_nonce(db, "nonce-3", 1, now - timedelta(minutes=70))  # 70 minutes ago: forgotten
    registration = Platform(issuer="https://old.example", client_id="c", auth_login_url="https://old.example/a",
                            auth_token_url="https://old.example/t", key_set_url="https://old.example/k")  # fmt: skip
    db.add(registration)
    db.flush()
    old_login = {"platform_id": registration.id, "target_link_uri": "x", "created_at": now - timedelta(days=2)}
    db.add_all(
        RetiredLoginRequest(state=f"s{days}", nonce=f"n{days}", expires_at=now - timedelta(days=days), **old_login)
        for days in (0.5, 2)
    )
    db.flush()

    assert purge_expired(db) == 2

    assert sorted(db.scalars(select(SpentNonce.nonce))) == ["nonce-1", "nonce-2"]
    assert list(db.scalars(select(RetiredLoginRequest.state))) == ["s0.5"]  # a day after it expired, not sooner
    assert not spend_nonce(db, "nonce-1", 1, now + timedelta(minutes=10))


def test_the_same_launch_posted_twice_at_once_goes_through_once(tool: ToolServer, platform: TestPlatform) -> None:
    browser = requests.Session()
    action, fields, _login = _auth_form(tool, browser, platform)
    cookies = browser.cookies.get_dict()

    def post(_: int) -> requests.Response:
        return requests.post(action, data=fields, cookies=cookies, timeout=20)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(post, range(2)))

    assert sorted(answer.status_code for answer in answers) == [200, 401]
    assert [reason_of(answer) for answer in answers if answer.status_code == 401] == ["nonce_used"]
    with tool.database.transaction() as db:
        assert len(db.scalars(select(SpentNonce)).all()) == 1


def test_a_login_naming_an_overlong_storage_frame_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    before = tool.snapshot()
    params = {"iss": platform.issuer, "login_hint": "u1", "target_link_uri": tool.url("/lti/launch")}

    refused = requests.get(tool.url("/lti/login"), params={**params, "lti_storage_target": "f" * 256}, timeout=10)
    accepted = requests.get(
        tool.url("/lti/login"), params={**params, "lti_storage_target": "f" * 255}, timeout=10, allow_redirects=False
    )

    assert refused.status_code == 400 and reason_of(refused) == "bad_storage_target"
    assert "256" in refused.text and "255" in refused.text
    assert accepted.status_code == 200 and "lti-storage" in accepted.text
    assert tool.snapshot() == before
