"""A Moodle-like LTI 1.3 platform on 127.0.0.1 for the tool's tests, built on the independent `lti1p3platform`.

lti1p3platform does the platform's LTI work: the registration, the login initiation URL, the check of the tool's
authentication request (`validate_preflight_response`), the launch message and its signature, and the access
tokens of the client-credentials grant. This module is the Flask glue around it (lti1p3platform ships Django and
FastAPI adapters only), the claims Moodle 4.x adds (mod/lti/locallib.php), and hooks for the tool's negative tests:
forged or defective id_tokens, a wrong state, a broken JWKS endpoint, key rotation.

    platform = TestPlatform(client_id="client-1", deployment_id="dep-1").start()
    platform.configure_tool(login_url=..., launch_url=..., jwks_url=...)
    platform.add_user(LaunchUser(...))
    auth_page = session.get(platform.initiation_url(sub="u-1", context_id="course-42"))  # via the tool's login
    landing = submit_auto_form(session, auth_page)                                        # POSTs the id_token
    platform.stop()
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify, redirect, request
from jwcrypto.jwk import JWK
from lti1p3platform.exceptions import (
    InvalidKeySetUrl,
    LtiException,
    MissingRequiredClaim,
    PreflightRequestValidationException,
    UnsupportedGrantType,
)
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LaunchData, LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Response as BaseResponse

from tests.support.platform_services import PlatformServices

__all__ = ["LaunchUser", "QuietHandler", "TestPlatform", "TokenHook", "submit_auto_form"]

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MOODLE_VERSION = "2024100700"  # $CFG->version of Moodle 4.5
TokenHook = Callable[[dict[str, Any], dict[str, Any]], str]
"""Called with the launch's (claims, JWT header), both fully built; returns the id_token to post instead."""


@dataclass
class LaunchUser:
    """A platform account; `sub` is also the login_hint."""

    sub: str
    name: str
    given_name: str
    family_name: str
    email: str
    roles: list[str]
    locale: str = "th"
    username: str | None = None  # Moodle's username (ext.user_username); defaults to sub
    idnumber: str = ""  # Moodle's ID number (lis.person_sourcedid)


@dataclass
class _Launch:
    """A placement of the tool, as a Moodle course module: what initiation_url() was asked to launch."""

    sub: str
    context_id: str
    context_title: str
    context_label: str
    resource_link_id: str
    resource_link_title: str
    resource_link_description: str
    custom: dict[str, Any]
    use_post: bool
    storage_target: str | None
    cmid: int


@dataclass(frozen=True)
class _Key:
    private_pem: str
    public_pem: str
    kid: str  # the JWK thumbprint, which is what lti1p3platform's Registration.get_kid() computes
    signing_key: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> _Key:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        public_pem = (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        return cls(private_pem, public_pem, JWK.from_pem(public_pem.encode()).thumbprint(), key)


class QuietHandler(WSGIRequestHandler):
    """No access log line per request: tests and benchmarks make thousands."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


# --- Flask adapter for lti1p3platform ---------------------------------------------------------------------


class _FlaskRequest(Request):  # type: ignore[misc]
    def build_metadata(self, flask_request: Any) -> TRequest:
        return {
            "method": flask_request.method,
            "form_data": flask_request.form.to_dict(),
            "get_data": flask_request.args.to_dict(),
            "headers": dict(flask_request.headers),
            "content_type": flask_request.content_type,
            "path": flask_request.path,
            "json": flask_request.get_json(silent=True),
        }


class _Registration(Registration):  # type: ignore[misc]
    """Signs with the already parsed key: lti1p3platform re-parses the private PEM for every kid and every
    signature (~30 ms of RSA key checks each), which would make the platform the slow side of a benchmark."""

    def __init__(self, platform: TestPlatform) -> None:
        self._test_platform = platform

    def get_kid(self) -> str:
        return self._test_platform.kid

    def platform_encode_and_sign(self, payload: dict[str, Any], expiration: int | None = None) -> str:
        key: Any = self._test_platform.signing_key  # PyJWT takes the key object as well as a PEM
        token: str = Registration.encode_and_sign(payload, key, {"kid": self.get_kid()}, expiration=expiration)
        return token


class _PlatformConf(LTI1P3PlatformConfAbstract):  # type: ignore[misc]
    """One per request: lti1p3platform keeps per-call state on it (`_jwt`, the cached registration and the
    tool's key set), which must not be shared between the server's threads."""

    def init_platform_config(self, **kwargs: Any) -> None:
        self.platform: TestPlatform = kwargs["platform"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        p = self.platform
        return (
            _Registration(p)
            .set_iss(p.issuer)
            .set_client_id(p.client_id)
            .set_deployment_id(p.deployment_id)
            .set_oidc_login_url(p.tool_login_url)
            .set_launch_url(p.tool_launch_url)
            .set_tool_key_set_url(p.tool_jwks_url)
            .set_platform_private_key(p.private_key_pem)
            .set_platform_public_key(p.public_key_pem)
        )


class _OIDCLogin(OIDCLoginAbstract):  # type: ignore[misc]
    """Third-party initiated login: a 302 to the tool's login URL, or (use_post) a form posted to it."""

    def __init__(self, flask_request: _FlaskRequest, config: _PlatformConf, launch: _Launch) -> None:
        super().__init__(flask_request, config)
        self._launch = launch

    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> BaseResponse:
        if self._launch.storage_target:  # LTI Client Side postMessages: offer the platform's storage
            url += "&" + urlencode({"lti_storage_target": self._launch.storage_target})
        if not self._launch.use_post:
            return redirect(url, code=302)
        login_url = self._registration.get_oidc_login_url()
        own_query = dict(parse_qsl(urlsplit(login_url).query))
        fields = [(k, v) for k, v in parse_qsl(urlsplit(url).query) if k not in own_query]
        return Response(_auto_form(login_url, fields), mimetype="text/html")


class _MessageLaunch(LTIAdvantageMessageLaunchAbstract):  # type: ignore[misc]
    """Answers the tool's authentication request with the auto-submitting launch form."""

    def __init__(self, flask_request: _FlaskRequest, config: _PlatformConf, platform: TestPlatform) -> None:
        super().__init__(flask_request, config)
        self._platform = platform
        self._launch: _Launch | None = None
        self._user: LaunchUser | None = None
        self._launch_id = ""

    def get_preflight_response(self) -> dict[str, Any]:
        # lti1p3platform takes the query string *or* the form (message_launch.py:53); a POST may carry both.
        return {**self._request.get_data, **self._request.form_data}

    def validate_preflight_response(self, preflight_response: dict[str, Any]) -> None:
        self._launch_id, self._launch, self._user = self._platform._check_auth_request(preflight_response)
        super().validate_preflight_response(preflight_response)

    def prepare_launch(self, preflight_response: dict[str, Any]) -> None:
        launch, user = self._launch, self._user
        assert launch is not None and user is not None
        self._platform._forget_launch_id(self._launch_id)  # Moodle unsets the launch from the session
        self.set_user_data(user.sub, user.roles, full_name=user.name, email_address=user.email)
        self.set_resource_link_claim(launch.resource_link_id, title=launch.resource_link_title)
        assert self.lti_claim_resource_link is not None
        self.lti_claim_resource_link[LTI + "resource_link"]["description"] = launch.resource_link_description
        self.set_launch_context_claim(
            launch.context_id,
            context_types=["CourseSection"],
            context_title=launch.context_title,
            context_label=launch.context_label,
        )
        self.set_launch_presentation_claim(document_target="iframe", return_url=self._platform._return_url(launch))
        assert self.lti_claim_launch_presentation is not None
        self.lti_claim_launch_presentation[LTI + "launch_presentation"]["locale"] = user.locale
        self.set_custom_parameters_claim(dict(launch.custom))
        self.set_extra_claims(self._platform._moodle_claims(user, launch))

    def generate_launch_request(self) -> LaunchData:
        launch_message, state = self.get_launch_data()
        now = int(time.time())
        launch_message.update({"iat": now, "exp": now + self.id_token_expiration})
        headers = {"alg": "RS256", "typ": "JWT", "kid": self._registration.get_kid()}
        p = self._platform
        p.last_launch_claims = dict(launch_message)
        hook, state_override = p._take_launch_overrides()
        if hook is not None:
            id_token = hook(dict(launch_message), headers)
        else:
            id_token = self._registration.platform_encode_and_sign(launch_message)  # iat/exp already set
        return {"state": state if state_override is None else state_override, "id_token": id_token}

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> Response:
        fields = [("id_token", launch_data["id_token"]), ("state", launch_data["state"])]
        return Response(_auto_form(launch_data["launch_url"], fields), mimetype="text/html")


def _auto_form(action: str, fields: list[tuple[str, str]]) -> str:
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields)
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Launching…</title></head><body>'
        f'<form method="post" action="{html.escape(action)}" id="f">{inputs}'
        '<noscript><button type="submit">Continue</button></noscript></form>'
        '<script>document.getElementById("f").submit()</script></body></html>'
    )


# The platform side of "LTI Client Side postMessages": put_data / get_data, kept per tool origin.
_STORAGE_RESPONDER = """
const store = {};
window.platformStorageLog = [];
window.addEventListener("message", function (event) {
  const data = event.data || {};
  if (data.subject !== "lti.put_data" && data.subject !== "lti.get_data") { return; }
  window.platformStorageLog.push(data.subject + ":" + data.key);
  const slot = event.origin + "|" + data.key;
  if (data.subject === "lti.put_data") { store[slot] = data.value; }
  event.source.postMessage({subject: data.subject + ".response", message_id: data.message_id,
                            key: data.key, value: store[slot]}, event.origin);
});
"""


# --- The platform --------------------------------------------------------------------------------------------


class TestPlatform:
    """An LTI 1.3 platform serving login initiation, OIDC auth, JWKS and token endpoints on 127.0.0.1."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        client_id: str = "client-1",
        deployment_id: str = "dep-1",
        name: str = "Test Moodle",
        host: str = "127.0.0.1",
    ) -> None:
        # `host` names the platform in its URLs (it always listens on 127.0.0.1): "localhost" makes it another
        # site than a tool on 127.0.0.1, so a browser treats the tool in its iframe as third-party.
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.name = name
        self.host = host
        self._key = _Key.generate()
        self._published: list[_Key] = [self._key]
        self.other_private_key_pem: str = _Key.generate().private_pem  # a key that no JWKS publishes
        self.users: dict[str, LaunchUser] = {}
        self.tool_login_url = self.tool_launch_url = self.tool_jwks_url = ""

        # Test hooks; token_hook and form_state_override are used by one launch, then reset.
        self.token_hook: TokenHook | None = None
        self.form_state_override: str | None = None
        self.jwks_mode: str = "ok"  # "ok" | "down" (503) | "garbage" (200, not JSON) | "empty" ({"keys": []})
        self.jwks_fetch_count = 0
        self.last_launch_claims: dict[str, Any] = {}
        self.last_auth_params: dict[str, str] = {}
        self.services = PlatformServices(self)  # AGS, NRPS and the token endpoint's bookkeeping and faults

        self._launches: dict[str, _Launch] = {}  # initiation_url() key -> placement
        self._launch_ids: dict[str, str] = {}  # lti_message_hint launchid -> initiation key, until used
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # --- lifecycle --------------------------------------------------------------------------------------

    def start(self) -> TestPlatform:
        self._server = make_server("127.0.0.1", 0, self._app(), threaded=True, request_handler=QuietHandler)
        self._port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="lti-test-platform", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket, so the port is free again."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> TestPlatform:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def issuer(self) -> str:
        if not self._port:
            raise RuntimeError("TestPlatform.start() first: the issuer holds the port")
        return f"http://{self.host}:{self._port}"

    @property
    def auth_login_url(self) -> str:
        return self.issuer + "/auth"

    @property
    def token_url(self) -> str:
        return self.issuer + "/token"

    @property
    def jwks_url(self) -> str:
        return self.issuer + "/jwks"

    # --- keys -------------------------------------------------------------------------------------------

    @property
    def kid(self) -> str:
        return self._key.kid

    @property
    def private_key_pem(self) -> str:
        return self._key.private_pem

    @property
    def public_key_pem(self) -> str:
        return self._key.public_pem

    @property
    def signing_key(self) -> rsa.RSAPrivateKey:
        return self._key.signing_key

    def rotate_key(self, keep_old_in_jwks: bool = True) -> str:
        """Sign with a new key from now on; returns its kid. The old key stays in the JWKS if asked."""
        new = _Key.generate()
        with self._lock:
            self._published = [new, *self._published] if keep_old_in_jwks else [new]
            self._key = new
        return new.kid

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The key set /jwks publishes in "ok" mode."""
        return {"keys": [Registration.get_jwk(key.public_pem) for key in self._published]}

    # --- registration and people ------------------------------------------------------------------------

    def configure_tool(self, login_url: str, launch_url: str, jwks_url: str) -> None:
        """The tool's endpoints, as entered in Moodle; launch_url is the only registered redirect_uri."""
        self.tool_login_url, self.tool_launch_url, self.tool_jwks_url = login_url, launch_url, jwks_url

    def add_user(self, user: LaunchUser) -> LaunchUser:
        self.users[user.sub] = user
        return user

    def initiation_url(
        self,
        sub: str,
        context_id: str = "course-1",
        context_title: str = "Course",
        resource_link_id: str = "rl-1",
        resource_link_title: str = "Activity",
        custom: dict[str, Any] | None = None,
        use_post: bool = False,
        storage_target: str | None = None,
        *,
        context_label: str | None = None,
        resource_link_description: str = "",
    ) -> str:
        """Where a browser starts a launch, like a Moodle activity link; the URL can be opened many times.

        It answers with a 302 to the tool's login URL, or with a form posted there if `use_post`.
        `storage_target` offers LTI platform storage (postMessage) under that frame name."""
        key = secrets.token_urlsafe(12)
        with self._lock:
            self._launches[key] = _Launch(
                sub=sub,
                context_id=context_id,
                context_title=context_title,
                context_label=context_label if context_label is not None else context_id,
                resource_link_id=resource_link_id,
                resource_link_title=resource_link_title,
                resource_link_description=resource_link_description,
                custom=dict(custom or {}),
                use_post=use_post,
                storage_target=storage_target,
                cmid=len(self._launches) + 1,
            )
        return self.issuer + "/initiate?" + urlencode({"launch": key})

    def course_page_url(self, **initiation: Any) -> str:
        """A course page that shows the tool in an iframe and answers platform-storage postMessages."""
        return self.initiation_url(**initiation).replace("/initiate?", "/course?", 1)

    # --- test hooks -------------------------------------------------------------------------------------

    def set_token_hook(self, hook: TokenHook | None) -> None:
        self.token_hook = hook

    def sign(
        self,
        claims: dict[str, Any],
        headers: dict[str, Any] | None = None,
        key: str | None = None,
        algorithm: str = "RS256",
    ) -> str:
        """Encode `claims` as a JWT; the header is `headers` (default: the current kid) with alg=`algorithm`.

        RS*/PS*: `key` is a private PEM, by default the platform's current key.
        HS*: `key` is the HMAC secret, by default the platform's public PEM (the RS256/HS256 confusion attack);
        built by hand because PyJWT refuses a PEM as an HMAC secret. "none": no signature."""
        header = {"typ": "JWT", **(headers if headers is not None else {"kid": self.kid}), "alg": algorithm}
        if algorithm.startswith("HS") or algorithm.lower() == "none":
            signing_input = _b64url(_json(header)) + "." + _b64url(_json(claims))
            if algorithm.lower() == "none":
                return signing_input + "."
            secret = (key if key is not None else self.public_key_pem).encode()
            digest = getattr(hashlib, "sha" + algorithm[2:])
            return signing_input + "." + _b64url(hmac.new(secret, signing_input.encode(), digest).digest())
        signing_key: Any = key if key is not None else self.signing_key
        return jwt.encode(claims, signing_key, algorithm=algorithm, headers=header)

    def _take_launch_overrides(self) -> tuple[TokenHook | None, str | None]:
        with self._lock:
            hook, self.token_hook = self.token_hook, None
            state, self.form_state_override = self.form_state_override, None
        return hook, state

    # --- request checks and Moodle's claims -------------------------------------------------------------

    def _check_auth_request(self, params: dict[str, Any]) -> tuple[str, _Launch, LaunchUser]:
        """The checks Moodle's mod/lti/auth.php makes; raises with a short reason, answered as HTTP 400."""

        def refuse(reason: str) -> PreflightRequestValidationException:
            return PreflightRequestValidationException(reason)

        expected = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none"}
        for name, value in expected.items():
            if params.get(name) != value:
                raise refuse(f"invalid {name}: {params.get(name)!r}, expected {value!r}")
        if params.get("client_id") != self.client_id:
            raise refuse("unknown client_id")
        if params.get("redirect_uri") != self.tool_launch_url:
            raise refuse("redirect_uri is not registered for this tool")
        if not params.get("nonce") or not params.get("state"):
            raise refuse("nonce and state are required")
        user = self.users.get(str(params.get("login_hint", "")))
        if user is None:
            raise refuse("unknown login_hint")
        try:
            launch_id = str(json.loads(params.get("lti_message_hint", ""))["launchid"])
        except (ValueError, TypeError, KeyError):
            raise refuse("malformed lti_message_hint") from None
        with self._lock:
            launch = self._launches.get(self._launch_ids.get(launch_id, ""))
        if launch is None:
            raise refuse("unknown or used lti_message_hint")
        if launch.sub != user.sub:
            raise refuse("login_hint is not the user who started this launch")
        return launch_id, launch, user

    def _new_launch_id(self, key: str) -> str:
        launch_id = "ltilaunch_" + secrets.token_hex(8)
        with self._lock:
            self._launch_ids[launch_id] = key
        return launch_id

    def _forget_launch_id(self, launch_id: str) -> None:
        with self._lock:
            self._launch_ids.pop(launch_id, None)

    def _return_url(self, launch: _Launch) -> str:
        query = urlencode({"course": launch.context_id, "launch_container": 3, "instanceid": launch.cmid})
        return f"{self.issuer}/mod/lti/return.php?{query}"

    def _moodle_claims(self, user: LaunchUser, launch: _Launch) -> dict[str, Any]:
        """Claims Moodle 4.x adds to a resource link launch (mod/lti/locallib.php, lti_build_request_lti13)."""
        return {
            "given_name": user.given_name,
            "family_name": user.family_name,
            LTI + "tool_platform": {
                "guid": self.host,
                "name": self.name,
                "description": self.name,
                "version": MOODLE_VERSION,
                "product_family_code": "moodle",
            },
            LTI + "lis": {"person_sourcedid": user.idnumber, "course_section_sourcedid": ""},
            LTI + "ext": {"user_username": user.username or user.sub, "lms": "moodle-2"},
            **self.services.launch_claims(launch.context_id, launch.resource_link_id),
        }

    def _check_client_assertion(self, assertion: str) -> None:
        """What lti1p3platform leaves out (it verifies the signature and exp only): sub and aud."""
        claims = jwt.decode(assertion, options={"verify_signature": False})
        if claims.get("sub") != self.client_id:
            raise LtiException("client_assertion sub is not the client_id")
        audiences = claims.get("aud")
        if self.token_url not in (audiences if isinstance(audiences, list) else [audiences]):
            raise LtiException("client_assertion aud does not name the token endpoint")

    # --- HTTP ---------------------------------------------------------------------------------------------

    def _app(self) -> Flask:
        app = Flask(__name__)
        platform = self

        def text(body: str, status: int) -> Response:
            return Response(body, status=status, mimetype="text/plain")

        @app.get("/initiate")
        def initiate() -> BaseResponse:
            key = request.args.get("launch", "")
            launch = platform._launches.get(key)
            if launch is None:
                return text("unknown launch", 400)
            # Moodle's lti_message_hint: the course module and the launch it keeps in the session.
            hint = json.dumps({"cmid": launch.cmid, "launchid": platform._new_launch_id(key)})
            login = _OIDCLogin(_FlaskRequest(request), _PlatformConf(platform=platform), launch)
            login.set_lti_message_hint(hint=hint)
            response: BaseResponse = login.initiate_login(launch.sub)
            return response

        @app.get("/course")
        def course() -> Response:
            """A Moodle-like course page: the tool in an iframe, and the platform's storage for postMessage."""
            src = html.escape(platform.issuer + "/initiate?" + urlencode({"launch": request.args.get("launch", "")}))
            page = (
                "<!doctype html><html><head><meta charset='utf-8'><title>Course</title></head><body>"
                f"<h1>Course</h1><iframe name='tool' title='tool' src='{src}' width='800' height='600'></iframe>"
                f"<script>{_STORAGE_RESPONDER}</script></body></html>"
            )
            return Response(page, mimetype="text/html")

        @app.route("/auth", methods=["GET", "POST"])
        def auth() -> Response:
            flask_request = _FlaskRequest(request)
            message = _MessageLaunch(flask_request, _PlatformConf(platform=platform), platform)
            platform.last_auth_params = message.get_preflight_response()
            try:
                response: Response = message.lti_launch()
            except PreflightRequestValidationException as exc:
                return text(str(exc) or "invalid authentication request", 400)
            return response

        @app.get("/mod/lti/return.php")
        def lti_return() -> Response:
            return text("Back in the course.", 200)

        @app.get("/jwks")
        def jwks() -> Response:
            with platform._lock:
                platform.jwks_fetch_count += 1
            if platform.jwks_mode == "down":
                return text("unavailable", 503)
            if platform.jwks_mode == "garbage":
                return Response("<html>not json</html>", status=200, mimetype="text/html")
            if platform.jwks_mode == "empty":
                return jsonify({"keys": []})
            return jsonify(platform.jwks())

        @app.post("/token")
        def token() -> tuple[Response, int]:
            form = request.form.to_dict()
            config = _PlatformConf(platform=platform)
            config.get_registration()
            try:
                access_token = config.get_access_token(form)
                platform._check_client_assertion(form["client_assertion"])
            except UnsupportedGrantType:
                return jsonify({"error": "unsupported_grant_type"}), 400
            except MissingRequiredClaim as exc:
                return jsonify({"error": "invalid_request", "error_description": str(exc)}), 400
            except (LtiException, InvalidKeySetUrl, jwt.PyJWTError, ValueError) as exc:
                return jsonify({"error": "invalid_client", "error_description": str(exc)}), 401
            return jsonify(access_token), 200

        self.services.install(app)
        return app


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- The browser's part: submitting an auto-submitting form ------------------------------------------------


class _FormParser(HTMLParser):
    """The first form of a page: its action, method and the fields a script's form.submit() would send."""

    _NOT_SENT = {"submit", "button", "reset", "image", "file"}

    def __init__(self) -> None:
        super().__init__()  # convert_charrefs: attribute values arrive unescaped
        self.action: str | None = None
        self.method = "get"
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._done = False
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done and not self._in_form:
            self._in_form = True
            self.action = values.get("action", "")
            self.method = (values.get("method") or "get").lower()
        elif tag == "input" and self._in_form and values.get("name") and "disabled" not in values:
            kind = values.get("type", "text").lower()
            if kind in self._NOT_SENT or (kind in {"checkbox", "radio"} and "checked" not in values):
                return
            default = "on" if kind in {"checkbox", "radio"} else ""
            self.fields.append((values["name"], values.get("value", default)))
        elif tag == "textarea" and self._in_form and values.get("name"):
            self._textarea = (values["name"], [])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea[0], "".join(self._textarea[1])))
            self._textarea = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def submit_auto_form(session: requests.Session, response: requests.Response, timeout: float = 10) -> requests.Response:
    """Submit the first form of `response`'s page with `session`, as the page's script would in a browser."""
    parser = _FormParser()
    parser.feed(response.text)
    parser.close()
    if parser.action is None:
        raise AssertionError(f"no form on the page ({response.status_code}): {response.text[:300]}")
    action = urljoin(response.url, parser.action)
    if parser.method == "post":
        return session.post(action, data=parser.fields, timeout=timeout)
    # A GET form replaces the action's query string with the fields.
    return session.get(
        urlunsplit(urlsplit(action)._replace(query="", fragment="")), params=parser.fields, timeout=timeout
    )
