"""LTI Dynamic Registration 1.0: the tool registers itself with a platform from one pasted URL.

The platform opens `/lti/register?openid_configuration=…&registration_token=…`. In the spec's order (LTI-DR §3):
fetch the platform's OpenID configuration and check it (§3.4, §3.5.1: the issuer belongs to the configuration URL's
origin), post the tool's configuration to its registration endpoint with the registration token as a Bearer token
(§3.5.2, §3.6), read the client_id and deployment_id from the answer (§3.6.2), and store them. Nothing is written
until the platform has answered with a usable registration.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.lti.errors import Refusal
from lti_tool.lti.launch import launch_url
from lti_tool.settings import Settings
from models.platform import Deployment, Platform

log = logging.getLogger(__name__)

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
ENDPOINTS = ("registration_endpoint", "authorization_endpoint", "token_endpoint", "jwks_uri")
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email", "locale")
MAX_ANSWER_BYTES = 256 * 1024
CLIENT_NAME = "PLC Bridge"

REASONS: dict[str, tuple[int, Any]] = {
    "missing_configuration_url": (
        400,
        _l(
            "The platform did not say where its OpenID configuration is (no 'openid_configuration'). Start the registration again from the platform, e.g. Moodle's “Add LTI Advantage”."
        ),
    ),
    "bad_configuration_url": (
        400,
        _l("The OpenID configuration address '{url}' is not an http(s) address this tool may fetch."),
    ),
    "configuration_unavailable": (
        502,
        _l(
            "The platform's OpenID configuration at {url} could not be read ({detail}). Check that the platform is up, then start the registration again."
        ),
    ),
    "configuration_malformed": (
        502,
        _l("The platform's OpenID configuration at {url} is not usable: {detail}. Nothing was registered."),
    ),
    "issuer_mismatch": (
        400,
        _l(
            "The platform's configuration names the issuer '{issuer}', which does not belong to the address it came from ({url}). Nothing was registered."
        ),
    ),
    "issuer_not_allowed": (
        403,
        _l(
            "This PLC Bridge does not accept registrations from '{issuer}'. Its operator can allow it with the setting PLC_REGISTRATION_ALLOWED_ISSUERS. Nothing was registered."
        ),
    ),
    "endpoint_not_allowed": (
        400,
        _l(
            "The platform's configuration names '{endpoint}' as its {name}, which is not on the issuer's own address ({issuer}) or not https. The tool calls only the platform itself. Nothing was registered."
        ),
    ),
    "redirected": (
        502,
        _l(
            "The platform answered {url} with a redirect (HTTP {status}); the tool follows no redirects during registration. Give the platform's own address and start the registration again. Nothing was registered."
        ),
    ),
    "registration_failed": (
        502,
        _l(
            "The platform's registration endpoint {url} refused or failed the registration ({detail}). Nothing was registered; start the registration again from the platform."
        ),
    ),
    "registration_malformed": (
        502,
        _l(
            "The platform's registration endpoint {url} answered, but not with a usable registration: {detail}. Nothing was registered."
        ),
    ),
}


class RegistrationRefused(Refusal):
    """A dynamic registration that cannot go ahead; nothing has been stored."""

    reasons = REASONS


@dataclass(frozen=True)
class PlatformConfiguration:
    """What the tool needs from the platform's OpenID configuration (LTI-DR §3.4.1)."""

    issuer: str
    registration_endpoint: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    product_family_code: str
    version: str


@dataclass(frozen=True)
class Registered:
    platform: Platform
    deployment_id: str | None
    created: bool


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def tool_configuration(settings: Settings) -> dict[str, Any]:
    """The tool's registration request (LTI-DR §3.5.2 and the LTI tool configuration of §3.5.2.1)."""
    base = settings.public_base_url
    target = launch_url(settings)
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": base + "/lti/login",
        "redirect_uris": [target],
        "client_name": CLIENT_NAME,
        "client_name#th": "PLC Bridge ชุมชนการเรียนรู้ทางวิชาชีพ",
        "jwks_uri": base + "/lti/jwks",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(SCOPES),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(base).netloc,
            "description": "Professional Learning Community cycles, Buddy observations and reflections for teachers.",
            "target_link_uri": target,
            # Never a plc_* parameter here: Moodle merges tool-level custom parameters over each link's own
            # (lti_build_custom_parameters), so a tool-wide plc_activity would hide every deep-linked activity.
            # The course's copy history lets a copied course be recognised later (Moodle substitutes it).
            "custom_parameters": {"context_history": "$Context.id.history"},
            "claims": list(CLAIMS),
            "messages": [
                {"type": "LtiResourceLinkRequest", "target_link_uri": target, "label": CLIENT_NAME},
                {
                    "type": "LtiDeepLinkingRequest",
                    "target_link_uri": target,
                    "label": "Add a PLC activity",
                    "label#th": "เพิ่มกิจกรรม PLC",
                    "placements": ["ContentArea"],
                    "supported_types": ["ltiResourceLink"],
                },
            ],
        },
    }


def _check_url(url: str, settings: Settings) -> str:
    origin = origin_of(url)
    if origin is None or (settings.production and not url.startswith("https://")):
        raise RegistrationRefused("bad_configuration_url", url=url)
    return origin


def _json_answer(response: requests.Response) -> Any:
    if len(response.content) > MAX_ANSWER_BYTES:
        raise ValueError("the answer is too large")
    return response.json()


def _refuse_redirect(response: requests.Response, url: str) -> None:
    if response.is_redirect or 300 <= response.status_code < 400:
        raise RegistrationRefused("redirected", url=url, status=response.status_code)


def _check_endpoint(settings: Settings, issuer: str, name: str, endpoint: str) -> None:
    """The endpoints the tool will call (now or at every launch and grade) must be the issuer's own origin, https
    (http only while trying the tool out): otherwise a forged configuration could make the tool post to any host,
    loopback or private address (SSRF). Loopback itself is not blocked: the origin rule is what stops the pivot."""
    secure = endpoint.startswith("https://") or (not settings.production and endpoint.startswith("http://"))
    if not secure or origin_of(endpoint) != origin_of(issuer):
        raise RegistrationRefused("endpoint_not_allowed", endpoint=endpoint, name=name, issuer=issuer)


def fetch_platform_configuration(http: requests.Session, settings: Settings, url: str) -> PlatformConfiguration:
    """GET the OpenID configuration and check what registration and launches rely on (LTI-DR §3.4, §3.5.1)."""
    origin = _check_url(url, settings)
    try:
        response = http.get(
            url,
            timeout=settings.registration_timeout_seconds,
            headers={"Accept": "application/json"},
            allow_redirects=False,  # a redirect could lead anywhere (another host, loopback, a private address)
        )
    except requests.RequestException as exc:
        raise RegistrationRefused("configuration_unavailable", url=url, detail=type(exc).__name__) from exc
    _refuse_redirect(response, url)
    if response.status_code != 200:
        raise RegistrationRefused("configuration_unavailable", url=url, detail=f"HTTP {response.status_code}")
    try:
        config = _json_answer(response)
    except ValueError as exc:
        raise RegistrationRefused("configuration_malformed", url=url, detail="the answer is not JSON") from exc
    if not isinstance(config, dict):
        raise RegistrationRefused("configuration_malformed", url=url, detail="the answer is not a JSON object")

    def url_field(name: str) -> str:
        value = config.get(name)
        if not isinstance(value, str) or origin_of(value) is None:
            raise RegistrationRefused("configuration_malformed", url=url, detail=f"'{name}' is missing or not a URL")
        return value

    issuer = url_field("issuer")
    # LTI-DR §3.5.1: the issuer must be the platform the configuration came from (Moodle's issuer is its wwwroot,
    # the configuration is under it), or a forged configuration could register someone else's issuer.
    if origin_of(issuer) != origin:
        raise RegistrationRefused("issuer_mismatch", issuer=issuer, url=url)
    lti = config.get(PLATFORM_CONFIGURATION)
    if not isinstance(lti, dict):
        raise RegistrationRefused(
            "configuration_malformed", url=url, detail=f"it has no '{PLATFORM_CONFIGURATION}' object"
        )
    auth_methods = config.get("token_endpoint_auth_methods_supported")
    if isinstance(auth_methods, list) and "private_key_jwt" not in auth_methods:
        raise RegistrationRefused(
            "configuration_malformed", url=url, detail="the platform does not accept private_key_jwt client assertions"
        )
    algorithms = config.get("id_token_signing_alg_values_supported")
    if isinstance(algorithms, list) and "RS256" not in algorithms:
        raise RegistrationRefused("configuration_malformed", url=url, detail="the platform does not sign with RS256")
    endpoints = {name: url_field(name) for name in ENDPOINTS}
    for name, endpoint in endpoints.items():
        _check_endpoint(settings, issuer, name, endpoint)
    return PlatformConfiguration(
        issuer=issuer,
        registration_endpoint=endpoints["registration_endpoint"],
        authorization_endpoint=endpoints["authorization_endpoint"],
        token_endpoint=endpoints["token_endpoint"],
        jwks_uri=endpoints["jwks_uri"],
        product_family_code=str(lti.get("product_family_code") or ""),
        version=str(lti.get("version") or ""),
    )


def post_registration(
    http: requests.Session, settings: Settings, config: PlatformConfiguration, token: str | None
) -> tuple[str, str | None]:
    """POST the tool's configuration (LTI-DR §3.5.2); return the client_id and deployment_id it was given (§3.6)."""
    url = config.registration_endpoint
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    try:
        response = http.post(
            url,
            json=tool_configuration(settings),
            headers=headers,
            timeout=settings.registration_timeout_seconds,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise RegistrationRefused("registration_failed", url=url, detail=type(exc).__name__) from exc
    _refuse_redirect(response, url)
    if response.status_code not in (200, 201):
        # The status only, never the body: what an endpoint answers is not the tool's to show (nor, for an operator,
        # the whole body to log: RFC 7591's short error code is enough to tell an expired token from a bad request).
        log.warning(
            "dynamic registration refused iss=%s status=%s error=%s",
            config.issuer,
            response.status_code,
            _oauth_error_code(response),
        )
        raise RegistrationRefused("registration_failed", url=url, detail=f"HTTP {response.status_code}")
    try:
        answer = _json_answer(response)
    except ValueError as exc:
        raise RegistrationRefused("registration_malformed", url=url, detail="the answer is not JSON") from exc
    if not isinstance(answer, dict):
        raise RegistrationRefused("registration_malformed", url=url, detail="the answer is not a JSON object")
    client_id = answer.get("client_id")
    if not isinstance(client_id, str | int) or isinstance(client_id, bool) or not str(client_id).strip():
        raise RegistrationRefused("registration_malformed", url=url, detail="it has no client_id")
    tool_config = answer.get(TOOL_CONFIGURATION)
    deployment_id = tool_config.get("deployment_id") if isinstance(tool_config, dict) else None
    if deployment_id is not None and (isinstance(deployment_id, bool) or not isinstance(deployment_id, str | int)):
        raise RegistrationRefused("registration_malformed", url=url, detail="its deployment_id is not a string")
    return str(client_id).strip()[:255], (str(deployment_id)[:255] if deployment_id not in (None, "") else None)


def _oauth_error_code(response: requests.Response) -> str:
    """RFC 7591 §3.2.2's `error` code of a refusal, when it is one short token; '-' otherwise."""
    try:
        code = response.json().get("error") if len(response.content) <= 4096 else None
    except (ValueError, AttributeError):
        code = None
    return code if isinstance(code, str) and re.fullmatch(r"[a-z_]{1,64}", code) else "-"


def store_registration(
    db: Session, config: PlatformConfiguration, client_id: str, deployment_id: str | None
) -> Registered:
    """Upsert the platform (issuer + client_id) and its deployment: registering again changes, never duplicates."""
    platform = db.scalars(
        select(Platform).where(Platform.issuer == config.issuer, Platform.client_id == client_id)
    ).first()
    created = platform is None
    if platform is None:
        platform = Platform(issuer=config.issuer, client_id=client_id)
        db.add(platform)
    platform.name = platform.name or (config.product_family_code or urlsplit(config.issuer).netloc)[:255]
    if not created and platform.key_set_url != config.jwks_uri:
        platform.key_set_cache = None  # keys cached from the old address are not the platform's any more
    platform.auth_login_url = config.authorization_endpoint
    platform.auth_token_url = config.token_endpoint
    platform.key_set_url = config.jwks_uri
    db.flush()
    if deployment_id and not any(d.deployment_id == deployment_id for d in platform.deployments):
        platform.deployments.append(Deployment(deployment_id=deployment_id, note="LTI Dynamic Registration"))
        db.flush()
    return Registered(platform, deployment_id, created)


def _may_fetch(settings: Settings, origin: str) -> bool:
    """Whether the configuration may be fetched from this origin: any while no list limits it, else an allowed
    issuer's origin only."""
    allowed = [entry.strip() for entry in settings.registration_allowed_issuers]
    if "*" in allowed or not allowed:
        return "*" in allowed or not settings.production
    return any(origin_of(entry) == origin for entry in allowed)


def register(
    db: Session, settings: Settings, http: requests.Session, configuration_url: str | None, token: str | None
) -> Registered:
    """The whole registration, in the spec's order; raises RegistrationRefused before anything is written."""
    if not configuration_url:
        raise RegistrationRefused("missing_configuration_url")
    origin = _check_url(configuration_url, settings)
    if not _may_fetch(settings, origin):
        # Refused before any request: with an allow-list, the tool fetches nothing from other sites (no SSRF).
        raise RegistrationRefused("issuer_not_allowed", issuer=origin)
    config = fetch_platform_configuration(http, settings, configuration_url)
    if not settings.registration_allows(config.issuer):
        raise RegistrationRefused("issuer_not_allowed", issuer=config.issuer)
    client_id, deployment_id = post_registration(http, settings, config, token)
    registered = store_registration(db, config, client_id, deployment_id)
    log.info(
        "dynamic registration iss=%s client_id=%s deployment=%s new=%s",
        config.issuer,
        client_id,
        deployment_id or "-",
        registered.created,
    )
    return registered
