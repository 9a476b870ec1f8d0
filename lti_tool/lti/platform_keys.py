"""A platform's public keys for checking its id_tokens (Security §6.3): its JWKS, cached on the platform row and
fetched again once when a token names a key the cache does not hold."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import requests

from lti_tool.lti.errors import LaunchRejected
from lti_tool.settings import Settings
from models.base import utcnow
from models.platform import Platform

JWKS_MAX_BYTES = 256 * 1024


class PlatformKeys:
    """The platform's JWKS, cached on the platform row and fetched again once when a `kid` is missing."""

    def __init__(self, platform: Platform, settings: Settings, http: requests.Session) -> None:
        self.platform = platform
        self.settings = settings
        self.http = http
        self.fetched_now = False

    def _fresh(self) -> bool:
        fetched = self.platform.key_set_fetched_at
        max_age = timedelta(seconds=self.settings.platform_jwks_cache_seconds)
        return bool(self.platform.key_set_cache) and fetched is not None and utcnow() - fetched < max_age

    def _fetch(self) -> dict[str, Any]:
        url = self.platform.key_set_url
        try:
            response = self.http.get(url, timeout=5, headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise LaunchRejected("platform_keys_unavailable", url=url, detail=type(exc).__name__) from exc
        if response.status_code != 200:
            raise LaunchRejected("platform_keys_unavailable", url=url, detail=f"HTTP {response.status_code}")
        if len(response.content) > JWKS_MAX_BYTES:
            raise LaunchRejected("platform_keys_unavailable", url=url, detail="the key set is too large")
        try:
            key_set = response.json()
        except ValueError as exc:
            raise LaunchRejected("platform_keys_unavailable", url=url, detail="the answer is not JSON") from exc
        if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
            raise LaunchRejected("platform_keys_unavailable", url=url, detail="the answer has no 'keys' list")
        self.platform.key_set_cache = key_set
        self.platform.key_set_fetched_at = utcnow()
        self.fetched_now = True
        return key_set

    def key_for(self, kid: str) -> dict[str, Any]:
        key_set = self.platform.key_set_cache if self._fresh() else self._fetch()
        found = _find_jwk(key_set, kid)
        if found is None and not self.fetched_now:
            # An unknown kid may mean the platform rotated its keys: fetch once more, never more (Security §6.3).
            found = _find_jwk(self._fetch(), kid)
        if found is None:
            raise LaunchRejected("unknown_kid", url=self.platform.key_set_url, kid=kid)
        return found


def _find_jwk(key_set: Mapping[str, Any] | None, kid: str) -> dict[str, Any] | None:
    for key in (key_set or {}).get("keys", []):
        if isinstance(key, dict) and key.get("kid") == kid and key.get("kty") == "RSA":
            return key
    return None
