"""A Moodle-like LTI 1.3 platform on 127.0.0.1, for the tool's tests and benchmarks, built on the independent
`lti1p3platform` (see lti_platform.py for the glue): login initiation, OIDC auth with Moodle 4.x's checks and
claims (mod/lti/auth.php, mod/lti/locallib.php), its JWKS and token endpoints, and the AGS and NRPS services of
moodle_like_services.py. The tests add their fault switches in a subclass (tests/support/lti_platform.py).

    platform = MoodleLikePlatform(client_id="client-1", deployment_id="dep-1").start()
    platform.configure_tool(login_url=..., launch_url=..., jwks_url=...)
    platform.add_user(LaunchUser(...))
    auth_page = session.get(platform.initiation_url(sub="u-1", context_id="course-42"))  # via the tool's login
    landing = submit_auto_form(session, auth_page)                                        # POSTs the id_token
    platform.stop()
"""

from __future__ import annotations

import html
import json
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify, redirect, request
from lti1p3platform.exceptions import PreflightRequestValidationException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LaunchData, LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Response as BaseResponse

from lti_tool.demo_lms.auto_form import auto_form
from lti_tool.demo_lms.lti_platform import FlaskRequest, PlatformKey, check_client_assertion, registration, token_answer
from lti_tool.demo_lms.moodle_like_services import AdvantageServices
from lti_tool.lti.claims import LTI_CLAIM as LTI

__all__ = ["LaunchMessage", "LaunchUser", "MoodleLikePlatform", "Placement", "PlatformConf", "QuietHandler"]

MOODLE_VERSION = "2024100700"  # $CFG->version of Moodle 4.5


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
class Placement:
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


class QuietHandler(WSGIRequestHandler):
    """No access log line per request: tests and benchmarks make thousands."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class PlatformConf(LTI1P3PlatformConfAbstract):  # type: ignore[misc]
    """One per request: lti1p3platform keeps per-call state on it (`_jwt`, the cached registration and the
    tool's key set), which must not be shared between the server's threads."""

    def init_platform_config(self, **kwargs: Any) -> None:
        self.platform: MoodleLikePlatform = kwargs["platform"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        p = self.platform
        return registration(
            p.key, p.issuer, p.client_id, p.deployment_id, p.tool_login_url, p.tool_launch_url, p.tool_jwks_url
        )


class _OIDCLogin(OIDCLoginAbstract):  # type: ignore[misc]
    """Third-party initiated login: a 302 to the tool's login URL, or (use_post) a form posted to it."""

    def __init__(self, flask_request: FlaskRequest, config: PlatformConf, launch: Placement) -> None:
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
        return Response(auto_form(login_url, fields), mimetype="text/html")


class LaunchMessage(LTIAdvantageMessageLaunchAbstract):  # type: ignore[misc]
    """Answers the tool's authentication request with the auto-submitting launch form."""

    def __init__(self, flask_request: FlaskRequest, platform: MoodleLikePlatform) -> None:
        super().__init__(flask_request, platform.conf())
        self._platform = platform
        self._launch: Placement | None = None
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

    def launch_claims(self) -> tuple[dict[str, Any], str]:
        """The launch message's claims, with iat and exp, and the state to post back."""
        launch_message, state = self.get_launch_data()
        now = int(time.time())
        launch_message.update({"iat": now, "exp": now + self.id_token_expiration})
        return launch_message, state

    def generate_launch_request(self) -> LaunchData:
        claims, state = self.launch_claims()
        return self._platform._launch_answer(claims, state, self._registration.platform_encode_and_sign)

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> Response:
        fields = [("id_token", launch_data["id_token"]), ("state", launch_data["state"])]
        return Response(auto_form(launch_data["launch_url"], fields), mimetype="text/html")


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


class MoodleLikePlatform:
    """An LTI 1.3 platform serving login initiation, OIDC auth, JWKS, token, AGS and NRPS endpoints on 127.0.0.1."""

    services_class: ClassVar[type[AdvantageServices]] = AdvantageServices
    launch_class: ClassVar[type[LaunchMessage]] = LaunchMessage

    def __init__(
        self,
        client_id: str = "client-1",
        deployment_id: str = "dep-1",
        name: str = "Test Moodle",
        host: str = "127.0.0.1",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        # `host` names the platform in its URLs (it always listens on 127.0.0.1): "localhost" makes it another
        # site than a tool on 127.0.0.1, so a browser treats the tool in its iframe as third-party.
        # `ssl_context` serves it over HTTPS, as a district's Moodle is.
        self.ssl_context = ssl_context
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.name = name
        self.host = host
        self.key = PlatformKey.generate()
        self._published: list[PlatformKey] = [self.key]  # the keys /jwks publishes
        self.users: dict[str, LaunchUser] = {}
        self.tool_login_url = self.tool_launch_url = self.tool_jwks_url = ""
        self.last_launch_claims: dict[str, Any] = {}
        self.last_auth_params: dict[str, str] = {}
        self.services = self.services_class(self)  # AGS, NRPS and the token endpoint's bookkeeping

        self._launches: dict[str, Placement] = {}  # initiation_url() key -> placement
        self._launch_ids: dict[str, str] = {}  # lti_message_hint launchid -> initiation key, until used
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # --- lifecycle --------------------------------------------------------------------------------------

    def start(self) -> Self:
        self._server = make_server(
            "127.0.0.1", 0, self._app(), threaded=True, request_handler=QuietHandler, ssl_context=self.ssl_context
        )
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def issuer(self) -> str:
        if not self._port:
            raise RuntimeError("start() the platform first: the issuer holds the port")
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self._port}"

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
        return self.key.kid

    @property
    def private_key_pem(self) -> str:
        return self.key.private_pem

    @property
    def public_key_pem(self) -> str:
        return self.key.public_pem

    @property
    def signing_key(self) -> rsa.RSAPrivateKey:
        return self.key.signing_key

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The key set /jwks publishes."""
        return {"keys": [Registration.get_jwk(key.public_pem) for key in self._published]}

    def conf(self) -> PlatformConf:
        """lti1p3platform's configuration of this platform, for one request."""
        return PlatformConf(platform=self)

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
            self._launches[key] = Placement(
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

    # --- request checks and Moodle's claims -------------------------------------------------------------

    def _check_auth_request(self, params: dict[str, Any]) -> tuple[str, Placement, LaunchUser]:
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

    def _return_url(self, launch: Placement) -> str:
        query = urlencode({"course": launch.context_id, "launch_container": 3, "instanceid": launch.cmid})
        return f"{self.issuer}/mod/lti/return.php?{query}"

    def _moodle_claims(self, user: LaunchUser, launch: Placement) -> dict[str, Any]:
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

    def _launch_answer(self, claims: dict[str, Any], state: str, sign: Callable[[dict[str, Any]], str]) -> LaunchData:
        """The id_token and state the launch form posts to the tool."""
        self.last_launch_claims = dict(claims)
        return {"state": state, "id_token": sign(claims)}  # iat/exp already set

    def _token(self, form: dict[str, str]) -> tuple[dict[str, Any], int]:
        """lti1p3platform's token endpoint, with the client assertion's sub and aud checked too."""
        return token_answer(
            self.conf(), form, lambda assertion: check_client_assertion(assertion, self.client_id, self.token_url)
        )

    # --- HTTP ---------------------------------------------------------------------------------------------

    def _jwks_response(self) -> Response:
        return jsonify(self.jwks())

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
            login = _OIDCLogin(FlaskRequest(request), platform.conf(), launch)
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
            message = platform.launch_class(FlaskRequest(request), platform)
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
            return platform._jwks_response()

        self.services.install(app)
        return app
