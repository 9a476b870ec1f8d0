"""The test platform grown to Moodle's LTI Advantage set-up: Dynamic Registration and Deep Linking.

`AdvantagePlatform` is a `TestPlatform` (lti_tool/demo_lms/moodle_like.py) that also serves, as Moodle 4.x does:
- `/mod/lti/openid-configuration.php`: the OpenID configuration with the LTI platform configuration claim
  (mod/lti/openid-configuration.php), with fault modes for the tool's negative tests;
- `/mod/lti/openid-registration.php`: the registration endpoint. It checks the Bearer registration token and the
  tool's configuration as Moodle's registration_helper::registration_to_config does, issues a client_id and a
  deployment id (Moodle's type id) and then launches the tool with what the tool registered;
- Deep Linking: `deep_linking_initiation_url()` starts an LtiDeepLinkingRequest (lti_message_hint cmid 0, no
  resource link, Moodle's deep_linking_settings with a return URL that carries a query string), and
  `/mod/lti/contentitem_return.php` takes the tool's answer and checks it as a platform must (LTI-DL §4.5): the
  signature against the tool's JWKS (by lti1p3platform), iss = client_id, aud = our issuer, nonce, deployment_id,
  message type, version and the echoed `data`.

    platform = AdvantagePlatform().start()
    page = session.get(platform.registration_start_url(tool.url("/lti/register")))
    auth = session.get(platform.deep_linking_initiation_url(sub="u-1", context_id="course-42"))
"""

from __future__ import annotations

import html
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlencode

import jwt
from flask import Flask, Response, jsonify, request
from lti1p3platform.message_launch import LaunchData

from lti_tool.demo_lms.lti_platform import verified_content_items
from lti_tool.demo_lms.moodle_like import LaunchMessage
from lti_tool.lti.claims import DEEP_LINKING_CLAIM as DL
from lti_tool.lti.claims import LTI_CLAIM as LTI
from lti_tool.lti.claims import PLATFORM_CONFIGURATION, TOOL_CONFIGURATION
from tests.support.lti_platform import TestPlatform

__all__ = ["AdvantagePlatform", "DeepLinkReturn"]

MOODLE_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    "openid",
]


@dataclass
class DeepLinkReturn:
    """One answer the tool posted to the return URL, as the platform judged it."""

    accepted: bool
    reason: str
    claims: dict[str, Any] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)

    @property
    def content_items(self) -> list[dict[str, Any]]:
        return list(self.claims.get(DL + "content_items", []))


@dataclass
class _DeepLinkRequest:
    data: Any
    return_url: str | None
    accept_types: list[str]


class _AdvantageLaunch(LaunchMessage):
    """The launch message, turned into an LtiDeepLinkingRequest for placements started as one."""

    def generate_launch_request(self) -> LaunchData:
        p: AdvantagePlatform = self._platform  # type: ignore[assignment]
        request_settings = p._deep_link_requests.get(id(self._launch))
        if request_settings is None:
            result: LaunchData = super().generate_launch_request()
            return result
        launch_message, state = self.launch_claims()
        # Moodle's ContentItemSelectionRequest → LtiDeepLinkingRequest: no resource link (lti_build_content_item_selection_request).
        launch_message.pop(LTI + "resource_link", None)
        launch_message[LTI + "message_type"] = "LtiDeepLinkingRequest"
        dl_settings: dict[str, Any] = {
            "accept_types": request_settings.accept_types,
            "accept_presentation_document_targets": ["frame", "iframe", "window"],
            "accept_copy_advice": False,
            "accept_multiple": True,
            "accept_unsigned": False,
            "auto_create": False,
            "can_confirm": False,
            "title": "",
            "text": "",
        }
        if request_settings.return_url is not None:
            dl_settings["deep_link_return_url"] = request_settings.return_url
        if request_settings.data is not None:
            dl_settings["data"] = request_settings.data
        launch_message[DL + "deep_linking_settings"] = dl_settings
        return p._launch_answer(launch_message, state, self._registration.platform_encode_and_sign)


class AdvantagePlatform(TestPlatform):
    """A TestPlatform that a tool can register with by LTI Dynamic Registration and add links to by Deep Linking."""

    __test__ = False
    launch_class: ClassVar[type[LaunchMessage]] = _AdvantageLaunch

    def __init__(self, client_id: str = "not-registered-yet", deployment_id: str = "", **kwargs: Any) -> None:
        super().__init__(client_id=client_id, deployment_id=deployment_id, **kwargs)
        self.registration_token = "reg-" + secrets.token_urlsafe(16)
        # "ok" | "down" (503) | "garbage" (HTML) | "array" (JSON, not an object) | "no_lti_claim"
        # | "no_registration_endpoint" | "foreign_issuer" (another site's issuer)
        # | "redirect" (302 to `redirect_to`)
        self.configuration_mode = "ok"
        self.configuration_overrides: dict[str, Any] = {}  # fields replaced in the configuration it serves
        self.redirect_to = ""
        # "ok" | "refuse" (400, Moodle's message) | "error" (500) | "garbage" (200, not JSON) | "no_client_id"
        # | "slow" (answers after `slow_seconds`) | "redirect" (307 to `redirect_to`)
        self.registration_mode = "ok"
        self.slow_seconds = 3.0
        self.next_client_id: str | None = None  # the client_id to issue next (Moodle issues a new one per token)
        self.registration_requests: list[dict[str, Any]] = []
        self.configuration_fetches = 0
        self.registered_tool: dict[str, Any] = {}
        self.deep_link_returns: list[DeepLinkReturn] = []
        self._deep_link_requests: dict[int, _DeepLinkRequest] = {}
        self._type_ids = 0
        self._seen_nonces: set[str] = set()

    # --- URLs ---------------------------------------------------------------------------------------------

    @property
    def openid_configuration_url(self) -> str:
        return self.issuer + "/mod/lti/openid-configuration.php"

    @property
    def registration_endpoint(self) -> str:
        return self.issuer + "/mod/lti/openid-registration.php"

    def deep_link_return_url(self, course: str = "2") -> str:
        # Moodle's return URL carries the course, the tool type and the sesskey in its query string.
        query = urlencode({"course": course, "id": self.deployment_id or "0", "sesskey": "Sk" + secrets.token_hex(4)})
        return f"{self.issuer}/mod/lti/contentitem_return.php?{query}"

    def registration_start_url(self, tool_registration_url: str, token: str | None = None) -> str:
        """What Moodle's startltiadvregistration.php redirects the admin's frame to."""
        params = {
            "openid_configuration": self.openid_configuration_url,
            "registration_token": token or self.registration_token,
        }
        return tool_registration_url + "?" + urlencode(params)

    def deep_linking_initiation_url(
        self,
        sub: str,
        context_id: str = "course-1",
        context_title: str = "Course",
        *,
        data: Any = None,
        return_url: str | None = "default",
        accept_types: list[str] | None = None,
        use_post: bool = False,
    ) -> str:
        """Where a browser starts a Deep Linking request, as Moodle's "Select content" button does."""
        url = self.initiation_url(sub, context_id, context_title, resource_link_id="", custom={}, use_post=use_post)
        key = url.rsplit("launch=", 1)[1]
        with self._lock:
            launch = self._launches[key]
            launch.cmid = 0  # Moodle's lti_message_hint names course module 0 for a Deep Linking request
            self._deep_link_requests[id(launch)] = _DeepLinkRequest(
                data=data,
                return_url=self.deep_link_return_url() if return_url == "default" else return_url,
                accept_types=accept_types or ["ltiResourceLink"],
            )
        return url

    # --- the platform's side of registration and deep linking ---------------------------------------------

    def openid_configuration(self) -> dict[str, Any]:
        """Moodle's mod/lti/openid-configuration.php."""
        return {
            "issuer": self.issuer,
            "token_endpoint": self.token_url,
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "jwks_uri": self.jwks_url,
            "authorization_endpoint": self.auth_login_url,
            "registration_endpoint": self.registration_endpoint,
            "scopes_supported": MOODLE_SCOPES,
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
            PLATFORM_CONFIGURATION: {
                "product_family_code": "moodle",
                "version": "4.5.1 (Build: 20241209)",
                "messages_supported": ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"],  # Moodle: plain strings
                "placements": ["AddContentMenu"],
                "variables": ["ResourceLink.id", "ResourceLink.title", "Context.id", "Person.name.full"],
            },
        }

    def _registration_refusal(self, payload: Any) -> str | None:
        """registration_helper::registration_to_config's checks, with Moodle's messages."""
        if not isinstance(payload, dict):
            return "missing required attribute response_types"
        for required in (
            "response_types",
            "initiate_login_uri",
            "redirect_uris",
            "client_name",
            "jwks_uri",
            "token_endpoint_auth_method",
            TOOL_CONFIGURATION,
        ):
            if not payload.get(required):
                return "missing required attribute " + required
        tool_config = payload[TOOL_CONFIGURATION]
        for required in ("domain", "target_link_uri"):
            if not isinstance(tool_config, dict) or not tool_config.get(required):
                return "missing required attribute " + required
        if "id_token" not in payload["response_types"]:
            return "invalid_response_types"
        if not isinstance(payload["redirect_uris"], list):
            return "invalid_redirect_uris"
        if payload["token_endpoint_auth_method"] != "private_key_jwt":
            return "invalid_token_endpoint_auth_method"
        if payload.get("application_type", "web") != "web":
            return "invalid_application_type"
        return None

    def _register(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._type_ids += 1
            client_id = self.next_client_id or "dr-" + secrets.token_hex(6)
            self.next_client_id = None
            deployment_id = (
                self.deployment_id if client_id == self.client_id and self.deployment_id else str(self._type_ids)
            )
        tool_config = payload[TOOL_CONFIGURATION]
        self.client_id, self.deployment_id = client_id, deployment_id
        self.configure_tool(
            login_url=payload["initiate_login_uri"],
            launch_url=payload["redirect_uris"][0],
            jwks_url=payload["jwks_uri"],
        )
        self.registered_tool = payload
        # Moodle's registration_helper::config_to_registration.
        return {
            "client_id": client_id,
            "token_endpoint_auth_method": "private_key_jwt",
            "response_types": ["id_token"],
            "jwks_uri": payload["jwks_uri"],
            "initiate_login_uri": payload["initiate_login_uri"],
            "grant_types": ["client_credentials", "implicit"],
            "redirect_uris": payload["redirect_uris"],
            "application_type": ["web"],
            "client_name": payload["client_name"],
            "logo_uri": "",
            "scope": payload.get("scope", ""),
            TOOL_CONFIGURATION: {
                "deployment_id": deployment_id,
                "target_link_uri": tool_config["target_link_uri"],
                "domain": tool_config["domain"],
                "description": tool_config.get("description", ""),
                "messages": [m for m in tool_config.get("messages", []) if m.get("type") == "LtiDeepLinkingRequest"],
                "custom_parameters": tool_config.get("custom_parameters", {}),
                "claims": ["sub", "iss", "name", "family_name", "middle_name", "email"],
            },
        }

    def judge_deep_link_response(self, token: str) -> DeepLinkReturn:
        """Check the tool's LtiDeepLinkingResponse as a platform must (LTI-DL §4.5, Security §5.2)."""
        try:
            verified_content_items(self.conf(), token)  # lti1p3platform, against the tool's JWKS
        except ValueError as exc:
            return DeepLinkReturn(False, f"signature: {exc}")
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        with self._lock:
            nonce_seen = claims.get("nonce") in self._seen_nonces
            self._seen_nonces.add(str(claims.get("nonce")))
        problems = [
            ("iss is not the client_id", claims.get("iss") != self.client_id),
            ("aud does not name the platform", self.issuer not in audiences),
            ("no nonce, or a nonce seen before", not claims.get("nonce") or nonce_seen),
            ("wrong deployment_id", claims.get(LTI + "deployment_id") != self.deployment_id),
            ("not an LtiDeepLinkingResponse", claims.get(LTI + "message_type") != "LtiDeepLinkingResponse"),
            ("not version 1.3.0", claims.get(LTI + "version") != "1.3.0"),
            ("expired", int(claims.get("exp", 0)) < time.time()),
            ("no kid", not header.get("kid")),
        ]
        failed = [reason for reason, bad in problems if bad]
        return DeepLinkReturn(not failed, "; ".join(failed) or "ok", claims, header)

    # --- HTTP -----------------------------------------------------------------------------------------------

    def _app(self) -> Flask:
        app = super()._app()
        platform = self

        def text(body: str, status: int) -> Response:
            return Response(body, status=status, mimetype="text/plain")

        @app.get("/mod/lti/openid-configuration.php")
        def openid_configuration() -> Response:
            with platform._lock:
                platform.configuration_fetches += 1
            mode = platform.configuration_mode
            if mode == "down":
                return text("Service unavailable", 503)
            if mode == "garbage":
                return Response("<html><body>Moodle is being upgraded</body></html>", mimetype="text/html")
            if mode == "array":
                return jsonify(["issuer", platform.issuer])
            if mode == "redirect":
                return Response("", status=302, headers={"Location": platform.redirect_to})
            config = platform.openid_configuration() | platform.configuration_overrides
            if mode == "no_lti_claim":
                config.pop(PLATFORM_CONFIGURATION)
            elif mode == "no_registration_endpoint":
                config.pop("registration_endpoint")
            elif mode == "foreign_issuer":
                config["issuer"] = "https://moodle.other-district.example"
            return jsonify(config)

        @app.post("/mod/lti/openid-registration.php")
        def registration() -> Response:
            auth_header = request.headers.get("Authorization", "")
            if not auth_header.startswith("Bearer "):
                return text("missing_registration_token", 401)
            if auth_header[7:].strip() != platform.registration_token:
                return text("invalid_registration_token", 401)
            payload = request.get_json(silent=True)
            with platform._lock:
                platform.registration_requests.append({"headers": dict(request.headers), "json": payload})
            mode = platform.registration_mode
            if mode == "slow":
                time.sleep(platform.slow_seconds)
            if mode == "error":
                return text("Error writing to database", 500)
            if mode == "redirect":
                return Response("", status=307, headers={"Location": platform.redirect_to})
            if mode == "refuse":
                return text("invalid_token_endpoint_auth_method", 400)
            if mode == "garbage":
                return Response("<html>Login required</html>", mimetype="text/html")
            refusal = platform._registration_refusal(payload)
            if refusal:
                return text(refusal, 400)
            answer = platform._register(payload)
            if mode == "no_client_id":
                answer.pop("client_id")
            return Response(json.dumps(answer), mimetype="application/json")

        @app.post("/mod/lti/contentitem_return.php")
        def deep_link_return() -> Response:
            token = request.form.get("JWT", "")
            judged = platform.judge_deep_link_response(token) if token else DeepLinkReturn(False, "no JWT field")
            with platform._lock:
                platform.deep_link_returns.append(judged)
            if not judged.accepted:
                return text("Deep linking response refused: " + judged.reason, 400)
            titles = html.escape(", ".join(str(item.get("title")) for item in judged.content_items))
            return Response(
                f"<!doctype html><html><body><p id='added'>Added: {titles}</p></body></html>", mimetype="text/html"
            )

        return app
