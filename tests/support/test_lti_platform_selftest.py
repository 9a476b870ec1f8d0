"""The test platform on its own, against a minimal tool that does only what the OIDC flow needs of a tool.

The fixtures are named `moodle` and `mini_tool`: tests/conftest.py gives `platform` and `tool` to the real tool."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify, redirect, request
from jwcrypto.jwk import JWK
from werkzeug.serving import make_server
from werkzeug.wrappers import Response as BaseResponse

from tests.support.lti_platform import LaunchUser, QuietHandler, TestPlatform, submit_auto_form

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SOMSRI = LaunchUser(
    sub="u-teacher-1",
    name="สมศรี ใจดี",
    given_name="สมศรี",
    family_name="ใจดี",
    email="somsri@example.org",
    roles=[LEARNER],
    locale="th",
)
OTHER = LaunchUser(sub="u-2", name="B", given_name="B", family_name="B", email="b@example.org", roles=[LEARNER])


class MiniTool:
    """Login (302 to the platform's auth URL), launch (echoes what was posted), JWKS, and an echo endpoint."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.jwk = {**json.loads(JWK.from_pem(public_pem).export_public()), "kid": "tool-1", "alg": "RS256"}
        self.platform: TestPlatform | None = None
        app = Flask(__name__)
        app.add_url_rule("/lti/login", view_func=self.login, methods=["GET", "POST"])
        app.add_url_rule("/lti/launch", "launch", view_func=lambda: jsonify(request.form.to_dict()), methods=["POST"])
        app.add_url_rule("/lti/jwks", "jwks", view_func=lambda: jsonify({"keys": [self.jwk]}))
        app.add_url_rule(
            "/echo", view_func=lambda: jsonify(request.values.to_dict(flat=False)), methods=["GET", "POST"]
        )
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def login(self) -> BaseResponse:
        assert self.platform is not None
        params = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": request.values["client_id"],
            "redirect_uri": request.values["target_link_uri"],
            "state": "state-" + uuid.uuid4().hex,
            "nonce": "nonce-" + uuid.uuid4().hex,
            "login_hint": request.values["login_hint"],
            "lti_message_hint": request.values["lti_message_hint"],
        }
        return redirect(self.platform.auth_login_url + "?" + urlencode(params), code=302)

    def client_assertion(self, token_url: str, client_id: str, key: Any = None, **overrides: Any) -> str:
        now = int(time.time())
        claims = {"iss": client_id, "sub": client_id, "aud": token_url, "iat": now, "exp": now + 60}
        claims.update(overrides)
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": "tool-1"})


@pytest.fixture(scope="module")
def mini_tool() -> Iterator[MiniTool]:
    mini = MiniTool()
    yield mini
    mini.server.shutdown()
    mini.server.server_close()


@pytest.fixture(scope="module")
def moodle(mini_tool: MiniTool) -> Iterator[TestPlatform]:
    with TestPlatform(client_id="client-1", deployment_id="dep-1") as test_platform:
        test_platform.configure_tool(
            login_url=mini_tool.url + "/lti/login",
            launch_url=mini_tool.url + "/lti/launch",
            jwks_url=mini_tool.url + "/lti/jwks",
        )
        test_platform.add_user(SOMSRI)
        test_platform.add_user(OTHER)
        mini_tool.platform = test_platform
        yield test_platform


def initiate(moodle: TestPlatform, **kw: Any) -> str:
    return moodle.initiation_url(
        **{
            "sub": SOMSRI.sub,
            "context_id": "course-42",
            "context_title": "PLC วิทยาศาสตร์ ม.2",
            "resource_link_id": "rl-7",
            "resource_link_title": "PLC cycle",
            "custom": {"activity": "landing"},
            **kw,
        }
    )


def launch(moodle: TestPlatform, **kw: Any) -> dict[str, str]:
    """The browser's round trip; returns what the tool's launch URL received."""
    session = requests.Session()
    auth_page = session.get(initiate(moodle, **kw), timeout=10)
    assert auth_page.status_code == 200, auth_page.text
    posted: dict[str, str] = submit_auto_form(session, auth_page).json()
    return posted


def auth_params(moodle: TestPlatform, **overrides: str) -> dict[str, str]:
    """A valid authentication request, built by hand from the platform's login initiation."""
    initiation = requests.get(initiate(moodle), allow_redirects=False, timeout=10)
    login = {k: v[0] for k, v in parse_qs(urlsplit(initiation.headers["Location"]).query).items()}
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": login["client_id"],
        "redirect_uri": login["target_link_uri"],
        "state": "s-1",
        "nonce": "n-1",
        "login_hint": login["login_hint"],
        "lti_message_hint": login["lti_message_hint"],
    }
    return {**params, **overrides}


def test_login_initiation_redirects_to_the_tool_with_the_lti_parameters(moodle: TestPlatform) -> None:
    response = requests.get(initiate(moodle), allow_redirects=False, timeout=10)

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == moodle.tool_login_url
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert {k: params[k] for k in ("iss", "login_hint", "target_link_uri", "client_id", "lti_deployment_id")} == {
        "iss": moodle.issuer,
        "login_hint": SOMSRI.sub,
        "target_link_uri": moodle.tool_launch_url,
        "client_id": "client-1",
        "lti_deployment_id": "dep-1",
    }
    assert set(json.loads(params["lti_message_hint"])) == {"cmid", "launchid"}


def test_launch_posts_a_moodle_like_id_token_that_verifies_against_the_jwks(moodle: TestPlatform) -> None:
    posted = launch(moodle)

    signing_key = jwt.PyJWKClient(moodle.jwks_url).get_signing_key_from_jwt(posted["id_token"])
    claims = jwt.decode(
        posted["id_token"], signing_key.key, algorithms=["RS256"], audience="client-1", issuer=moodle.issuer
    )
    assert jwt.get_unverified_header(posted["id_token"])["kid"] == moodle.kid
    assert posted["state"] == moodle.last_auth_params["state"]
    assert claims["nonce"] == moodle.last_auth_params["nonce"]
    assert claims == moodle.last_launch_claims
    assert (claims["aud"], claims["azp"], claims["sub"]) == ("client-1", "client-1", SOMSRI.sub)
    assert (claims["name"], claims["given_name"], claims["family_name"], claims["email"]) == (
        "สมศรี ใจดี",
        "สมศรี",
        "ใจดี",
        "somsri@example.org",
    )
    assert 0 < claims["exp"] - claims["iat"] <= 600
    assert claims[LTI + "message_type"] == "LtiResourceLinkRequest"
    assert claims[LTI + "version"] == "1.3.0"
    assert claims[LTI + "deployment_id"] == "dep-1"
    assert claims[LTI + "target_link_uri"] == moodle.tool_launch_url
    assert claims[LTI + "roles"] == [LEARNER]
    assert claims[LTI + "resource_link"] == {"id": "rl-7", "title": "PLC cycle", "description": ""}
    assert claims[LTI + "context"] == {
        "id": "course-42",
        "label": "course-42",
        "title": "PLC วิทยาศาสตร์ ม.2",
        "type": ["CourseSection"],
    }
    assert claims[LTI + "tool_platform"]["product_family_code"] == "moodle"
    presentation = claims[LTI + "launch_presentation"]
    assert (presentation["locale"], presentation["document_target"]) == ("th", "iframe")
    assert requests.get(presentation["return_url"], timeout=10).status_code == 200
    assert claims[LTI + "lis"] == {"person_sourcedid": "", "course_section_sourcedid": ""}
    assert claims[LTI + "custom"] == {"activity": "landing"}
    assert claims[LTI + "ext"] == {"user_username": SOMSRI.sub, "lms": "moodle-2"}


def test_login_initiation_by_form_post(moodle: TestPlatform) -> None:
    session = requests.Session()
    initiation = session.get(initiate(moodle, use_post=True), timeout=10)
    assert initiation.status_code == 200 and 'method="post"' in initiation.text

    auth_page = submit_auto_form(session, initiation)
    posted = submit_auto_form(session, auth_page).json()

    assert set(posted) == {"id_token", "state"}


def test_auth_request_over_post_is_answered_too(moodle: TestPlatform) -> None:
    response = requests.post(moodle.auth_login_url, data=auth_params(moodle), timeout=10)

    assert response.status_code == 200 and f'action="{moodle.tool_launch_url}"' in response.text


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"redirect_uri": "http://127.0.0.1:1/lti/launch"}, "redirect_uri"),
        ({"redirect_uri": "PLACEHOLDER/"}, "redirect_uri"),  # the registered URL plus a slash is not it
        ({"client_id": "client-2"}, "client_id"),
        ({"response_type": "code"}, "response_type"),
        ({"scope": "openid profile"}, "scope"),
        ({"response_mode": "query"}, "response_mode"),
        ({"prompt": "login"}, "prompt"),
        ({"nonce": ""}, "nonce"),
        ({"login_hint": "nobody"}, "login_hint"),
        ({"login_hint": OTHER.sub}, "login_hint"),
        ({"lti_message_hint": "not json"}, "lti_message_hint"),
        ({"lti_message_hint": json.dumps({"cmid": 1, "launchid": "ltilaunch_forged"})}, "lti_message_hint"),
    ],
)
def test_auth_refuses_a_bad_request_with_a_reason(moodle: TestPlatform, overrides: dict[str, str], reason: str) -> None:
    if overrides.get("redirect_uri") == "PLACEHOLDER/":
        overrides = {"redirect_uri": moodle.tool_launch_url + "/"}
    response = requests.get(moodle.auth_login_url, params=auth_params(moodle, **overrides), timeout=10)

    assert response.status_code == 400 and reason in response.text
    assert "<form" not in response.text


def test_message_hint_is_used_once(moodle: TestPlatform) -> None:
    params = auth_params(moodle)
    assert requests.get(moodle.auth_login_url, params=params, timeout=10).status_code == 200

    again = requests.get(moodle.auth_login_url, params=params, timeout=10)

    assert again.status_code == 400 and "lti_message_hint" in again.text


def test_token_hook_and_state_override_apply_to_one_launch(moodle: TestPlatform) -> None:
    seen: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def hook(claims: dict[str, Any], headers: dict[str, Any]) -> str:
        seen.append((claims, headers))
        return moodle.sign({**claims, "forged": True}, headers=headers, key=moodle.other_private_key_pem)

    moodle.set_token_hook(hook)
    moodle.form_state_override = "state-from-elsewhere"
    forged = launch(moodle)
    normal = launch(moodle)

    ((claims, headers),) = seen
    assert headers == {"alg": "RS256", "typ": "JWT", "kid": moodle.kid}
    assert claims["nonce"] and claims["exp"] > claims["iat"]
    assert (
        forged["state"] == "state-from-elsewhere"
        and jwt.decode(forged["id_token"], options={"verify_signature": False})["forged"]
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged["id_token"], moodle.public_key_pem, algorithms=["RS256"], audience="client-1")
    assert moodle.token_hook is None and moodle.form_state_override is None
    assert normal["state"] != "state-from-elsewhere"
    jwt.decode(normal["id_token"], moodle.public_key_pem, algorithms=["RS256"], audience="client-1")


def test_sign_makes_alg_none_and_hs256_with_the_public_key(moodle: TestPlatform) -> None:
    claims = {"sub": "x", "iat": 1}

    unsigned = moodle.sign(claims, algorithm="none")
    hs256 = moodle.sign(claims, algorithm="HS256")

    assert unsigned.endswith(".") and jwt.get_unverified_header(unsigned) == {
        "alg": "none",
        "typ": "JWT",
        "kid": moodle.kid,
    }
    assert jwt.get_unverified_header(hs256)["alg"] == "HS256"
    signing_input, signature = hs256.rsplit(".", 1)
    expected = hmac.new(moodle.public_key_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    assert jwt.utils.base64url_decode(signature) == expected
    assert jwt.decode(moodle.sign(claims), moodle.public_key_pem, algorithms=["RS256"]) == claims


def test_jwks_modes_count_fetches() -> None:
    with TestPlatform() as moodle:
        keys = requests.get(moodle.jwks_url, timeout=10).json()["keys"]
        assert [(k["kid"], k["kty"], k["alg"], k["use"]) for k in keys] == [(moodle.kid, "RSA", "RS256", "sig")]
        assert all("d" not in k for k in keys)

        moodle.jwks_mode = "down"
        assert requests.get(moodle.jwks_url, timeout=10).status_code == 503
        moodle.jwks_mode = "garbage"
        garbage = requests.get(moodle.jwks_url, timeout=10)
        assert garbage.status_code == 200
        with pytest.raises(ValueError):
            garbage.json()
        moodle.jwks_mode = "empty"
        assert requests.get(moodle.jwks_url, timeout=10).json() == {"keys": []}

        assert moodle.jwks_fetch_count == 4


def test_rotated_key_signs_and_the_old_one_stays_published_if_asked() -> None:
    moodle = TestPlatform()
    first = moodle.kid

    second = moodle.rotate_key(keep_old_in_jwks=True)
    assert [k["kid"] for k in moodle.jwks()["keys"]] == [second, first]
    assert jwt.get_unverified_header(moodle.sign({"a": 1}))["kid"] == second

    third = moodle.rotate_key(keep_old_in_jwks=False)
    assert [k["kid"] for k in moodle.jwks()["keys"]] == [third] == [moodle.kid]


def test_token_endpoint_grants_an_access_token_for_a_valid_client_assertion(
    moodle: TestPlatform, mini_tool: MiniTool
) -> None:
    response = requests.post(
        moodle.token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": mini_tool.client_assertion(moodle.token_url, "client-1"),
            "scope": SCORE_SCOPE + " https://example.org/not-a-scope",
        },
        timeout=10,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("bearer", 3600, SCORE_SCOPE)
    access = jwt.decode(body["access_token"], moodle.public_key_pem, algorithms=["RS256"])
    assert (access["iss"], access["sub"], access["scopes"]) == (moodle.issuer, "client-1", SCORE_SCOPE)


@pytest.mark.parametrize("defect", ["grant_type", "missing_scope", "other_key", "wrong_sub", "wrong_aud", "expired"])
def test_token_endpoint_refuses_a_bad_request(moodle: TestPlatform, mini_tool: MiniTool, defect: str) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if defect == "other_key" else None
    defects: dict[str, dict[str, Any]] = {
        "wrong_sub": {"sub": "client-2"},
        "wrong_aud": {"aud": "https://elsewhere.example/token"},
        "expired": {"exp": int(time.time()) - 60},
    }
    overrides = defects.get(defect, {})
    form = {
        "grant_type": "password" if defect == "grant_type" else "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": mini_tool.client_assertion(moodle.token_url, "client-1", key=other_key, **overrides),
        "scope": SCORE_SCOPE,
    }
    if defect == "missing_scope":
        del form["scope"]

    response = requests.post(moodle.token_url, data=form, timeout=10)

    expected = {"grant_type": (400, "unsupported_grant_type"), "missing_scope": (400, "invalid_request")}
    assert (response.status_code, response.json()["error"]) == expected.get(defect, (401, "invalid_client"))


def test_submit_auto_form_sends_what_a_browser_would(mini_tool: MiniTool) -> None:
    page = requests.Response()
    page.status_code, page.url, page.encoding = 200, mini_tool.url + "/somewhere/page?old=1", "utf-8"
    page._content = (
        '<p><input name="outside" value="no"></p>'
        '<form action="/echo?dropped=1"><input type="hidden" name="a" value="1 &amp; 2">'
        '<input name="a" value="ก"><input type="checkbox" name="c"><input type="checkbox" name="d" checked>'
        '<input type="submit" name="go" value="Go"><textarea name="t">x</textarea></form>'
        '<form method="post" action="/other"><input name="b" value="2"></form>'
    ).encode()

    echoed = submit_auto_form(requests.Session(), page).json()

    assert echoed == {"a": ["1 & 2", "ก"], "d": ["on"], "t": ["x"]}


def test_stop_releases_the_port() -> None:
    moodle = TestPlatform().start()
    port = urlsplit(moodle.issuer).port
    assert requests.get(moodle.jwks_url, timeout=10).status_code == 200

    moodle.stop()

    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/jwks", timeout=2)
    with socket.socket() as probe:  # as a new server would: SO_REUSEADDR still refuses a port someone listens on
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen()
