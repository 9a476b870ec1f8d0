"""The platform side of LTI 1.3 on the independent `lti1p3platform`, shared by the demo LMS at /demo and the
Moodle-like platform of the tests and benchmarks (moodle_like.py).

lti1p3platform does the platform's LTI work (the registration, the login initiation URL, the check of the tool's
authentication request, the launch message and its signature, the access tokens of the client-credentials grant)
and ships Django and FastAPI adapters only. This module is its Flask side, the platform's key, the token endpoint's
answers, and what the AGS and NRPS services of both platforms check and send.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Response, jsonify
from jwcrypto.jwk import JWK
from lti1p3platform.exceptions import (
    InvalidKeySetUrl,
    LtiDeepLinkingResponseException,
    LtiException,
    MissingRequiredClaim,
    UnsupportedGrantType,
)
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest

from lti_tool.lti.claims import (
    AGS_ENDPOINT,
    NAMES_ROLES_SERVICE,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
)

# The platform speaks the tool's vocabulary (every claim, scope and media type is in lti_tool/lti/claims.py).
AGS_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)  # what Moodle 4.x grants


# --- The platform's key and registration ---------------------------------------------------------------------


@dataclass(frozen=True)
class PlatformKey:
    private_pem: str
    public_pem: str
    kid: str  # the JWK thumbprint, which is what lti1p3platform's Registration.get_kid() computes
    signing_key: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> PlatformKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return cls.from_private_pem(pem.decode())

    @classmethod
    def from_private_pem(cls, private_pem: str) -> PlatformKey:
        key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        public_pem = (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        return cls(private_pem, public_pem, JWK.from_pem(public_pem.encode()).thumbprint(), key)


class KeyRegistration(Registration):  # type: ignore[misc]
    """Signs with the already parsed key: lti1p3platform re-parses the private PEM for every kid and every
    signature (~30 ms of RSA key checks each), which would make the platform the slow side of a benchmark."""

    def __init__(self, key: PlatformKey) -> None:
        self._key = key

    def get_kid(self) -> str:
        return self._key.kid

    def platform_encode_and_sign(self, payload: dict[str, Any], expiration: int | None = None) -> str:
        key: Any = self._key.signing_key  # PyJWT takes the key object as well as a PEM
        token: str = Registration.encode_and_sign(payload, key, {"kid": self.get_kid()}, expiration=expiration)
        return token


def registration(
    key: PlatformKey, issuer: str, client_id: str, deployment_id: str, login_url: str, launch_url: str, jwks_url: str
) -> Registration:
    """The platform's registration of one tool, as lti1p3platform wants it (launch_url is also the Deep Linking one)."""
    return (
        KeyRegistration(key)
        .set_iss(issuer)
        .set_client_id(client_id)
        .set_deployment_id(deployment_id)
        .set_oidc_login_url(login_url)
        .set_launch_url(launch_url)
        .set_deeplink_launch_url(launch_url)
        .set_tool_key_set_url(jwks_url)
        .set_platform_private_key(key.private_pem)
        .set_platform_public_key(key.public_pem)
    )


class FlaskRequest(Request):  # type: ignore[misc]
    """lti1p3platform's view of a Flask request."""

    def build_metadata(self, flask_request: Any) -> TRequest:
        return {
            "method": flask_request.method,
            "form_data": flask_request.form.to_dict(),
            "get_data": flask_request.args.to_dict(),
            "headers": dict(flask_request.headers),
            "content_type": flask_request.content_type,
            "path": flask_request.path,
            "json": flask_request.get_json(silent=True),
        }


# --- Token endpoint and Deep Linking answers -----------------------------------------------------------------


def check_client_assertion(assertion: str, client_id: str, token_url: str) -> None:
    """What lti1p3platform leaves out (it verifies the signature and exp only): sub and aud (Security §4.1.1)."""
    claims = jwt.decode(assertion, options={"verify_signature": False})
    if claims.get("sub") != client_id:
        raise LtiException("client_assertion sub is not the client_id")
    audiences = claims.get("aud")
    if token_url not in (audiences if isinstance(audiences, list) else [audiences]):
        raise LtiException("client_assertion aud does not name the token endpoint")


def token_answer(
    config: LTI1P3PlatformConfAbstract, form: dict[str, str], check: Callable[[str], None]
) -> tuple[dict[str, Any], int]:
    """The token endpoint's answer to a client-credentials grant with the tool's signed assertion: lti1p3platform
    checks the assertion against the tool's JWKS and signs the access token; `check` adds the claims it skips."""
    config.get_registration()
    try:
        granted: dict[str, Any] = dict(config.get_access_token(form))
        check(form["client_assertion"])
    except UnsupportedGrantType:
        return {"error": "unsupported_grant_type"}, 400
    except MissingRequiredClaim as exc:
        return {"error": "invalid_request", "error_description": str(exc)}, 400
    except (LtiException, InvalidKeySetUrl, jwt.PyJWTError, ValueError) as exc:
        return {"error": "invalid_client", "error_description": str(exc)}, 401
    return granted, 200


def verified_content_items(config: LTI1P3PlatformConfAbstract, token: str) -> list[dict[str, Any]]:
    """The content items of a tool's LtiDeepLinkingResponse once its signature verifies against the tool's JWKS
    (by lti1p3platform); a ValueError with the reason otherwise. The caller checks the claims (LTI-DL §4.5)."""
    try:
        config.get_registration()
        items: list[dict[str, Any]] = config.validate_deeplinking_resp({"JWT": token})
    except (LtiException, LtiDeepLinkingResponseException, jwt.PyJWTError, ValueError, KeyError) as exc:
        raise ValueError(str(exc)) from exc
    return items


# --- AGS and NRPS --------------------------------------------------------------------------------------------


def service_claims(
    lineitems_url: str, memberships_url: str, scopes: Collection[str] = AGS_SCOPES, lineitem: str | None = None
) -> dict[str, Any]:
    """The AGS and NRPS claims of a resource link launch from a platform with both services on."""
    ags: dict[str, Any] = {"scope": list(scopes), "lineitems": lineitems_url}
    if lineitem is not None:
        ags["lineitem"] = lineitem
    nrps = {"context_memberships_url": memberships_url, "service_versions": ["2.0"]}
    return {AGS_ENDPOINT: ags, NAMES_ROLES_SERVICE: nrps}


def oauth_error(status: int, error: str, description: str = "") -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer error="{error}"'
    return response


def bearer_refusal(
    authorization: str, public_key: Any, issuer: str, scopes: Collection[str], revoked: Collection[str] = ()
) -> Response | None:
    """401 without a valid token from the platform's token endpoint, 403 without one of `scopes` (Security §4.1),
    as Moodle's services answer."""
    if not authorization.startswith("Bearer "):
        return oauth_error(401, "invalid_token", "no bearer token")
    token = authorization[7:]
    try:
        claims = jwt.decode(token, public_key, algorithms=["RS256"], leeway=0)
    except jwt.PyJWTError as exc:
        return oauth_error(401, "invalid_token", str(exc))
    if claims.get("iss") != issuer or token in revoked:
        return oauth_error(401, "invalid_token", "revoked")
    if not set(scopes) & set(str(claims.get("scopes", "")).split()):
        return oauth_error(403, "insufficient_scope", " ".join(scopes))
    return None


def matching_lineitems(items: list[dict[str, Any]], args: Mapping[str, str]) -> list[dict[str, Any]]:
    """The line items a GET of the container asks for by resource_id, tag or resource_link_id (AGS §3.2.3)."""
    for param, key in (("resource_id", "resourceId"), ("tag", "tag"), ("resource_link_id", "resourceLinkId")):
        if args.get(param):
            items = [i for i in items if i.get(key) == args[param]]
    return items


def supersedes(score: Mapping[str, Any], previous: Mapping[str, Any] | None) -> bool:
    """AGS §3.4.7: a score whose timestamp is not newer than the one on record changes nothing (so a resend is
    harmless)."""
    return previous is None or str(score["timestamp"]) > str(previous["timestamp"])


def result(item_id: str, user_id: str, score: Mapping[str, Any]) -> dict[str, Any]:
    """The result of a user's last score on a line item (AGS §3.5)."""
    return {
        "id": f"{item_id}/results/{user_id}",
        "scoreOf": item_id,
        "userId": user_id,
        "resultScore": score.get("scoreGiven"),
        "resultMaximum": score.get("scoreMaximum"),
        "comment": score.get("comment", ""),
    }


def member(
    user_id: str, name: str, given_name: str, family_name: str, email: str, roles: Collection[str]
) -> dict[str, Any]:
    """An Active member of a context, as NRPS 2.0 lists it."""
    return {
        "user_id": user_id,
        "status": "Active",
        "name": name,
        "given_name": given_name,
        "family_name": family_name,
        "email": email,
        "roles": list(roles),
    }
