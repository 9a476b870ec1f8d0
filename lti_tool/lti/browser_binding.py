"""What ties an LTI launch to the browser that started its login when no state cookie comes back (Security §7.3.1:
the state must be bound to the user agent): a keyed fingerprint of what the browser sends with every request."""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from lti_tool.settings import Settings

LaunchBinding = Literal["cookie", "platform_storage", "browser", "nonce"]
"""What ties a launch to the browser that started its login: the state cookie came back; the platform's storage
held the state (checked by the tool's page in the browser, so the fingerprint is checked too); the fingerprint of
what the browser sent at login and at launch; or, where the settings allow, nothing but the login's one-time nonce."""


def browser_fingerprint(settings: Settings, client_address: str, user_agent: str, nonce: str) -> str | None:
    """A keyed hash of the browser's address and user agent (PLC_LAUNCH_FINGERPRINT says which of them) and the
    login's nonce: carried in the login's signed state, compared at a launch that no cookie binds. With the nonce in
    it, the same browser's logins carry different values (the state passes through the platform's logs). None when
    the tool is set to keep none ("off")."""
    if settings.launch_fingerprint == "off":
        return None
    parts = [user_agent] if settings.launch_fingerprint == "agent" else [client_address, user_agent]
    message = "\n".join(["plc-launch-browser", settings.launch_fingerprint, nonce, *parts])
    return hmac.new(settings.secret_key.encode(), message.encode(), hashlib.sha256).hexdigest()


def same_browser(settings: Settings, at_login: str | None, client_address: str, user_agent: str, nonce: str) -> bool:
    """Does the launch come from the browser whose fingerprint the login kept (`at_login`; None: none was kept)?"""
    if at_login is None:
        return True
    now = browser_fingerprint(settings, client_address, user_agent, nonce)
    return now is not None and hmac.compare_digest(at_login, now)
