"""A Moodle-like LTI 1.3 platform on 127.0.0.1 for the tool's tests, built on the independent `lti1p3platform`.

lti1p3platform builds and signs the launch message, checks the tool's authentication request and issues
access tokens; this module is the Flask glue around it (lti1p3platform ships Django and FastAPI adapters only)
plus test hooks that forge defective tokens, break the JWKS endpoint or rotate the platform's key.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify, redirect, request
from jwcrypto.jwk import JWK
from lti1p3platform.exceptions import LtiException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
TokenHook = Callable[[dict[str, Any], dict[str, Any]], str]


@dataclass
class LaunchUser:
    sub: str
    name: str
    given_name: str
    family_name: str
    email: str
    roles: list[str]
    locale: str = "th"


@dataclass
class _LaunchContext:
    sub: str
    context_id: str
    context_title: str
    resource_link_id: str
    resource_link_title: str
    custom: dict[str, Any] = field(default_factory=dict)
    use_post: bool = False
    storage_target: str | None = None


def _new_key() -> tuple[str, str, str]:
    """A private PEM, its public PEM and the kid (the JWK thumbprint, as lti1p3platform computes it)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem, JWK.from_pem(public_pem.encode()).thumbprint()


class QuietHandler(WSGIRequestHandler):
    """No access log line per request: tests and benchmarks make thousands."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _FlaskRequest(Request):  # type: ignore[misc]
    def build_metadata(self, flask_request: Any) -> TRequest:
        return {
            "method": flask_request.method,
            "form_data": flask_request.form.to_dict(),
            "get_data": flask_request.args.to_dict(),
            "headers": dict(flask_request.headers),
            "content_type": flask_request.content_type,
            "path": flask_request.path,
            "json": None,
        }


class _Registration(Registration):  # type: ignore[misc]
    """lti1p3platform re-parses the private PEM for every kid and signature (RSA key checks cost ~30 ms each);
    here the parsed key and its kid are kept, so the platform is never the slow side of a benchmark."""

    def __init__(self, platform: TestPlatform) -> None:
        self._test_platform = platform

    def get_kid(self) -> str:
        return self._test_platform.kid

    def platform_encode_and_sign(self, payload: dict[str, Any], expiration: int | None = None) -> str:
        if expiration:
            now = int(time.time())
            payload.update({"iat": now, "exp": now + expiration})
        return jwt.encode(payload, self._test_platform.signing_key, algorithm="RS256", headers={"kid": self.get_kid()})


class _PlatformConf(LTI1P3PlatformConfAbstract):  # type: ignore[misc]
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


class _MessageLaunch(LTIAdvantageMessageLaunchAbstract):  # type: ignore[misc]
    platform: TestPlatform

    def generate_launch_request(self) -> dict[str, str]:
        launch_message, state = self.get_launch_data()
        p = self.platform
        p.last_launch_claims = dict(launch_message)
        headers = {"kid": p.kid}
        if p.token_hook is not None:
            hook, p.token_hook = p.token_hook, None
            claims = dict(launch_message)
            claims.setdefault("iat", int(time.time()))
            claims.setdefault("exp", claims["iat"] + 300)
            id_token = hook(claims, dict(headers))
        else:
            id_token = self._registration.platform_encode_and_sign(launch_message, expiration=self.id_token_expiration)
        if p.form_state_override is not None:
            state, p.form_state_override = p.form_state_override, None
        return {"state": state, "id_token": id_token}

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> str:
        return _auto_form(
            launch_data["launch_url"], {"id_token": launch_data["id_token"], "state": launch_data["state"]}
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


def _auto_form(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
    )
    return (
        '<!doctype html><html><body><form method="post" action="'
        + html.escape(action)
        + f'" id="f">{inputs}</form><script>document.getElementById("f").submit()</script></body></html>'
    )


class TestPlatform:
    """An LTI 1.3 platform serving OIDC auth, JWKS and token endpoints over HTTP on 127.0.0.1."""

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
        self.host = host
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.name = name
        self.private_key_pem, self.public_key_pem, self.kid = _new_key()
        self.signing_key = serialization.load_pem_private_key(self.private_key_pem.encode(), password=None)
        self._published: list[tuple[str, str]] = [(self.public_key_pem, self.kid)]
        self.other_private_key_pem = _new_key()[0]
        self.users: dict[str, LaunchUser] = {}
        self.tool_login_url = self.tool_launch_url = self.tool_jwks_url = ""
        self.token_hook: TokenHook | None = None
        self.form_state_override: str | None = None
        self.jwks_mode = "ok"
        self.jwks_fetch_count = 0
        self.last_launch_claims: dict[str, Any] = {}
        self.last_auth_params: dict[str, str] = {}
        self._hints: dict[str, _LaunchContext] = {}
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self.issuer = ""

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> TestPlatform:
        self._server = make_server("127.0.0.1", 0, self._app(), threaded=True, request_handler=QuietHandler)
        self.issuer = f"http://{self.host}:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def auth_login_url(self) -> str:
        return self.issuer + "/auth"

    @property
    def token_url(self) -> str:
        return self.issuer + "/token"

    @property
    def jwks_url(self) -> str:
        return self.issuer + "/jwks"

    def configure_tool(self, login_url: str, launch_url: str, jwks_url: str) -> None:
        self.tool_login_url, self.tool_launch_url, self.tool_jwks_url = login_url, launch_url, jwks_url

    def add_user(self, user: LaunchUser) -> None:
        self.users[user.sub] = user

    # --- test hooks --------------------------------------------------------------------------------

    def set_token_hook(self, hook: TokenHook) -> None:
        self.token_hook = hook

    def sign(
        self,
        claims: dict[str, Any],
        headers: dict[str, Any] | None = None,
        key: str | None = None,
        algorithm: str = "RS256",
    ) -> str:
        return jwt.encode(claims, key or self.signing_key, algorithm=algorithm, headers=headers or {"kid": self.kid})

    def rotate_key(self, keep_old_in_jwks: bool = True) -> None:
        self.private_key_pem, self.public_key_pem, self.kid = _new_key()
        self.signing_key = serialization.load_pem_private_key(self.private_key_pem.encode(), password=None)
        old = self._published if keep_old_in_jwks else []
        self._published = [(self.public_key_pem, self.kid), *old]

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
    ) -> str:
        """Where a browser starts a launch. `use_post` sends the login initiation as a form POST;
        `storage_target` offers LTI platform storage (postMessage) under that frame name."""
        hint = secrets.token_urlsafe(12)
        with self._lock:
            self._hints[hint] = _LaunchContext(
                sub,
                context_id,
                context_title,
                resource_link_id,
                resource_link_title,
                custom or {},
                use_post,
                storage_target,
            )
        return self.issuer + "/initiate?" + urlencode({"hint": hint})

    def course_page_url(self, **initiation: Any) -> str:
        """A course page that shows the tool in an iframe and answers platform-storage postMessages."""
        return self.initiation_url(**initiation).replace("/initiate?", "/course?", 1)

    # --- the HTTP side -----------------------------------------------------------------------------

    def _app(self) -> Flask:
        app = Flask(__name__)
        platform = self

        @app.get("/initiate")
        def initiate() -> Response:
            """Third-party initiated login (LTI 1.3 §5.1.1), as Moodle's launch.php does it."""
            context = platform._hints.get(request.args.get("hint", ""))
            if context is None:
                return Response("unknown launch", status=400)
            params = {
                "iss": platform.issuer,
                "login_hint": context.sub,
                "target_link_uri": platform.tool_launch_url,
                "lti_message_hint": request.args["hint"],
                "client_id": platform.client_id,
                "lti_deployment_id": platform.deployment_id,
            }
            if context.storage_target:
                params["lti_storage_target"] = context.storage_target
            if context.use_post:
                return Response(_auto_form(platform.tool_login_url, params), mimetype="text/html")
            return redirect(platform.tool_login_url + "?" + urlencode(params), code=302)

        @app.get("/course")
        def course() -> Response:
            """Moodle-like course page: the tool in an iframe, and the platform's storage for postMessage."""
            src = html.escape(platform.issuer + "/initiate?" + urlencode({"hint": request.args.get("hint", "")}))
            page = (
                "<!doctype html><html><head><meta charset='utf-8'><title>Course</title></head><body>"
                f"<h1>Course</h1><iframe name='tool' title='tool' src='{src}' width='800' height='600'></iframe>"
                f"<script>{_STORAGE_RESPONDER}</script></body></html>"
            )
            return Response(page, mimetype="text/html")

        @app.route("/auth", methods=["GET", "POST"])
        def auth() -> Response:
            params = request.values.to_dict()
            platform.last_auth_params = params
            problem = platform._check_auth_request(params)
            if problem:
                return Response(problem, status=400, mimetype="text/plain")
            context = platform._hints[params["lti_message_hint"]]
            user = platform.users[params["login_hint"]]
            message = _MessageLaunch(_FlaskRequest(request), _PlatformConf(platform=platform))
            message.platform = platform
            message.set_user_data(user.sub, user.roles, full_name=user.name, email_address=user.email)
            message.set_resource_link_claim(context.resource_link_id, title=context.resource_link_title)
            message.set_launch_context_claim(
                context.context_id,
                context_types=["http://purl.imsglobal.org/vocab/lis/v2/course#CourseSection"],
                context_title=context.context_title,
                context_label=context.context_id.upper(),
            )
            message.set_custom_parameters_claim(context.custom)
            message.set_extra_claims(platform._moodle_claims(user, context))
            try:
                return Response(message.lti_launch(), mimetype="text/html")
            except LtiException as exc:
                return Response(str(exc), status=400)

        @app.get("/jwks")
        def jwks() -> Response:
            platform.jwks_fetch_count += 1
            if platform.jwks_mode == "down":
                return Response("unavailable", status=503)
            if platform.jwks_mode == "garbage":
                return Response("<html>not json</html>", status=200, mimetype="text/html")
            if platform.jwks_mode == "empty":
                return jsonify({"keys": []})
            keys = []
            for public_pem, kid in platform._published:
                jwk = json.loads(JWK.from_pem(public_pem.encode()).export_public())
                jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
                keys.append(jwk)
            return jsonify({"keys": keys})

        @app.post("/token")
        def token() -> Response:
            config = _PlatformConf(platform=platform)
            config.get_registration()
            try:
                return jsonify(config.get_access_token(request.form.to_dict()))
            except (LtiException, jwt.PyJWTError, AssertionError) as exc:
                return Response(json.dumps({"error": "invalid_client", "error_description": str(exc)}), status=400)

        return app

    def _check_auth_request(self, params: dict[str, str]) -> str | None:
        """The checks Moodle's auth.php makes on the tool's authentication request."""
        expected = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none"}
        for name, value in expected.items():
            if params.get(name) != value:
                return f"invalid {name}"
        if params.get("client_id") != self.client_id:
            return "unknown client_id"
        if params.get("redirect_uri") != self.tool_launch_url:
            return "redirect_uri is not registered"
        if params.get("login_hint") not in self.users:
            return "unknown login_hint"
        if params.get("lti_message_hint") not in self._hints:
            return "unknown lti_message_hint"
        if not params.get("nonce") or not params.get("state"):
            return "nonce and state are required"
        return None

    def _moodle_claims(self, user: LaunchUser, context: _LaunchContext) -> dict[str, Any]:
        """Claims that Moodle 4.x adds to a resource link launch (mod/lti/locallib.php)."""
        return {
            "given_name": user.given_name,
            "family_name": user.family_name,
            LTI + "tool_platform": {
                "guid": "moodle.test",
                "name": self.name,
                "version": "2024042200",
                "product_family_code": "moodle",
            },
            LTI + "launch_presentation": {
                "locale": user.locale,
                "document_target": "iframe",
                "return_url": self.issuer + "/mod/lti/return.php",
            },
            LTI + "lis": {"person_sourcedid": "", "course_section_sourcedid": ""},
            LTI + "ext": {"user_username": user.sub, "lms": "moodle-2"},
        }


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.method = "get"
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
            self.method = values.get("method", "get").lower()
        elif tag == "input" and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")


def submit_auto_form(session: requests.Session, response: requests.Response) -> requests.Response:
    """Submit the first form of an auto-submitting page, as the browser's script would."""
    parser = _FormParser()
    parser.feed(response.text)
    if parser.action is None:
        raise AssertionError(f"no form on the page: {response.text[:300]}")
    action = urljoin(response.url, parser.action)
    if parser.method == "post":
        return session.post(action, data=parser.fields, timeout=10)
    return session.get(action, params=parser.fields, timeout=10)
