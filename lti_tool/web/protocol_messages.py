"""What the tool says when the LTI protocol refuses: the HTTP status and the message (Thai in the catalog) of every
launch and registration refusal the protocol code raises with a reason code; `message_for` and `status_for` look a
code up. Messages name their details as `{name}` (str.format), filled in from the refusal's details; a detail the
message does not name is left out, and a message whose details are missing is shown as written."""

from __future__ import annotations

from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString


class Message(NamedTuple):
    status: int  # the HTTP status of a page that refuses with this message
    text: LazyString


# --- LTI login and launch (lti_tool.lti.errors.LaunchRejected) -------------------------------------------------

LAUNCH: dict[str, Message] = {
    "token_missing": Message(400, _l("The platform sent no id_token. Launch the activity again from the course page.")),
    "token_too_large": Message(413, _l("The id_token is larger than this tool accepts ({size} bytes).")),
    "token_malformed": Message(400, _l("The id_token is not a well-formed JWT: {detail}.")),
    "bad_algorithm": Message(
        401, _l("The id_token is signed with '{alg}'; LTI 1.3 requires RS256. The launch is refused.")
    ),
    "kid_missing": Message(401, _l("The id_token does not name its signing key (no 'kid' header).")),
    "unknown_kid": Message(
        401,
        _l(
            "The platform's key set at {url} has no key '{kid}', even after fetching it again. Check the platform's Public keyset URL."
        ),
    ),
    "platform_keys_unavailable": Message(
        424,
        _l(
            "The platform's key set at {url} could not be read ({detail}). Check that the platform is up and the Public keyset URL is right."
        ),
    ),
    "bad_signature": Message(401, _l("The id_token's signature does not verify against the platform's published key.")),
    "token_expired": Message(
        401,
        _l("The id_token has expired. Check that the platform's clock is right, then launch again."),
    ),
    "issued_in_future": Message(
        401, _l("The id_token is dated in the future. Check that the platform's clock is right.")
    ),
    "wrong_audience": Message(
        401,
        _l("The id_token is addressed to '{aud}', not to this tool's client_id '{client_id}' for this platform."),
    ),
    "bad_azp": Message(
        401,
        _l("The id_token has several audiences but its 'azp' claim is missing or is not this tool's client_id."),
    ),
    "nonce_used": Message(
        401,
        _l("This launch was already used (its nonce has been seen). Launch the activity again from the course page."),
    ),
    "nonce_mismatch": Message(401, _l("The id_token's nonce is not the one this tool issued for this login.")),
    "state_missing": Message(400, _l("The launch has no 'state'. Launch the activity again from the course page.")),
    "unknown_state": Message(
        401,
        _l(
            "This tool did not start this login, or it started too long ago. Launch the activity again from the course page."
        ),
    ),
    "state_mismatch": Message(
        401,
        _l("The launch's state does not match this browser's login. Launch the activity again from the course page."),
    ),
    "browser_mismatch": Message(
        401,
        _l(
            "This launch did not come from the browser that started the login (its address or browser changed in between). Launch the activity again from the course page. If this happens every time, ask the tool's administrator: your network may send requests out through several addresses."
        ),
    ),
    "browser_binding_required": Message(
        401,
        _l(
            "This browser keeps no cookie of the tool's inside the course page, and the platform offers no other way to confirm the login, so this tool refuses the launch. Open the activity in a new window, or use a browser that keeps the tool's cookies inside the course page."
        ),
    ),
    "unknown_issuer": Message(
        403,
        _l(
            "The platform '{issuer}' is not registered with this tool. An administrator can add it with: plc-bridge platform add --issuer {issuer} …"
        ),
    ),
    "wrong_issuer": Message(401, _l("The id_token's issuer is not the platform this login was started for.")),
    "unknown_client": Message(
        403,
        _l(
            "The platform '{issuer}' has no registration for client_id '{client_id}'. An administrator can add it with: plc-bridge platform add --issuer {issuer} --client-id {client_id} …"
        ),
    ),
    "unknown_deployment": Message(
        403,
        _l(
            "The deployment '{deployment_id}' of platform '{issuer}' is not registered. An administrator can add it with: plc-bridge platform add --issuer {issuer} --client-id {client_id} --deployment-id {deployment_id}"
        ),
    ),
    "missing_claim": Message(400, _l("The id_token lacks the required claim '{claim}'.")),
    "unsupported_message_type": Message(400, _l("This tool does not accept LTI messages of type '{message_type}'.")),
    "unsupported_version": Message(400, _l("This tool speaks LTI 1.3.0; the platform sent version '{version}'.")),
    "bad_target_link": Message(400, _l("The launch is for '{target}', which is not an address of this tool.")),
    "no_known_role": Message(
        403,
        _l(
            "None of your course roles ({roles}) gives access to PLC Bridge. Ask the course's teacher to enrol you as a student or teacher."
        ),
    ),
    "login_missing_param": Message(
        400,
        _l("The login request lacks '{param}'. Check the platform's Initiate login URL settings."),
    ),
    "bad_storage_target": Message(
        400,
        _l("The login names a platform storage frame of {size} characters; at most {most} are accepted."),
    ),
    "deep_link_return_url_missing": Message(
        400,
        _l(
            "The platform asked to add an activity but did not say where to send it back (no deep_link_return_url). Nothing was added; try again from the course's “Add an activity” menu."
        ),
    ),
    "deep_linking_types_unsupported": Message(
        400,
        _l(
            "The platform accepts only these kinds of content ({types}); PLC Bridge adds LTI resource links (ltiResourceLink). Nothing was added."
        ),
    ),
    "deep_linking_not_allowed": Message(
        403,
        _l("Only the course's trainers and administrators may add PLC Bridge activities. Nothing was added."),
    ),
    "platform_storage_failed": Message(
        401,
        _l(
            "This browser's login could not be confirmed with the platform. Open the activity in a new window and try again."
        ),
    ),
}

# --- LTI Dynamic Registration (lti_tool.lti.errors.RegistrationRefused) ---------------------------------------

REGISTRATION: dict[str, Message] = {
    "missing_configuration_url": Message(
        400,
        _l(
            "The platform did not say where its OpenID configuration is (no 'openid_configuration'). Start the registration again from the platform, e.g. Moodle's “Add LTI Advantage”."
        ),
    ),
    "bad_configuration_url": Message(
        400,
        _l("The OpenID configuration address '{url}' is not an http(s) address this tool may fetch."),
    ),
    "configuration_unavailable": Message(
        502,
        _l(
            "The platform's OpenID configuration at {url} could not be read ({detail}). Check that the platform is up, then start the registration again."
        ),
    ),
    "configuration_malformed": Message(
        502,
        _l("The platform's OpenID configuration at {url} is not usable: {detail}. Nothing was registered."),
    ),
    "issuer_mismatch": Message(
        400,
        _l(
            "The platform's configuration names the issuer '{issuer}', which does not belong to the address it came from ({url}). Nothing was registered."
        ),
    ),
    "issuer_not_allowed": Message(
        403,
        _l(
            "This PLC Bridge does not accept registrations from '{issuer}'. Its operator can allow it with the setting PLC_REGISTRATION_ALLOWED_ISSUERS. Nothing was registered."
        ),
    ),
    "endpoint_not_allowed": Message(
        400,
        _l(
            "The platform's configuration names '{endpoint}' as its {name}, which is not on the issuer's own address ({issuer}) or not https. The tool calls only the platform itself. Nothing was registered."
        ),
    ),
    "redirected": Message(
        502,
        _l(
            "The platform answered {url} with a redirect (HTTP {status}); the tool follows no redirects during registration. Give the platform's own address and start the registration again. Nothing was registered."
        ),
    ),
    "registration_failed": Message(
        502,
        _l(
            "The platform's registration endpoint {url} refused or failed the registration ({detail}). Nothing was registered; start the registration again from the platform."
        ),
    ),
    "registration_malformed": Message(
        502,
        _l(
            "The platform's registration endpoint {url} answered, but not with a usable registration: {detail}. Nothing was registered."
        ),
    ),
}

SECTIONS: tuple[dict[str, Message], ...] = (LAUNCH, REGISTRATION)
# A code means one thing in the whole tool (tests/test_refusal_messages.py checks that no two sections share one).
MESSAGES: dict[str, Message] = {code: message for section in SECTIONS for code, message in section.items()}


def status_for(code: str) -> int:
    """The HTTP status of a refusal with this code (400 for a code that has no message)."""
    message = MESSAGES.get(code)
    return message.status if message is not None else 400


def message_for(code: str, **params: object) -> str:
    """The message for a reason code in the current locale, its details filled in; the code itself if unknown."""
    message = MESSAGES.get(code)
    if message is None:
        return code
    text = str(message.text)
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text
