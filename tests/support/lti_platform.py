"""The Moodle-like LTI 1.3 platform of lti_tool/demo_lms/moodle_like.py (see there how to start and launch from it),
with hooks for the tool's negative tests: forged or defective id_tokens, a wrong state, a broken JWKS endpoint, key
rotation, and services that fail on demand (platform_services.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any, ClassVar

import jwt
from flask import Response, jsonify
from lti1p3platform.message_launch import LaunchData

from lti_tool.demo_lms.auto_form import submit_auto_form
from lti_tool.demo_lms.lti_platform import PlatformKey
from lti_tool.demo_lms.moodle_like import LaunchUser, MoodleLikePlatform, QuietHandler
from lti_tool.demo_lms.moodle_like_services import AdvantageServices
from lti_tool.lti.claims import LTI_CLAIM as LTI
from tests.support.platform_services import PlatformServices

__all__ = ["LTI", "LaunchUser", "QuietHandler", "TestPlatform", "TokenHook", "submit_auto_form"]

TokenHook = Callable[[dict[str, Any], dict[str, Any]], str]
"""Called with the launch's (claims, JWT header), both fully built; returns the id_token to post instead."""


class TestPlatform(MoodleLikePlatform):
    """The Moodle-like platform with the tests' hooks; `services` is a PlatformServices with fault switches."""

    __test__ = False  # not a pytest test class
    services_class: ClassVar[type[AdvantageServices]] = PlatformServices
    services: PlatformServices

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.other_private_key_pem: str = PlatformKey.generate().private_pem  # a key that no JWKS publishes
        # token_hook and form_state_override are used by one launch, then reset.
        self.token_hook: TokenHook | None = None
        self.form_state_override: str | None = None
        self.jwks_mode: str = "ok"  # "ok" | "down" (503) | "garbage" (200, not JSON) | "empty" ({"keys": []})
        self.jwks_fetch_count = 0

    # --- test hooks -------------------------------------------------------------------------------------

    def rotate_key(self, keep_old_in_jwks: bool = True) -> str:
        """Sign with a new key from now on; returns its kid. The old key stays in the JWKS if asked."""
        new = PlatformKey.generate()
        with self._lock:
            self._published = [new, *self._published] if keep_old_in_jwks else [new]
            self.key = new
        return new.kid

    def set_token_hook(self, hook: TokenHook | None) -> None:
        self.token_hook = hook

    def sign(
        self,
        claims: dict[str, Any],
        headers: dict[str, Any] | None = None,
        key: str | None = None,
        algorithm: str = "RS256",
    ) -> str:
        """Encode `claims` as a JWT; the header is `headers` (default: the current kid) with alg=`algorithm`.

        RS*/PS*: `key` is a private PEM, by default the platform's current key.
        HS*: `key` is the HMAC secret, by default the platform's public PEM (the RS256/HS256 confusion attack);
        built by hand because PyJWT refuses a PEM as an HMAC secret. "none": no signature."""
        header = {"typ": "JWT", **(headers if headers is not None else {"kid": self.kid}), "alg": algorithm}
        if algorithm.startswith("HS") or algorithm.lower() == "none":
            signing_input = _b64url(_json(header)) + "." + _b64url(_json(claims))
            if algorithm.lower() == "none":
                return signing_input + "."
            secret = (key if key is not None else self.public_key_pem).encode()
            digest = getattr(hashlib, "sha" + algorithm[2:])
            return signing_input + "." + _b64url(hmac.new(secret, signing_input.encode(), digest).digest())
        signing_key: Any = key if key is not None else self.signing_key
        return jwt.encode(claims, signing_key, algorithm=algorithm, headers=header)

    def _take_launch_overrides(self) -> tuple[TokenHook | None, str | None]:
        with self._lock:
            hook, self.token_hook = self.token_hook, None
            state, self.form_state_override = self.form_state_override, None
        return hook, state

    def _launch_answer(self, claims: dict[str, Any], state: str, sign: Callable[[dict[str, Any]], str]) -> LaunchData:
        self.last_launch_claims = dict(claims)
        hook, state_override = self._take_launch_overrides()
        if hook is not None:
            id_token = hook(dict(claims), {"alg": "RS256", "typ": "JWT", "kid": self.kid})
        else:
            id_token = sign(claims)  # iat/exp already set
        return {"state": state if state_override is None else state_override, "id_token": id_token}

    def _jwks_response(self) -> Response:
        with self._lock:
            self.jwks_fetch_count += 1
        if self.jwks_mode == "down":
            return Response("unavailable", status=503, mimetype="text/plain")
        if self.jwks_mode == "garbage":
            return Response("<html>not json</html>", status=200, mimetype="text/html")
        if self.jwks_mode == "empty":
            return jsonify({"keys": []})
        return super()._jwks_response()


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
