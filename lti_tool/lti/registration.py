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
from typing import Annotated, Any
from urllib.parse import urlsplit

import requests
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    ValidationInfo,
)
from pydantic_core import ErrorDetails, PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.lti.claims import (
    DEEP_LINKING_REQUEST,
    LTI_RESOURCE_LINK,
    PLATFORM_CONFIGURATION,
    RESOURCE_LINK_REQUEST,
    SCOPE_LINEITEM,
    SCOPE_MEMBERSHIPS,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    TOOL_CONFIGURATION,
)
from lti_tool.lti.errors import RegistrationRefused
from lti_tool.lti.launch import launch_url
from lti_tool.lti.origin import origin_of
from lti_tool.settings import Settings
from models.platform import Deployment, Platform

log = logging.getLogger(__name__)

SCOPES = (SCOPE_LINEITEM, SCOPE_SCORE, SCOPE_RESULT_READONLY, SCOPE_MEMBERSHIPS)
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email", "locale")
MAX_ANSWER_BYTES = 256 * 1024
CLIENT_NAME = "PLC Bridge"

# --- What the platform sends (LTI-DR §3.4.1 and §3.6.2), read through pydantic ---------------------------------


def _web_url(value: str) -> str:
    if origin_of(value) is None:
        raise ValueError("not an http(s) URL")
    return value


def _from_configuration_origin(issuer: str, info: ValidationInfo) -> str:
    # LTI-DR §3.5.1: the issuer must be the platform the configuration came from (Moodle's issuer is its wwwroot,
    # the configuration is under it), or a forged configuration could register someone else's issuer.
    origin = (info.context or {}).get("origin")
    if origin is not None and origin_of(issuer) != origin:
        raise PydanticCustomError("issuer_mismatch", "the issuer is not on the configuration's own address")
    return issuer


def _list_or_none(value: object) -> object:
    """A listing the platform may leave out; anything but a JSON array counts as left out."""
    return value if isinstance(value, list) else None


def _accepts_private_key_jwt(methods: list[Any] | None) -> list[Any] | None:
    if methods is not None and "private_key_jwt" not in methods:
        raise ValueError("the platform does not accept private_key_jwt client assertions")
    return methods


def _signs_with_rs256(algorithms: list[Any] | None) -> list[Any] | None:
    if algorithms is not None and "RS256" not in algorithms:
        raise ValueError("the platform does not sign with RS256")
    return algorithms


def _text(value: object) -> str:
    return str(value or "")


WebUrl = Annotated[StrictStr, AfterValidator(_web_url)]
OptionalList = Annotated[list[Any] | None, BeforeValidator(_list_or_none)]


class LtiPlatform(BaseModel):
    """The LTI part of the platform's configuration (LTI-DR §3.4.1): what kind of platform it is."""

    model_config = ConfigDict(frozen=True)

    product_family_code: Annotated[str, BeforeValidator(_text)] = ""
    version: Annotated[str, BeforeValidator(_text)] = ""


class PlatformConfiguration(BaseModel):
    """What the tool needs from the platform's OpenID configuration (LTI-DR §3.4.1).

    The fields are in the order the spec has them checked: a configuration with several problems is refused for
    the first. Validate with `context={"origin": …}`, the configuration URL's origin, to check the issuer's."""

    model_config = ConfigDict(frozen=True)

    issuer: Annotated[WebUrl, AfterValidator(_from_configuration_origin)]
    lti: LtiPlatform = Field(alias=PLATFORM_CONFIGURATION)
    token_endpoint_auth_methods_supported: Annotated[OptionalList, AfterValidator(_accepts_private_key_jwt)] = None
    id_token_signing_alg_values_supported: Annotated[OptionalList, AfterValidator(_signs_with_rs256)] = None
    registration_endpoint: WebUrl
    authorization_endpoint: WebUrl
    token_endpoint: WebUrl
    jwks_uri: WebUrl

    @property
    def product_family_code(self) -> str:
        return self.lti.product_family_code

    def endpoints(self) -> dict[str, str]:
        """The endpoints the tool will call, by their names in the configuration."""
        return {
            "registration_endpoint": self.registration_endpoint,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "jwks_uri": self.jwks_uri,
        }


def _identifier(value: object) -> str:
    """An id the platform chose, as text: a JSON string or number (never a boolean)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("not a string")
    return str(value)


def _optional_identifier(value: object) -> str | None:
    return None if value is None else _identifier(value) or None


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("blank")
    return value.strip()


def _object_or_none(value: object) -> object:
    return value if isinstance(value, dict) else None


class ToolConfigurationAnswer(BaseModel):
    """The LTI tool configuration in the platform's answer (LTI-DR §3.6.2): the deployment it made, if any."""

    deployment_id: Annotated[str | None, BeforeValidator(_optional_identifier)] = None


class RegistrationAnswer(BaseModel):
    """The platform's answer to the registration request (LTI-DR §3.6.2): the client_id it gave the tool and,
    in the LTI tool configuration, the deployment it made (optional)."""

    client_id: Annotated[str, BeforeValidator(_identifier), AfterValidator(_not_blank)]
    tool_configuration: Annotated[ToolConfigurationAnswer | None, BeforeValidator(_object_or_none)] = Field(
        default=None, alias=TOOL_CONFIGURATION
    )

    @property
    def deployment_id(self) -> str | None:
        return self.tool_configuration.deployment_id if self.tool_configuration is not None else None


def _configuration_problem(error: ErrorDetails) -> str:
    field = str(error["loc"][0]) if error["loc"] else None
    if field is None:
        return "the answer is not a JSON object"
    if field == PLATFORM_CONFIGURATION:
        return f"it has no '{PLATFORM_CONFIGURATION}' object"
    if field in ("token_endpoint_auth_methods_supported", "id_token_signing_alg_values_supported"):
        return str(error["ctx"]["error"])
    return f"'{field}' is missing or not a URL"


def _answer_problem(error: ErrorDetails) -> str:
    field = str(error["loc"][0]) if error["loc"] else None
    if field is None:
        return "the answer is not a JSON object"
    if field == "client_id":
        return "it has no client_id"
    return "its deployment_id is not a string"


@dataclass(frozen=True)
class Registered:
    platform: Platform
    deployment_id: str | None
    created: bool


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
                {"type": RESOURCE_LINK_REQUEST, "target_link_uri": target, "label": CLIENT_NAME},
                {
                    "type": DEEP_LINKING_REQUEST,
                    "target_link_uri": target,
                    "label": "Add a PLC activity",
                    "label#th": "เพิ่มกิจกรรม PLC",
                    "placements": ["ContentArea"],
                    "supported_types": [LTI_RESOURCE_LINK],
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
        answer = _json_answer(response)
    except ValueError as exc:
        raise RegistrationRefused("configuration_malformed", url=url, detail="the answer is not JSON") from exc
    try:
        config = PlatformConfiguration.model_validate(answer, context={"origin": origin})
    except ValidationError as invalid:
        problem = invalid.errors()[0]  # the first in the spec's order
        if problem["type"] == "issuer_mismatch":
            raise RegistrationRefused("issuer_mismatch", issuer=problem["input"], url=url) from invalid
        raise RegistrationRefused(
            "configuration_malformed", url=url, detail=_configuration_problem(problem)
        ) from invalid
    for name, endpoint in config.endpoints().items():
        _check_endpoint(settings, config.issuer, name, endpoint)
    return config


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
    try:
        registration = RegistrationAnswer.model_validate(answer)
    except ValidationError as invalid:
        problem = _answer_problem(invalid.errors()[0])
        raise RegistrationRefused("registration_malformed", url=url, detail=problem) from invalid
    deployment_id = registration.deployment_id
    return registration.client_id[:255], (deployment_id[:255] if deployment_id is not None else None)


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
