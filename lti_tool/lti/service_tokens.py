"""Calling a platform's LTI Advantage services with an OAuth2 access token (1EdTech Security Framework §4.1).

The token comes from the client-credentials grant with a JWT assertion signed by the tool's current key
(RFC 7523), is cached in the database per platform and scope set (models/service_tokens.py), reused while it
lives, and replaced when a service answers 401.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Collection
from datetime import timedelta
from typing import Annotated, Any, TypeVar

import jwt
import requests
from pydantic import BaseModel, BeforeValidator, Field, StrictInt, StrictStr, ValidationError

from models.base import utcnow
from models.database import Database
from models.keys import current_key
from models.platform import Platform
from models.service_tokens import cached_token, forget_token, is_valid, lock_token

log = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 300
DEFAULT_TOKEN_LIFETIME = 3600  # when the platform says nothing (Security §4.1: "expires_in" is recommended)
# A token is kept at most a day whatever the platform says (10**13 s would overflow a datetime); a shorter one is
# simply asked for again sooner.
MIN_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME = 1, 24 * 3600
MAX_ANSWER_BYTES = 64 * 1024


class TokenAnswer(BaseModel):
    """A successful token response (RFC 6749 §5.1): the token and, recommended, its lifetime in seconds."""

    access_token: StrictStr = Field(min_length=1)
    expires_in: StrictInt = Field(default=DEFAULT_TOKEN_LIFETIME, gt=0)


class TokenError(BaseModel):
    """A token endpoint's refusal (RFC 6749 §5.2), told to the admin page as sent, whatever its types."""

    error: Annotated[str, BeforeValidator(str)] = ""
    error_description: Annotated[str, BeforeValidator(str)] = ""


ONE_LINE_LIMIT = 200


def one_line(answer: str, limit: int = ONE_LINE_LIMIT) -> str:
    """A platform's raw answer as one short line for the admin page and the log: an HTML page's markup, scripts and
    styles left out, every run of whitespace one space, cut at `limit` characters."""
    text = answer
    if "<" in text and ">" in text:
        text = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", text)
        text = html.unescape(re.sub(r"(?s)<[^>]*>", " ", text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class ServiceError(Exception):
    """A platform service could not be used; `reason` is for the admin page and the log."""

    def __init__(self, reason: str, *, transient: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class TokenRefused(ServiceError):
    """The token endpoint refused the assertion, could not be reached, or answered something that is no token;
    `problem` says which for the pages ("keyset_unreachable": the platform could not verify our signature)."""

    def __init__(self, reason: str, *, transient: bool = True, problem: str = "token_refused") -> None:
        super().__init__(reason, transient=transient)
        self.problem = problem


def client_assertion(platform: Platform, private_pem: str, kid: str) -> str:
    """The signed JWT that authenticates the tool at the token endpoint (Security §4.1.1)."""
    now = int(time.time())
    claims = {
        "iss": platform.client_id,
        "sub": platform.client_id,
        "aud": platform.auth_audience or platform.auth_token_url,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, private_pem, algorithm="RS256", headers={"kid": kid})


class ServiceClient:
    """Authorized requests to one tool's platforms; share one per process (it holds an HTTP connection pool)."""

    def __init__(self, database: Database, http: requests.Session | None = None, timeout: float = 10.0) -> None:
        self.database = database
        self.http = http or requests.Session()
        self.timeout = timeout
        self._lock = threading.Lock()
        self.token_requests = 0  # made by this client: the benchmark's count

    def token(self, platform_id: int, scopes: Collection[str]) -> str:
        with self.database.transaction() as db:
            token = cached_token(db, platform_id, scopes)
        if token:
            return token
        with self.database.transaction() as db:
            row = lock_token(db, platform_id, scopes)
            if is_valid(row):  # another process fetched it while we waited for the lock
                return row.access_token
            platform = db.get(Platform, platform_id)
            if platform is None:
                raise ServiceError("the platform registration is gone", transient=False)
            key = current_key(db)
            access_token, lifetime = self._fetch(platform, key.private_pem, key.kid, scopes)
            row.access_token = access_token
            row.expires_at = utcnow() + timedelta(seconds=lifetime)
            row.fetched_at = utcnow()
            return access_token

    def forget(self, platform_id: int, access_token: str) -> None:
        with self.database.transaction() as db:
            forget_token(db, platform_id, access_token)

    def _fetch(self, platform: Platform, private_pem: str, kid: str, scopes: Collection[str]) -> tuple[str, int]:
        with self._lock:
            self.token_requests += 1
        data = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(platform, private_pem, kid),
            "scope": " ".join(sorted(scopes)),
        }
        url = platform.auth_token_url
        try:
            response = self.http.post(url, data=data, timeout=self.timeout, headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise TokenRefused(
                f"the token endpoint {url} cannot be reached ({type(exc).__name__})", problem="platform_down"
            ) from exc
        body = _json_answer(response)
        if response.status_code == 404 and body is None:
            # Moodle's token.php answers its exception page with 404 when it cannot fetch the tool's keyset to check
            # the assertion (its HTTP security blocks the tool's address or port): not a wrong URL.
            raise TokenRefused(
                f"the platform could not verify the tool's signature: its token endpoint {url} answered HTTP 404 with"
                f" an error page ({one_line(response.text, 120)})",
                problem="keyset_unreachable",
            )
        if response.status_code != 200:
            problem = _parsed(TokenError, body) if body else None
            detail = (": " + f"{problem.error} {problem.error_description}".strip()) if problem is not None else ""
            # 5xx may pass; 400/401 mean the platform does not accept our assertion (wrong key, client_id, aud).
            transient = response.status_code >= 500 or response.status_code == 429
            raise TokenRefused(
                f"the token endpoint {url} answered HTTP {response.status_code}{one_line(detail, 300)}",
                transient=transient,
                problem="platform_down" if transient else "token_refused",
            )
        try:
            answer = TokenAnswer.model_validate(body)
        except ValidationError as invalid:
            if any(error["loc"] != ("expires_in",) for error in invalid.errors()):
                raise TokenRefused(
                    f"the token endpoint {url} answered without an access token (not OAuth2 JSON)"
                ) from invalid
            # RFC 6749 §5.1: a lifetime in seconds. Anything else is not a token answer to trust (nor its token).
            raise TokenRefused(
                f"the token endpoint {url} answered a malformed token (expires_in is not a positive whole number"
                " of seconds)"
            ) from invalid
        expires_in = max(MIN_TOKEN_LIFETIME, min(answer.expires_in, MAX_TOKEN_LIFETIME))
        log.info("service token issued iss=%s scopes=%s expires_in=%s", platform.issuer, data["scope"], expires_in)
        return answer.access_token, expires_in

    def request(
        self,
        platform_id: int,
        scopes: Collection[str],
        method: str,
        url: str,
        *,
        accept: str,
        json_body: Any = None,
        content_type: str | None = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        """One service call with the cached token; on 401 the token is dropped and the call made once more with a
        new one (Security §4.1: the platform may revoke a token before it expires). Network errors → ServiceError."""
        token = self.token(platform_id, scopes)
        response = self._send(token, method, url, accept, json_body, content_type, params)
        if response.status_code == 401:
            self.forget(platform_id, token)
            response = self._send(self.token(platform_id, scopes), method, url, accept, json_body, content_type, params)
        return response

    def _send(
        self,
        token: str,
        method: str,
        url: str,
        accept: str,
        json_body: Any,
        content_type: str | None,
        params: dict[str, str] | None,
    ) -> requests.Response:
        headers = {"Authorization": "Bearer " + token, "Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            return self.http.request(
                method,
                url,
                headers=headers,
                data=None if json_body is None else _dumps(json_body),
                params=params,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise ServiceError(f"{url} cannot be reached ({type(exc).__name__})") from exc


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _json_answer(response: requests.Response) -> Any:
    """The answer's JSON, or None when it is too large or not JSON."""
    if len(response.content) > MAX_ANSWER_BYTES:
        return None
    try:
        return response.json()
    except ValueError:
        return None


Answer = TypeVar("Answer", bound=BaseModel)


def _parsed(model: type[Answer], value: Any) -> Answer | None:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None
