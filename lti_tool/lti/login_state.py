"""An OIDC login's state, signed by the tool instead of stored (LTI 1.3 §5.1.1, Security §5.1.1.2 and §7.3.1).

The state the tool sends the platform at login carries what the launch needs to check it: the registration the login
was for (platform row and client id), the nonce the id_token must carry, the platform storage it offered, and the
fingerprint of the browser that started it. The tool signs it with its secret key, for its own launch address, with a
time stamp (itsdangerous); a state the tool did not sign, or signed for another address, or longer ago than
`login_request_ttl_seconds`, is refused like an unknown one. Nothing is written at login: the launch spends the nonce
once (`models/launch.py` `spend_nonce`), and that is the only row a login leaves.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from lti_tool.settings import Settings

MAX_STORAGE_TARGET = 255  # a frame name (LTI Client Side postMessages); "_parent" in practice


@dataclass(frozen=True)
class LoginState:
    """What a login's signed state says, and the state itself (`state`, as sent and posted back)."""

    state: str
    platform_id: int
    client_id: str
    nonce: str
    storage_target: str | None
    browser_binding: str | None
    issued_at: datetime

    def expires_at(self, settings: Settings) -> datetime:
        return self.issued_at + timedelta(seconds=settings.login_request_ttl_seconds)


def new_nonce() -> str:
    return secrets.token_urlsafe(32)


def issue_state(
    settings: Settings,
    platform_id: int,
    client_id: str,
    nonce: str,
    storage_target: str | None,
    browser_binding: str | None,
) -> LoginState:
    """A new login's state, signed now."""
    state = _serializer(settings.secret_key, settings.public_base_url).dumps(
        [platform_id, client_id, nonce, storage_target, browser_binding]
    )
    found = read_state(settings, state)  # the time it was signed, as a launch will read it
    assert found is not None  # just signed with the same key
    return found


def read_state(settings: Settings, state: str) -> LoginState | None:
    """The login this state names, if the tool signed it for its own launch address and its time is not up; None
    otherwise. A state signed up to `jwt_leeway_seconds` in the future is taken (another host's clock ahead)."""
    try:
        payload, signed_at = _serializer(settings.secret_key, settings.public_base_url).loads(
            state, return_timestamp=True
        )
    except BadSignature:  # a state we did not sign, or changed
        return None
    age = time.time() - signed_at.timestamp()
    if not -settings.jwt_leeway_seconds <= age <= settings.login_request_ttl_seconds or not _well_formed(payload):
        return None
    platform_id, client_id, nonce, storage_target, browser_binding = payload
    return LoginState(state, platform_id, client_id, nonce, storage_target, browser_binding, signed_at)


def _well_formed(payload: Any) -> bool:
    """The shape `issue_state` signs: [platform id, client id, nonce, storage target or None, fingerprint or None]."""
    if not isinstance(payload, list) or len(payload) != 5:
        return False
    platform_id, client_id, nonce, storage_target, browser_binding = payload
    return (
        type(platform_id) is int  # not a bool
        and 0 < platform_id < 2**31
        and isinstance(client_id, str)
        and isinstance(nonce, str)
        and bool(nonce)
        and (storage_target is None or isinstance(storage_target, str))
        and (browser_binding is None or isinstance(browser_binding, str))
    )


def state_salt(public_base_url: str) -> str:
    """The signature's salt: a state signed for one launch address (one tool) is not another's, even under one key
    (a staging copy restored from production, say)."""
    return "plc-lti-login-state " + public_base_url


@lru_cache(maxsize=8)
def _serializer(secret_key: str, public_base_url: str) -> URLSafeTimedSerializer:
    """One serializer per key and address, built once (a test runs tools with different keys in one process)."""
    return URLSafeTimedSerializer(secret_key, salt=state_salt(public_base_url))
