"""LTI 1.3 OIDC login and resource-link launch, checked step by step as the 1EdTech Security Framework says.

`start_login` answers the platform's third-party-initiated login (LTI 1.3 §5.1.1 / Security §5.1.1.1);
`ToolMessageLaunch` validates the authentication response (Security §5.1.3) on top of pylti1p3's
framework-neutral MessageLaunch: the state signed by the tool at login (`login_state.py`), the nonce spent in the
database, the platform keys cached there. The web layer hands the HTTP request over as an `LtiRequest` of plain
values; `services/launches.py` records what a valid launch says.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from jwt.algorithms import RSAAlgorithm
from pylti1p3.cookie import CookieService
from pylti1p3.exception import LtiException
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.request import Request
from pylti1p3.session import SessionService
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.lti.browser_binding import LaunchBinding, browser_fingerprint, same_browser
from lti_tool.lti.claims import (
    CONTEXT,
    DEEP_LINKING_REQUEST,
    DEEP_LINKING_SETTINGS,
    DEPLOYMENT_ID,
    LTI_RESOURCE_LINK,
    LTI_VERSION,
    MESSAGE_TYPE,
    RESOURCE_LINK,
    RESOURCE_LINK_REQUEST,
    ROLES,
    TARGET_LINK_URI,
    VERSION,
)
from lti_tool.lti.errors import LaunchRejected
from lti_tool.lti.login_state import MAX_STORAGE_TARGET, LoginState, issue_state, new_nonce, read_state
from lti_tool.lti.origin import origin_of
from lti_tool.lti.platform_keys import PlatformKeys
from lti_tool.lti.tool_config import (
    DatabaseToolConf,
    DeploymentRow,
    LoginPlatform,
    find_deployment,
    find_platform,
    launch_platform,
    login_platform,
    registration_for,
)
from lti_tool.settings import Settings
from models.keys import current_key
from models.launch import purge_expired, spend_nonce
from models.platform import Platform
from models.roles import AppRole, app_role_for

log = logging.getLogger(__name__)

ACCEPTED_MESSAGE_TYPES = {RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST}
STATE_COOKIE_PREFIX = "plc-state-"


def launch_url(settings: Settings) -> str:
    # Moodle requires the redirect_uri to equal a registered one exactly: no query string here (FIELD_NOTES).
    return settings.public_base_url + "/lti/launch"


def state_cookie_name(login: LoginState) -> str:
    """The cookie that shows a launch comes from the browser that started its login: named by the login's nonce
    (the state itself is long), its value the same nonce."""
    return STATE_COOKIE_PREFIX + login.nonce


@dataclass(frozen=True)
class LtiRequest:
    """What the protocol reads of an HTTP request to /lti/login or /lti/launch, as plain values: the web layer
    builds it from whatever framework serves the request."""

    form: Mapping[str, str] = field(default_factory=dict)
    args: Mapping[str, str] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict)
    is_secure: bool = False
    client_address: str = ""  # as the web layer trusts it (behind the configured proxies)
    user_agent: str = ""

    def params(self) -> dict[str, str]:
        """The query and form parameters together; a query parameter wins over a form field of the same name."""
        return {**self.form, **self.args}


# --- OIDC login -----------------------------------------------------------------------------------


@dataclass
class LoginRedirect:
    auth_url: str
    login: LoginState
    platform: LoginPlatform


def start_login(db: Session, settings: Settings, request: LtiRequest) -> LoginRedirect:
    """Check a third-party-initiated login and build the authentication request (LTI 1.3 §5.1.1)."""
    params = request.params()  # the login may come as a GET or a POST (LTI 1.3 §5.1.1)
    for required in ("iss", "login_hint", "target_link_uri"):
        if not params.get(required):
            raise LaunchRejected("login_missing_param", param=required)
    issuer, client_id = params["iss"], params.get("client_id") or None
    platform = login_platform(db, issuer, client_id)
    if platform is None:
        if find_platform(db, issuer, None) is None and not _issuer_known(db, issuer):
            raise LaunchRejected("unknown_issuer", issuer=issuer)
        raise LaunchRejected("unknown_client", issuer=issuer, client_id=client_id or "?")
    target = params["target_link_uri"]
    if not _is_ours(settings, target):
        raise LaunchRejected("bad_target_link", target=target)

    storage_target = params.get("lti_storage_target") or None
    if storage_target is not None and len(storage_target) > MAX_STORAGE_TARGET:
        raise LaunchRejected("bad_storage_target", size=len(storage_target), most=MAX_STORAGE_TARGET)
    # Nothing is written: the state carries the login, signed (login_state.py).
    nonce = new_nonce()
    login = issue_state(
        settings,
        platform_id=platform.id,
        client_id=platform.client_id,
        nonce=nonce,
        storage_target=storage_target,
        browser_binding=browser_fingerprint(settings, request.client_address, request.user_agent, nonce),
    )
    auth_params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": launch_url(settings),
        "state": login.state,
        "nonce": login.nonce,
        "login_hint": params["login_hint"],
    }
    if params.get("lti_message_hint"):
        auth_params["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_login_url else "?"
    return LoginRedirect(platform.auth_login_url + separator + urlencode(auth_params), login, platform)


def _issuer_known(db: Session, issuer: str) -> bool:
    return db.scalars(select(Platform.id).where(Platform.issuer == issuer).limit(1)).first() is not None


def _is_ours(settings: Settings, url: str) -> bool:
    base = settings.public_base_url
    return url == base or url.startswith(base + "/")


# --- Launch validation ------------------------------------------------------------------------------


class PlatformStorageCheckNeeded(Exception):
    """The browser sent no state cookie and the platform offered storage: confirm the state there first."""

    def __init__(self, state: str, storage_target: str, platform_origin: str) -> None:
        super().__init__("platform storage check needed")
        self.state = state
        self.storage_target = storage_target
        self.platform_origin = platform_origin


class _PyltiRequest(Request):
    """An LtiRequest as pylti1p3 reads one: a launch's parameters are its form fields (a launch is a form post),
    and its session is a dict nothing keeps: the state is signed by the tool and the nonce spent in the database."""

    def __init__(self, request: LtiRequest) -> None:
        self._lti_request = request
        self._session: dict[str, Any] = {}

    @property
    def session(self) -> dict[str, Any]:
        return self._session

    def get_param(self, key: str) -> str | None:  # type: ignore[override]
        return self._lti_request.form.get(key)

    def get_cookie(self, key: str) -> str | None:
        return self._lti_request.cookies.get(key)

    def is_secure(self) -> bool:
        return self._lti_request.is_secure


class _RequestCookies(CookieService):
    """pylti1p3's cookie service over the request's cookies. The web layer sets the tool's own state cookie; a
    cookie pylti1p3 asks to set (it asks for none during a launch) is only kept in `to_set`, never sent."""

    def __init__(self, request: _PyltiRequest) -> None:
        self._request = request
        self.to_set: dict[str, tuple[str | int, int | None]] = {}

    def _key(self, name: str) -> str:
        return self._cookie_prefix + "-" + name

    def get_cookie(self, name: str) -> str | None:
        return self._request.get_cookie(self._key(name))

    def set_cookie(self, name: str, value: str | int, exp: int | None = 3600) -> None:
        self.to_set[self._key(name)] = (value, exp)


class ToolMessageLaunch(MessageLaunch):  # type: ignore[type-arg]
    """pylti1p3's MessageLaunch with the tool's signed state, the database as the nonce and key store, and stricter
    checks.

    The order follows the Security Framework: the signature and the claims it protects are checked before
    the nonce is spent, so a forged or broken token changes nothing in the database.
    """

    def __init__(self, db: Session, settings: Settings, request: LtiRequest, http: requests.Session) -> None:
        pylti_request = _PyltiRequest(request)
        super().__init__(
            pylti_request,
            DatabaseToolConf(db),
            session_service=SessionService(pylti_request),
            cookie_service=_RequestCookies(pylti_request),
            requests_session=http,
        )
        self.set_auto_validation(enable=False)
        self.db = db
        self.settings = settings
        self.request = request
        self.form = request.form
        self.cookies = request.cookies
        self.http = http
        self.login: LoginState | None = None
        self.platform: Platform | None = None  # once the token's issuer and audience match it
        self._login_platform: Platform | None = None  # the platform the state names
        self.cookie_verified = False
        self.binding: LaunchBinding | None = None
        self.deployment: DeploymentRow | None = None

    def _get_request_param(self, key: str) -> str:
        return self._request.get_param(key)  # type: ignore[no-any-return]

    # pylti1p3 asks for the client id in several places; ours is the matched registration's, not aud[0].
    def get_client_id(self) -> str:
        assert self.platform is not None
        return self.platform.client_id

    def body(self) -> dict[str, Any]:
        return dict(self._jwt.get("body", {}))

    def validate(self) -> ToolMessageLaunch:
        self._validated = True
        try:
            self.validate_state()
            self.validate_jwt_format()
            self.validate_registration()
            self.validate_jwt_signature()
            self.validate_deployment()
            self.validate_message()
            self.validate_nonce()
        except Exception:
            self._validated = False
            raise
        return self

    def validate_state(self) -> ToolMessageLaunch:
        """Security §5.1.1.2 and §7.3.1: the state must be one we issued, to the browser that now posts it."""
        state = self.form.get("state")
        if not state:
            raise LaunchRejected("state_missing")
        login = read_state(self.settings, state)  # signed by the tool, within its time, or None
        if login is None:
            raise LaunchRejected("unknown_state")
        # The login's registration with its cached keys, by one statement; one removed since, or whose row's id another
        # registration has taken with another client id: an unknown state (the same client id under another issuer is
        # refused by the issuer check).
        platform = launch_platform(self.db, login.platform_id)
        if platform is None or platform.client_id != login.client_id:
            raise LaunchRejected("unknown_state")
        self.login = login
        self._login_platform = platform
        if self.cookies.get(state_cookie_name(login)) == login.nonce:
            self.cookie_verified = True
            self.binding = "cookie"
            return self
        if any(name.startswith(STATE_COOKIE_PREFIX) for name in self.cookies):
            # This browser started other logins but not this one: someone else's launch (login CSRF).
            raise LaunchRejected("state_mismatch")
        # No state cookie came back (a cross-site iframe of a browser that keeps none).
        if self.settings.require_browser_binding and not login.storage_target:
            raise LaunchRejected("browser_binding_required")
        # The fingerprint is checked before the platform-storage round trip: that check runs in the browser, and a
        # page that posts the launch can claim it passed; it cannot send another browser's address and user agent.
        request = self.request
        if not same_browser(
            self.settings, login.browser_binding, request.client_address, request.user_agent, login.nonce
        ):
            raise LaunchRejected("browser_mismatch")
        if login.storage_target:
            if self.form.get("lti_storage_verified") != "1":
                platform_origin = origin_of(platform.auth_login_url) or ""
                raise PlatformStorageCheckNeeded(state, login.storage_target, platform_origin)
            self.binding = "platform_storage"
        else:
            self.binding = "browser" if login.browser_binding is not None else "nonce"
        # Whatever bound it, the state is also bound to this login's nonce, checked in validate_nonce.
        return self

    def validate_jwt_format(self) -> ToolMessageLaunch:
        token = self.form.get("id_token")
        if not token:
            raise LaunchRejected("token_missing")
        if len(token) > self.settings.max_id_token_bytes:
            raise LaunchRejected("token_too_large", size=len(token))
        try:
            super().validate_jwt_format()
        except LtiException as exc:
            raise LaunchRejected("token_malformed", detail=str(exc)) from exc
        if not isinstance(self._jwt.get("header"), dict) or not isinstance(self._jwt.get("body"), dict):
            raise LaunchRejected("token_malformed", detail="the header and body must be JSON objects")
        return self

    def validate_registration(self) -> ToolMessageLaunch:
        assert self.login is not None
        body = self.body()
        issuer = body.get("iss")
        if not issuer or not isinstance(issuer, str):
            raise LaunchRejected("missing_claim", claim="iss")
        platform = self._login_platform  # read with the state
        assert platform is not None
        if issuer != platform.issuer:
            # Another registration's issuer, or none we know: the database tells which refusal it is.
            if _issuer_known(self.db, issuer):
                raise LaunchRejected("wrong_issuer")
            raise LaunchRejected("unknown_issuer", issuer=issuer)
        audiences = body.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else audiences
        if not audiences or not isinstance(audiences, list):
            raise LaunchRejected("missing_claim", claim="aud")
        if platform.client_id not in audiences:
            raise LaunchRejected("wrong_audience", aud=", ".join(map(str, audiences)), client_id=platform.client_id)
        azp = body.get("azp")
        # Security §5.1.3 steps 4-5: with several audiences azp must be present; when present it must be us.
        if (len(audiences) > 1 and azp is None) or (azp is not None and azp != platform.client_id):
            raise LaunchRejected("bad_azp")
        self.platform = platform
        # pylti1p3's registration; the tool's own key is read only if pylti1p3 asks for it (a launch never does).
        self._registration = registration_for(platform, lambda: current_key(self.db))
        return self

    def validate_jwt_signature(self) -> ToolMessageLaunch:
        assert self.platform is not None
        header = self._jwt["header"]
        algorithm = header.get("alg")
        # Security §5.1.3 step 6 and §5.4: RS256 only; "none" and HMAC with the public key are refused here.
        if algorithm != "RS256":
            raise LaunchRejected("bad_algorithm", alg=str(algorithm))
        kid = header.get("kid")
        if not kid or not isinstance(kid, str):
            raise LaunchRejected("kid_missing")
        jwk = PlatformKeys(self.platform, self.settings, self.http).key_for(kid)
        try:
            public_key = _rsa_public_key(json.dumps(jwk, sort_keys=True))
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise LaunchRejected(
                "platform_keys_unavailable", url=self.platform.key_set_url, detail="a key is not a valid RSA JWK"
            ) from exc
        try:
            jwt.decode(
                self.form["id_token"],
                public_key,
                algorithms=["RS256"],
                audience=self.platform.client_id,
                issuer=self.platform.issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "nonce"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise LaunchRejected("token_expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise LaunchRejected("issued_in_future") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise LaunchRejected("missing_claim", claim=exc.claim) from exc
        except jwt.InvalidAudienceError as exc:
            raise LaunchRejected(
                "wrong_audience", aud=str(self.body().get("aud")), client_id=self.platform.client_id
            ) from exc
        except jwt.InvalidIssuerError as exc:
            raise LaunchRejected("wrong_issuer") from exc
        except jwt.InvalidSignatureError as exc:
            raise LaunchRejected("bad_signature") from exc
        except jwt.InvalidTokenError as exc:
            raise LaunchRejected("token_malformed", detail=str(exc)) from exc
        return self

    def validate_deployment(self) -> ToolMessageLaunch:
        assert self.platform is not None
        deployment_id = self.body().get(DEPLOYMENT_ID)
        if not deployment_id or not isinstance(deployment_id, str):
            raise LaunchRejected("missing_claim", claim=DEPLOYMENT_ID)
        self.deployment = find_deployment(self.db, self.platform, deployment_id)
        if self.deployment is None:
            raise LaunchRejected(
                "unknown_deployment",
                issuer=self.platform.issuer,
                client_id=self.platform.client_id,
                deployment_id=deployment_id,
            )
        return self

    def validate_message(self) -> ToolMessageLaunch:
        body = self.body()
        message_type = body.get(MESSAGE_TYPE)
        if not message_type:
            raise LaunchRejected("missing_claim", claim=MESSAGE_TYPE)
        if message_type not in ACCEPTED_MESSAGE_TYPES:
            raise LaunchRejected("unsupported_message_type", message_type=str(message_type))
        version = body.get(VERSION)
        if not version:
            raise LaunchRejected("missing_claim", claim=VERSION)
        if version != LTI_VERSION:
            raise LaunchRejected("unsupported_version", version=str(version))
        if not body.get("sub") or not isinstance(body.get("sub"), str):
            # Anonymous launches are allowed by LTI, but PLC work belongs to a person.
            raise LaunchRejected("missing_claim", claim="sub")
        if not isinstance(body.get(ROLES), list):
            raise LaunchRejected("missing_claim", claim=ROLES)
        if message_type == RESOURCE_LINK_REQUEST and (
            not isinstance(body.get(RESOURCE_LINK), dict) or not body[RESOURCE_LINK].get("id")
        ):
            raise LaunchRejected("missing_claim", claim=RESOURCE_LINK + ".id")
        if message_type == DEEP_LINKING_REQUEST:
            _validate_deep_linking_settings(body)
        if not isinstance(body.get(CONTEXT), dict) or not body[CONTEXT].get("id"):
            raise LaunchRejected("missing_claim", claim=CONTEXT + ".id")
        target = body.get(TARGET_LINK_URI)
        if not target:
            raise LaunchRejected("missing_claim", claim=TARGET_LINK_URI)
        if not _is_ours(self.settings, str(target)):
            raise LaunchRejected("bad_target_link", target=str(target))
        try:
            super().validate_message()  # pylti1p3's own message validators, as a second reader of the spec
        except LtiException as exc:
            raise LaunchRejected("token_malformed", detail=str(exc)) from exc
        app_role = app_role_for(body[ROLES])
        if app_role is None:
            raise LaunchRejected("no_known_role", roles=", ".join(map(str, body[ROLES])) or "-")
        if message_type == DEEP_LINKING_REQUEST and app_role is AppRole.TEACHER:
            raise LaunchRejected("deep_linking_not_allowed")
        return self

    @property
    def is_deep_linking(self) -> bool:
        return bool(self.body().get(MESSAGE_TYPE) == DEEP_LINKING_REQUEST)

    def validate_nonce(self) -> ToolMessageLaunch:
        assert self.login is not None
        if self.body().get("nonce") != self.login.nonce:
            raise LaunchRejected("nonce_mismatch")
        if secrets.randbelow(50) == 0:
            purge_expired(self.db)  # now and then, the nonces an hour past their states and the retired logins
        if not spend_nonce(self.db, self.login.nonce, self.login.platform_id, self.login.expires_at(self.settings)):
            raise LaunchRejected("nonce_used")
        return self


@lru_cache(maxsize=64)
def _rsa_public_key(jwk_json: str) -> Any:
    """A platform's RSA key parsed from its JWK, once per process for the same JWK (the text is the cache key, so a
    rotated or changed key is parsed anew)."""
    return RSAAlgorithm.from_jwk(jwk_json)


def _validate_deep_linking_settings(body: Mapping[str, Any]) -> None:
    """LTI Deep Linking 2.0 §4.4: the settings claim with a return URL, and ltiResourceLink among accept_types."""
    settings_claim = body.get(DEEP_LINKING_SETTINGS)
    if not isinstance(settings_claim, dict):
        raise LaunchRejected("missing_claim", claim=DEEP_LINKING_SETTINGS)
    return_url = settings_claim.get("deep_link_return_url")
    if not isinstance(return_url, str) or urlsplit(return_url).scheme not in ("http", "https"):
        raise LaunchRejected("deep_link_return_url_missing")
    accept_types = settings_claim.get("accept_types")
    if not isinstance(accept_types, list) or LTI_RESOURCE_LINK not in accept_types:
        raise LaunchRejected("deep_linking_types_unsupported", types=", ".join(map(str, accept_types or [])) or "-")
