"""LTI Dynamic Registration over real HTTP: a Moodle-like platform's OpenID configuration and registration endpoint."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import delete, select

from lti_tool.lti.registration import RegistrationRefused, _check_endpoint
from lti_tool.settings import Settings
from models.platform import Deployment, Platform
from tests.conftest import TEACHER, TRAINER, ToolServer, launch
from tests.support.platform_registration import TOOL_CONFIGURATION, AdvantagePlatform
from tests.test_launch import reason_of


@pytest.fixture
def moodle(tool: ToolServer) -> Iterator[AdvantagePlatform]:
    """A Moodle that has not met the tool yet; its registrations are removed afterwards."""
    platform = AdvantagePlatform(name="Moodle เขตพื้นที่").start()
    platform.add_user(TEACHER)
    platform.add_user(TRAINER)
    yield platform
    platform.stop()
    with tool.database.transaction() as db:
        db.execute(delete(Platform).where(Platform.issuer == platform.issuer))


def register(tool: ToolServer, moodle: AdvantagePlatform, **kwargs: str) -> requests.Response:
    return requests.get(moodle.registration_start_url(tool.url("/lti/register"), **kwargs), timeout=30)


def registrations(tool: ToolServer, issuer: str) -> list[tuple[str, str, str, str, list[str]]]:
    with tool.database.transaction() as db:
        rows = db.scalars(select(Platform).where(Platform.issuer == issuer).order_by(Platform.id)).all()
        return [
            (p.client_id, p.auth_login_url, p.auth_token_url, p.key_set_url, [d.deployment_id for d in p.deployments])
            for p in rows
        ]


def assert_refused(response: requests.Response, status: int, reason: str, *phrases: str) -> None:
    assert response.status_code == status, response.text[:400]
    assert reason_of(response) == reason
    assert "ไม่สามารถดำเนินการต่อได้" in response.text and "Cannot continue" in response.text
    for phrase in phrases:
        assert phrase in response.text
    assert "registration_close.js" not in response.text


# --- The happy path -------------------------------------------------------------------------------------------


def test_platform_registers_the_tool_which_stores_its_endpoints_and_deployment(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    response = register(tool, moodle)

    assert response.status_code == 200, response.text[:400]
    assert registrations(tool, moodle.issuer) == [
        (moodle.client_id, moodle.auth_login_url, moodle.token_url, moodle.jwks_url, [moodle.deployment_id])
    ]
    assert moodle.client_id.startswith("dr-") and moodle.deployment_id == "1"
    assert moodle.client_id in response.text and moodle.issuer in response.text


def test_registration_posts_the_tool_configuration_with_the_registration_token_as_bearer(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    register(tool, moodle)

    [sent] = moodle.registration_requests
    assert sent["headers"]["Authorization"] == "Bearer " + moodle.registration_token
    body = sent["json"]
    assert body["redirect_uris"] == [tool.url("/lti/launch")]
    assert all("?" not in uri for uri in body["redirect_uris"])
    assert body["initiate_login_uri"] == tool.url("/lti/login")
    assert body["jwks_uri"] == tool.url("/lti/jwks")
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert set(body["grant_types"]) == {"implicit", "client_credentials"}
    assert body["response_types"] == ["id_token"]
    assert set(body["scope"].split()) == {
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    }
    config = body[TOOL_CONFIGURATION]
    assert config["domain"] == urlsplit(tool.base_url).netloc
    assert config["target_link_uri"] == tool.url("/lti/launch")
    assert {"sub", "iss", "name", "email"} <= set(config["claims"])
    assert config["custom_parameters"] == {"context_history": "$Context.id.history"}
    assert not any(name.startswith("plc_") for name in config["custom_parameters"])  # Moodle would let it win
    assert {m["type"]: m["target_link_uri"] for m in config["messages"]} == {
        "LtiResourceLinkRequest": tool.url("/lti/launch"),
        "LtiDeepLinkingRequest": tool.url("/lti/launch"),
    }


def test_people_of_a_freshly_registered_platform_can_launch_at_once(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    register(tool, moodle)

    landing = launch(requests.Session(), moodle, TEACHER)

    assert landing.status_code == 200 and landing.url.startswith(tool.url("/home"))
    assert "สมศรี ใจดี" in landing.text


def test_the_finished_page_asks_the_platform_to_close_it_from_a_static_script(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    response = register(tool, moodle)

    assert '<script src="/static/registration_close.js"></script>' in response.text
    assert "<script>" not in response.text  # no inline script: the CSP forbids it
    script = requests.get(tool.url("/static/registration_close.js"), timeout=10).text
    assert 'postMessage({subject: "org.imsglobal.lti.close"}, "*")' in script
    policy = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {moodle.issuer}" in policy and "script-src 'self'" in policy


def test_registering_the_same_issuer_and_client_again_updates_without_duplicating(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    register(tool, moodle)
    first = registrations(tool, moodle.issuer)
    moodle.next_client_id = moodle.client_id  # the same tool type registered again

    again = register(tool, moodle)

    assert again.status_code == 200
    assert registrations(tool, moodle.issuer) == first
    assert "already registered" in again.text or "ลงทะเบียนไว้แล้ว" in again.text


def test_a_second_registration_of_the_same_platform_is_a_second_client(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    register(tool, moodle)
    register(tool, moodle)

    rows = registrations(tool, moodle.issuer)
    assert len(rows) == 2 and rows[0][0] != rows[1][0]
    assert [r[4] for r in rows] == [["1"], ["2"]]


def test_an_allowed_issuer_registers(
    tool: ToolServer, moodle: AdvantagePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tool.settings, "registration_allowed_issuers", [moodle.issuer + "/"])

    assert register(tool, moodle).status_code == 200
    assert len(registrations(tool, moodle.issuer)) == 1


# --- Refusals: a clear page in Thai and English, and nothing written --------------------------------------------


def test_a_registration_without_the_configuration_url_is_refused(tool: ToolServer, moodle: AdvantagePlatform) -> None:
    before = tool.snapshot()

    response = requests.get(tool.url("/lti/register"), params={"registration_token": "x"}, timeout=10)

    assert_refused(response, 400, "missing_configuration_url", "openid_configuration")
    assert tool.snapshot() == before


def test_a_configuration_url_that_is_not_http_is_refused(tool: ToolServer, moodle: AdvantagePlatform) -> None:
    before = tool.snapshot()

    response = requests.get(
        tool.url("/lti/register"), params={"openid_configuration": "file:///etc/passwd"}, timeout=10
    )

    assert_refused(response, 400, "bad_configuration_url", "file:///etc/passwd")
    assert tool.snapshot() == before


@pytest.mark.parametrize(
    ("mode", "reason", "phrase"),
    [
        ("down", "configuration_unavailable", "HTTP 503"),
        ("garbage", "configuration_malformed", "not JSON"),
        ("array", "configuration_malformed", "not a JSON object"),
        ("no_lti_claim", "configuration_malformed", "lti-platform-configuration"),
        ("no_registration_endpoint", "configuration_malformed", "registration_endpoint"),
        ("foreign_issuer", "issuer_mismatch", "https://moodle.other-district.example"),
    ],
)
def test_a_broken_or_forged_openid_configuration_is_refused_before_registering(
    tool: ToolServer, moodle: AdvantagePlatform, mode: str, reason: str, phrase: str
) -> None:
    moodle.configuration_mode = mode
    before = tool.snapshot()

    response = register(tool, moodle)

    assert_refused(response, 400 if reason == "issuer_mismatch" else 502, reason, phrase)
    assert moodle.registration_requests == []
    assert tool.snapshot() == before


def test_an_unreachable_platform_is_refused(tool: ToolServer) -> None:
    gone = AdvantagePlatform().start()
    url = gone.registration_start_url(tool.url("/lti/register"))
    gone.stop()
    before = tool.snapshot()

    response = requests.get(url, timeout=30)

    assert_refused(response, 502, "configuration_unavailable", "ConnectionError")
    assert tool.snapshot() == before


def test_an_issuer_outside_the_allowed_list_is_refused(
    tool: ToolServer, moodle: AdvantagePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tool.settings, "registration_allowed_issuers", ["https://moodle.district-1.go.th"])
    before = tool.snapshot()

    response = register(tool, moodle)

    assert_refused(response, 403, "issuer_not_allowed", moodle.issuer, "PLC_REGISTRATION_ALLOWED_ISSUERS")
    assert moodle.registration_requests == []
    assert tool.snapshot() == before


@pytest.mark.parametrize(
    ("mode", "reason", "phrase"),
    [
        ("error", "registration_failed", "HTTP 500"),
        ("refuse", "registration_failed", "HTTP 400"),
        ("garbage", "registration_malformed", "not JSON"),
        ("no_client_id", "registration_malformed", "client_id"),
    ],
)
def test_a_failing_registration_endpoint_gives_a_clear_message_and_writes_nothing(
    tool: ToolServer, moodle: AdvantagePlatform, mode: str, reason: str, phrase: str
) -> None:
    moodle.registration_mode = mode
    before = tool.snapshot()

    response = register(tool, moodle)

    assert_refused(response, 502, reason, phrase, moodle.registration_endpoint)
    assert "invalid_token_endpoint_auth_method" not in response.text  # the status, never the body
    assert len(moodle.registration_requests) == 1
    assert tool.snapshot() == before


def test_a_registration_token_the_platform_refuses_writes_nothing(tool: ToolServer, moodle: AdvantagePlatform) -> None:
    before = tool.snapshot()

    response = register(tool, moodle, token="expired-token")

    assert_refused(response, 502, "registration_failed", "HTTP 401")
    assert "invalid_registration_token" not in response.text
    assert tool.snapshot() == before


def test_a_registration_endpoint_that_does_not_answer_in_time_writes_nothing(
    tool: ToolServer, moodle: AdvantagePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tool.settings, "registration_timeout_seconds", 0.5)
    moodle.registration_mode, moodle.slow_seconds = "slow", 2.0
    before = tool.snapshot()

    response = register(tool, moodle)

    assert_refused(response, 502, "registration_failed", "ReadTimeout")
    assert tool.snapshot() == before


def test_a_refusal_is_shown_in_thai_with_the_english_beside_it(tool: ToolServer, moodle: AdvantagePlatform) -> None:
    moodle.configuration_mode = "down"

    response = register(tool, moodle)

    assert "อ่านการตั้งค่า OpenID ของแพลตฟอร์ม" in response.text
    assert "could not be read (HTTP 503)" in response.text


# --- The setting ------------------------------------------------------------------------------------------------


def test_without_an_allowed_list_any_issuer_may_register_when_trying_the_tool_out() -> None:
    assert Settings(registration_allowed_issuers=[]).registration_allows("https://moodle.anywhere.example")


def test_production_without_an_allowed_list_accepts_no_registration() -> None:
    production = Settings(
        production=True,
        secret_key="s" * 40,
        public_base_url="https://plc.example",
        database_url="postgresql+psycopg://x/y",
        rate_limit_storage="redis://127.0.0.1:6379",
    )
    assert not production.registration_allows("https://moodle.district-1.go.th")
    opened = production.model_copy(update={"registration_allowed_issuers": ["*"]})
    assert opened.registration_allows("https://moodle.district-1.go.th")


def test_an_allowed_list_admits_exactly_its_issuers() -> None:
    settings = Settings(registration_allowed_issuers=["https://moodle.district-1.go.th/"])
    assert settings.registration_allows("https://moodle.district-1.go.th")
    assert not settings.registration_allows("https://moodle.district-1.go.th.evil.example")
    assert not settings.registration_allows("https://moodle.district-2.go.th")


def test_the_stored_deployment_belongs_to_the_registered_client(tool: ToolServer, moodle: AdvantagePlatform) -> None:
    register(tool, moodle)
    with tool.database.transaction() as db:
        deployment = db.scalars(select(Deployment).join(Platform).where(Platform.issuer == moodle.issuer)).one()
        assert (deployment.platform.client_id, deployment.deployment_id) == (moodle.client_id, moodle.deployment_id)


def test_the_setup_page_shows_the_registration_url_for_add_lti_advantage(tool: ToolServer) -> None:
    page = requests.get(tool.url("/setup"), params={"lang": "en"}, timeout=10).text

    assert f'id="registration-url">{tool.url("/lti/register")}<' in page
    assert "Add LTI Advantage" in page


def test_with_an_allowed_list_the_tool_fetches_nothing_from_other_sites(
    tool: ToolServer, moodle: AdvantagePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tool.settings, "registration_allowed_issuers", ["https://moodle.district-1.go.th"])
    fetched_before = moodle.configuration_fetches

    response = register(tool, moodle)

    assert_refused(response, 403, "issuer_not_allowed", moodle.issuer)
    assert moodle.configuration_fetches == fetched_before


# --- The platform's endpoints: its own origin only, no redirects, no echo (SSRF) ------------------------------


class _Recorder(BaseHTTPRequestHandler):
    """Another service on the machine (an admin API, a metadata endpoint) that must never hear from the tool."""

    def _answer(self) -> None:
        self.server.seen.append((self.command, self.path))  # type: ignore[attr-defined]
        body = b"INTERNAL-ADMIN-SECRET token=abc123"
        self.send_response(400)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def internal() -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def internal_url(server: HTTPServer, path: str = "/internal/admin") -> str:
    return f"http://127.0.0.1:{server.server_port}{path}"


@pytest.mark.parametrize("field", ["registration_endpoint", "token_endpoint", "authorization_endpoint", "jwks_uri"])
def test_a_configuration_naming_an_endpoint_on_another_origin_is_refused_and_nothing_is_sent_there(
    tool: ToolServer, moodle: AdvantagePlatform, internal: HTTPServer, field: str
) -> None:
    moodle.configuration_overrides = {field: internal_url(internal)}
    before = tool.snapshot()

    response = register(tool, moodle)

    assert_refused(response, 400, "endpoint_not_allowed", internal_url(internal), field, moodle.issuer)
    assert internal.seen == []  # type: ignore[attr-defined]
    assert moodle.registration_requests == []
    assert tool.snapshot() == before


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://{host}/mod/lti/openid-registration.php",  # the issuer's host, but another scheme (and so origin)
        "http://{hostname}:1/mod/lti/openid-registration.php",  # the issuer's host name, another port
        "http://{host}.evil.example/mod/lti/openid-registration.php",
        "ftp://{host}/mod/lti/openid-registration.php",
    ],
)
def test_a_registration_endpoint_on_the_issuers_host_but_not_its_origin_is_refused(
    tool: ToolServer, moodle: AdvantagePlatform, endpoint: str
) -> None:
    parts = urlsplit(moodle.issuer)
    moodle.configuration_overrides = {
        "registration_endpoint": endpoint.format(host=parts.netloc, hostname=parts.hostname)
    }
    before = tool.snapshot()

    response = register(tool, moodle)

    assert response.status_code in (400, 502)
    assert reason_of(response) in ("endpoint_not_allowed", "configuration_malformed")
    assert moodle.registration_requests == []
    assert tool.snapshot() == before


def test_a_configuration_url_that_redirects_is_refused_without_following(
    tool: ToolServer, moodle: AdvantagePlatform, internal: HTTPServer
) -> None:
    moodle.configuration_mode, moodle.redirect_to = "redirect", internal_url(internal, "/latest/meta-data")
    before = tool.snapshot()

    response = register(tool, moodle)

    assert_refused(response, 502, "redirected", "HTTP 302", moodle.openid_configuration_url)
    assert internal.seen == []  # type: ignore[attr-defined]
    assert "INTERNAL-ADMIN-SECRET" not in response.text
    assert tool.snapshot() == before


def test_a_registration_endpoint_that_redirects_is_refused_without_following(
    tool: ToolServer, moodle: AdvantagePlatform, internal: HTTPServer
) -> None:
    moodle.registration_mode, moodle.redirect_to = "redirect", internal_url(internal)
    before = tool.snapshot()

    response = register(tool, moodle)

    assert_refused(response, 502, "redirected", "HTTP 307", moodle.registration_endpoint)
    assert len(moodle.registration_requests) == 1
    assert internal.seen == []  # type: ignore[attr-defined]
    assert tool.snapshot() == before


def test_what_a_failing_registration_endpoint_answered_is_not_shown_only_its_status(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    moodle.registration_mode = "error"

    response = register(tool, moodle)

    assert_refused(response, 502, "registration_failed", "HTTP 500")
    assert "Error writing to database" not in response.text


def test_the_allowed_origin_of_the_endpoints_stays_https_in_production() -> None:
    production = Settings(
        production=True,
        secret_key="s" * 40,
        public_base_url="https://plc.example",
        database_url="postgresql+psycopg://x/y",
        rate_limit_storage="redis://127.0.0.1:6379",
    )
    issuer = "https://moodle.district-1.go.th"
    _check_endpoint(production, issuer, "token_endpoint", issuer + "/mod/lti/token.php")  # accepted
    for endpoint in ("http://moodle.district-1.go.th/mod/lti/token.php", "http://127.0.0.1/mod/lti/token.php"):
        with pytest.raises(RegistrationRefused) as refused:
            _check_endpoint(production, issuer, "token_endpoint", endpoint)
        assert refused.value.reason == "endpoint_not_allowed"
