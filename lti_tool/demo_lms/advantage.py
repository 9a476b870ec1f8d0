"""The demo LMS's LTI Advantage set-up, as Moodle offers it: "Add LTI Advantage" (the platform's side of Dynamic
Registration) and "Add an activity" (the platform's side of Deep Linking).

The demo platform keeps what it learns in `demo-lms.json` in the instance folder (like its key): the tools that
registered with it and the activities added to its course. It is a demo: one process, one file, a lock.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from flask import Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer

from lti_tool.demo_lms.lti_platform import verified_content_items
from lti_tool.lti.claims import LTI_CLAIM as LTI
from lti_tool.lti.claims import PLATFORM_CONFIGURATION, TOOL_CONFIGURATION
from lti_tool.lti.launch import launch_url
from lti_tool.settings import Settings

STATE_FILE = "demo-lms.json"
REGISTRATION_TOKEN_MAX_AGE = 3600
_lock = threading.Lock()


@dataclass(frozen=True)
class ToolRegistration:
    """A tool as the demo platform knows it: the client_id and deployment it gave, the URLs the tool sent."""

    client_id: str
    deployment_id: str
    name: str
    login_url: str
    launch_url: str
    jwks_url: str
    by_dynamic_registration: bool = True


@dataclass(frozen=True)
class CourseActivity:
    id: str
    title: str
    custom: dict[str, str] = field(default_factory=dict)
    line_item: dict[str, Any] | None = None


def _settings() -> Settings:
    value: Settings = current_app.extensions["plc_settings"]
    return value


def _path(settings: Settings) -> Any:
    return settings.instance_path / STATE_FILE


def _load(settings: Settings) -> dict[str, Any]:
    path = _path(settings)
    if not path.exists():
        return {"registrations": [], "activities": [], "used_tokens": []}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _save(settings: Settings, state: dict[str, Any]) -> None:
    path = _path(settings)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    temporary.replace(path)


def registrations(settings: Settings) -> list[ToolRegistration]:
    with _lock:
        return [ToolRegistration(**row) for row in _load(settings)["registrations"]]


def activities(settings: Settings) -> list[CourseActivity]:
    with _lock:
        return [CourseActivity(**row) for row in _load(settings)["activities"]]


def find_activity(settings: Settings, activity_id: str | None) -> CourseActivity | None:
    return next((a for a in activities(settings) if a.id == activity_id), None)


def course_tool(settings: Settings, client_id: str, deployment_id: str) -> ToolRegistration:
    """The tool the demo course launches: the latest one registered by Dynamic Registration, else the one the
    demo registers by hand at start-up."""
    registered = registrations(settings)
    if registered:
        return registered[-1]
    base = settings.public_base_url
    return ToolRegistration(
        client_id, deployment_id, "PLC Bridge", base + "/lti/login", launch_url(settings), base + "/lti/jwks", False
    )


# --- Dynamic Registration: the platform's side --------------------------------------------------------------


def _token_serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="demo-registration-token")


def new_registration_token(settings: Settings) -> str:
    return _token_serializer(settings).dumps({"scope": "reg", "jti": secrets.token_hex(8)})


def openid_configuration(issuer: str) -> dict[str, Any]:
    """Like Moodle's mod/lti/openid-configuration.php."""
    return {
        "issuer": issuer,
        "token_endpoint": issuer + "/token",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": issuer + "/jwks",
        "authorization_endpoint": issuer + "/auth",
        "registration_endpoint": issuer + "/registration",
        "scopes_supported": [
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
            "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
            "openid",
        ],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
        PLATFORM_CONFIGURATION: {
            "product_family_code": "plc-bridge-demo",
            "version": "1.0",
            "messages_supported": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}],
        },
    }


def _refusal(payload: Any) -> str | None:
    """The checks Moodle's registration_helper makes of a tool's registration request."""
    if not isinstance(payload, dict):
        return "the registration is not a JSON object"
    for name in ("initiate_login_uri", "redirect_uris", "client_name", "jwks_uri", TOOL_CONFIGURATION):
        if not payload.get(name):
            return f"missing required attribute {name}"
    if "id_token" not in (payload.get("response_types") or []):
        return "invalid_response_types"
    if payload.get("token_endpoint_auth_method") != "private_key_jwt":
        return "invalid_token_endpoint_auth_method"
    if not isinstance(payload["redirect_uris"], list) or not all(isinstance(u, str) for u in payload["redirect_uris"]):
        return "invalid_redirect_uris"
    return None


def register_tool(settings: Settings, authorization: str, payload: Any) -> tuple[dict[str, Any], int]:
    """The registration endpoint: check the token (once only) and the request, give a client_id and deployment."""
    if not authorization.startswith("Bearer "):
        return {"error": "missing_registration_token"}, 401
    token = authorization[7:].strip()
    try:
        _token_serializer(settings).loads(token, max_age=REGISTRATION_TOKEN_MAX_AGE)
    except BadSignature:
        return {"error": "invalid_registration_token"}, 401
    problem = _refusal(payload)
    if problem:
        return {"error": problem}, 400
    with _lock:
        state = _load(settings)
        if token in state["used_tokens"]:
            return {"error": "token_already_used"}, 401
        number = len(state["registrations"]) + 1
        tool_config = payload[TOOL_CONFIGURATION]
        registration = ToolRegistration(
            client_id="demo-dr-" + secrets.token_hex(5),
            deployment_id=f"demo-dr-deployment-{number}",
            name=str(payload["client_name"])[:100],
            login_url=payload["initiate_login_uri"],
            launch_url=payload["redirect_uris"][0],
            jwks_url=payload["jwks_uri"],
        )
        state["registrations"].append(asdict(registration))
        state["used_tokens"].append(token)
        _save(settings, state)
    answer = {
        "client_id": registration.client_id,
        "token_endpoint_auth_method": "private_key_jwt",
        "response_types": ["id_token"],
        "grant_types": ["client_credentials", "implicit"],
        "initiate_login_uri": registration.login_url,
        "redirect_uris": payload["redirect_uris"],
        "jwks_uri": registration.jwks_url,
        "client_name": registration.name,
        "scope": payload.get("scope", ""),
        TOOL_CONFIGURATION: {
            "deployment_id": registration.deployment_id,
            "target_link_uri": tool_config.get("target_link_uri", ""),
            "domain": tool_config.get("domain", ""),
            "messages": tool_config.get("messages", []),
            "claims": tool_config.get("claims", []),
        },
    }
    return answer, 200


# --- Deep Linking: the platform's side ------------------------------------------------------------------------


def accept_deep_link_response(
    settings: Settings, issuer: str, tool: ToolRegistration, token: str, config: Any
) -> list[CourseActivity]:
    """Check the tool's LtiDeepLinkingResponse as a platform must (LTI-DL §4.5) and add its links to the course."""
    try:
        items = verified_content_items(config, token)  # the signature, against the tool's JWKS
    except ValueError as exc:
        raise ValueError(f"the answer's signature does not verify ({exc})") from exc
    claims = jwt.decode(token, options={"verify_signature": False})
    audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
    if claims.get("iss") != tool.client_id or issuer not in audiences:
        raise ValueError("the answer is not from the course's tool or not for this platform")
    if claims.get(LTI + "deployment_id") != tool.deployment_id or claims.get(LTI + "version") != "1.3.0":
        raise ValueError("the answer names another deployment or LTI version")
    if claims.get(LTI + "message_type") != "LtiDeepLinkingResponse" or not claims.get("nonce"):
        raise ValueError("the answer is not an LtiDeepLinkingResponse")
    added = [
        CourseActivity(
            id="act-" + secrets.token_hex(4),
            title=str(item.get("title") or "PLC Bridge")[:200],
            custom={str(k): str(v) for k, v in (item.get("custom") or {}).items()},
            line_item=item.get("lineItem") if isinstance(item.get("lineItem"), dict) else None,
        )
        for item in items
        if item.get("type") == "ltiResourceLink"
    ]
    with _lock:
        state = _load(settings)
        state["activities"].extend(asdict(a) for a in added)
        _save(settings, state)
    return added


# --- Routes, added to the demo blueprint ----------------------------------------------------------------------


def init_routes(bp: Any, issuer_of: Any, platform_conf: Any, tool_ids: tuple[str, str]) -> None:
    """Add the set-up pages and endpoints to the demo LMS's blueprint."""

    def issuer() -> str:
        value: str = issuer_of(_settings())
        return value

    @bp.get("/admin")
    def admin() -> str:
        settings = _settings()
        tool_url = (request.args.get("tool_url") or "").strip()
        frame_src = None
        error = ""
        if tool_url:
            if urlsplit(tool_url).scheme not in ("http", "https") or "?" in tool_url:
                error = _("Enter the tool's registration URL, starting with http:// or https://.")
            else:
                frame_src = (
                    tool_url
                    + "?"
                    + urlencode(
                        {
                            "openid_configuration": issuer() + "/openid-configuration",
                            "registration_token": new_registration_token(settings),
                        }
                    )
                )
        return render_template(
            "demo/admin.html",
            tool_url=tool_url or settings.public_base_url + "/lti/register",
            frame_src=frame_src,
            error=error,
            registrations=registrations(settings),
            current=course_tool(settings, *tool_ids),
        )

    @bp.get("/openid-configuration")
    def platform_openid_configuration() -> Response:
        return jsonify(openid_configuration(issuer()))

    @bp.post("/registration")
    def platform_registration() -> tuple[Response, int]:
        answer, status = register_tool(
            _settings(), request.headers.get("Authorization", ""), request.get_json(silent=True)
        )
        return jsonify(answer), status

    @bp.post("/deep-link-return")
    def deep_link_return() -> tuple[str, int]:
        settings = _settings()
        tool = course_tool(settings, *tool_ids)
        try:
            added = accept_deep_link_response(
                settings, issuer(), tool, request.form.get("JWT", ""), platform_conf(settings=settings)
            )
        except ValueError as refused:
            return render_template("demo/deep_link_added.html", added=[], refused=str(refused)), 400
        return render_template("demo/deep_link_added.html", added=added, refused=""), 200
