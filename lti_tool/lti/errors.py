"""Why a launch is refused: reason codes with a message a district admin can act on, in Thai and English."""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l

# reason code -> (HTTP status, message). Messages may name `{detail}` values given when raising.
REASONS: dict[str, tuple[int, Any]] = {
    "token_missing": (400, _l("The platform sent no id_token. Launch the activity again from the course page.")),
    "token_too_large": (413, _l("The id_token is larger than this tool accepts ({size} bytes).")),
    "token_malformed": (400, _l("The id_token is not a well-formed JWT: {detail}.")),
    "bad_algorithm": (401, _l("The id_token is signed with '{alg}'; LTI 1.3 requires RS256. The launch is refused.")),
    "kid_missing": (401, _l("The id_token does not name its signing key (no 'kid' header).")),
    "unknown_kid": (
        401,
        _l(
            "The platform's key set at {url} has no key '{kid}', even after fetching it again. Check the platform's Public keyset URL."
        ),
    ),
    "platform_keys_unavailable": (
        424,
        _l(
            "The platform's key set at {url} could not be read ({detail}). Check that the platform is up and the Public keyset URL is right."
        ),
    ),
    "bad_signature": (401, _l("The id_token's signature does not verify against the platform's published key.")),
    "token_expired": (
        401,
        _l("The id_token has expired. Check that the platform's clock is right, then launch again."),
    ),
    "issued_in_future": (401, _l("The id_token is dated in the future. Check that the platform's clock is right.")),
    "wrong_audience": (
        401,
        _l("The id_token is addressed to '{aud}', not to this tool's client_id '{client_id}' for this platform."),
    ),
    "bad_azp": (
        401,
        _l("The id_token has several audiences but its 'azp' claim is missing or is not this tool's client_id."),
    ),
    "nonce_used": (
        401,
        _l("This launch was already used (its nonce has been seen). Launch the activity again from the course page."),
    ),
    "nonce_mismatch": (401, _l("The id_token's nonce is not the one this tool issued for this login.")),
    "state_missing": (400, _l("The launch has no 'state'. Launch the activity again from the course page.")),
    "unknown_state": (
        401,
        _l(
            "This tool did not start this login, or it started too long ago. Launch the activity again from the course page."
        ),
    ),
    "state_mismatch": (
        401,
        _l("The launch's state does not match this browser's login. Launch the activity again from the course page."),
    ),
    "unknown_issuer": (
        403,
        _l(
            "The platform '{issuer}' is not registered with this tool. An administrator can add it with: plc-bridge platform add --issuer {issuer} …"
        ),
    ),
    "wrong_issuer": (401, _l("The id_token's issuer is not the platform this login was started for.")),
    "unknown_client": (
        403,
        _l(
            "The platform '{issuer}' has no registration for client_id '{client_id}'. An administrator can add it with: plc-bridge platform add --issuer {issuer} --client-id {client_id} …"
        ),
    ),
    "unknown_deployment": (
        403,
        _l(
            "The deployment '{deployment_id}' of platform '{issuer}' is not registered. An administrator can add it with: plc-bridge platform add --issuer {issuer} --client-id {client_id} --deployment-id {deployment_id}"
        ),
    ),
    "missing_claim": (400, _l("The id_token lacks the required claim '{claim}'.")),
    "unsupported_message_type": (400, _l("This tool does not accept LTI messages of type '{message_type}'.")),
    "unsupported_version": (400, _l("This tool speaks LTI 1.3.0; the platform sent version '{version}'.")),
    "bad_target_link": (400, _l("The launch is for '{target}', which is not an address of this tool.")),
    "no_known_role": (
        403,
        _l(
            "None of your course roles ({roles}) gives access to PLC Bridge. Ask the course's teacher to enrol you as a student or teacher."
        ),
    ),
    "login_missing_param": (
        400,
        _l("The login request lacks '{param}'. Check the platform's Initiate login URL settings."),
    ),
    "deep_link_return_url_missing": (
        400,
        _l(
            "The platform asked to add an activity but did not say where to send it back (no deep_link_return_url). Nothing was added; try again from the course's “Add an activity” menu."
        ),
    ),
    "deep_linking_types_unsupported": (
        400,
        _l(
            "The platform accepts only these kinds of content ({types}); PLC Bridge adds LTI resource links (ltiResourceLink). Nothing was added."
        ),
    ),
    "deep_linking_not_allowed": (
        403,
        _l("Only the course's trainers and administrators may add PLC Bridge activities. Nothing was added."),
    ),
    "platform_storage_failed": (
        401,
        _l(
            "This browser's login could not be confirmed with the platform. Open the activity in a new window and try again."
        ),
    ),
}


class Refusal(Exception):
    """A refused request named by a reason code; `reasons` maps each code to its HTTP status and its message (Thai
    in the catalog, details filled in with str.format)."""

    reasons: ClassVar[dict[str, tuple[int, Any]]] = {}

    def __init__(self, reason: str, **detail: Any) -> None:
        if reason not in self.reasons:
            raise ValueError(f"unknown {type(self).__name__} reason {reason!r}")
        super().__init__(reason)
        self.reason = reason
        self.detail = detail

    @property
    def status(self) -> int:
        return self.reasons[self.reason][0]

    def message(self) -> str:
        """The message in the current locale, with the details filled in."""
        text = str(self.reasons[self.reason][1])
        try:
            return text.format(**self.detail)
        except (KeyError, IndexError):
            return text


class LaunchRejected(Refusal):
    """An OIDC login or launch that fails a check of the LTI 1.3 / 1EdTech security rules."""

    reasons = REASONS

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason
