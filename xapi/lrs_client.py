"""Posting statement batches to an LRS (xAPI 1.0.3 §7.2) and reading what it answered."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass

import requests
from pydantic import BaseModel, Field, SecretStr

XAPI_VERSION = "1.0.3"


class LrsDestination(BaseModel):
    """One LRS the outbox delivers to (settings: PLC_LRS, a JSON list, or [[lrs]] tables in the TOML file)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    endpoint: str = Field(pattern=r"^https?://")
    username: str = ""
    password: SecretStr = SecretStr("")
    timeout_seconds: float = 15.0

    @property
    def statements_url(self) -> str:
        return self.endpoint.rstrip("/") + "/statements"


class Outcome(enum.Enum):
    DELIVERED = "delivered"  # stored now or already stored (the ids are fixed, so both mean done)
    REJECTED = "rejected"  # the LRS refused the batch as invalid or conflicting: find the culprit, park it
    RETRY = "retry"  # network, server error, refused credentials or a garbled answer: try again later


@dataclass(frozen=True)
class PostResult:
    outcome: Outcome
    reason: str = ""


def post_statements(http: requests.Session, destination: LrsDestination, documents: Sequence[str]) -> PostResult:
    """POST a batch of statements, each already JSON text as the outbox stores it, and classify the answer.

    Never raises for what the LRS or the network does.
    """
    auth = (destination.username, destination.password.get_secret_value()) if destination.username else None
    try:
        response = http.post(
            destination.statements_url,
            data=("[" + ",".join(documents) + "]").encode(),
            headers={"X-Experience-API-Version": XAPI_VERSION, "Content-Type": "application/json"},
            auth=auth,
            timeout=destination.timeout_seconds,
        )
    except requests.RequestException as exc:
        return PostResult(Outcome.RETRY, f"network: {type(exc).__name__}")
    status = response.status_code
    if status == 204:
        return PostResult(Outcome.DELIVERED)  # every statement was already stored
    if status == 200:
        try:
            stored = response.json()
        except ValueError:
            return PostResult(Outcome.RETRY, "HTTP 200 with a body that is not JSON")
        if not isinstance(stored, list):
            return PostResult(Outcome.RETRY, "HTTP 200 without the list of stored ids")
        return PostResult(Outcome.DELIVERED)
    detail = _detail(response)
    if status in (400, 409, 413, 422):
        # 409: an id exists with a different statement. Final, never retried (an LRS answers it forever).
        return PostResult(Outcome.REJECTED, f"HTTP {status}: {detail}")
    return PostResult(Outcome.RETRY, f"HTTP {status}: {detail}")


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])[:300]
    return json.dumps(body, ensure_ascii=False)[:300]
