"""Why a login, launch or registration is refused: a reason code and the details it names.

The protocol code says only what went wrong; the web layer (lti_tool/web/messages.py) turns each code into an HTTP
status and a message a district admin can act on, in Thai and English.
"""

from __future__ import annotations

from typing import ClassVar, Literal, get_args

LaunchReason = Literal[
    "token_missing",
    "token_too_large",
    "token_malformed",
    "bad_algorithm",
    "kid_missing",
    "unknown_kid",
    "platform_keys_unavailable",
    "bad_signature",
    "token_expired",
    "issued_in_future",
    "wrong_audience",
    "bad_azp",
    "nonce_used",
    "nonce_mismatch",
    "state_missing",
    "unknown_state",
    "state_mismatch",
    "browser_mismatch",
    "browser_binding_required",
    "unknown_issuer",
    "wrong_issuer",
    "unknown_client",
    "unknown_deployment",
    "missing_claim",
    "unsupported_message_type",
    "unsupported_version",
    "bad_target_link",
    "no_known_role",
    "login_missing_param",
    "bad_storage_target",
    "deep_link_return_url_missing",
    "deep_linking_types_unsupported",
    "deep_linking_not_allowed",
    "platform_storage_failed",
]

RegistrationReason = Literal[
    "missing_configuration_url",
    "bad_configuration_url",
    "configuration_unavailable",
    "configuration_malformed",
    "issuer_mismatch",
    "issuer_not_allowed",
    "endpoint_not_allowed",
    "redirected",
    "registration_failed",
    "registration_malformed",
]


class Refusal(Exception):
    """A refused request named by a reason code from `reasons`, with the details its message names."""

    reasons: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, reason: str, **detail: object) -> None:
        if reason not in self.reasons:
            raise ValueError(f"unknown {type(self).__name__} reason {reason!r}")
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class LaunchRejected(Refusal):
    """An OIDC login or launch that fails a check of the LTI 1.3 / 1EdTech security rules."""

    reasons = frozenset(get_args(LaunchReason))

    def __init__(self, reason: LaunchReason, **detail: object) -> None:
        super().__init__(reason, **detail)

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


class RegistrationRefused(Refusal):
    """A dynamic registration that cannot go ahead; nothing has been stored."""

    reasons = frozenset(get_args(RegistrationReason))

    def __init__(self, reason: RegistrationReason, **detail: object) -> None:
        super().__init__(reason, **detail)
