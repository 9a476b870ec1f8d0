"""The LINE Messaging API through the official SDK (`line-bot-sdk`, its v3 API): push a notice, reply to a webhook
event, read a profile and the month's quota, and check a webhook's signature. Every call returns an outcome instead
of raising, in the words of LINE's reference (https://developers.line.biz/en/reference/messaging-api/).

- Push (`POST /v2/bot/message/push`) carries an `X-Line-Retry-Key` fixed for each delivery: a push resent after a
  timeout or a killed worker is answered 409 with the request already accepted, and counted delivered, never sent
  twice.
- 429 is a rate limit ("The API rate limit has been exceeded. Try again later.": tried again with backoff) or the
  month's message quota ("You have reached your monthly limit."): LINE messages of the account wait until an admin
  raises it or the month turns; the notices stay in the tool's list.
- 400 and 403 refuse this message for good (an unknown user id, a property LINE does not take): parked with LINE's
  own message for an admin. 401 is the account's token: every message waits for an admin to set a valid one.
"""

from __future__ import annotations

import enum
import json
import uuid
from dataclasses import dataclass

import urllib3
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    PushMessageRequest,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.webhook import WebhookParser
from linebot.v3.webhooks import Event

DEFAULT_API = "https://api.line.me"
MONTHLY_LIMIT = "monthly limit"  # in LINE's 429 message when the month's quota is spent
TEXT_MOST = 5000  # a text message's most characters (Messaging API reference, Text message)
RETRY_KEY_SPACE = uuid.UUID("6c1b8f5e-1d2a-4c53-9a6e-2f4e7a9d0b11")


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"  # down, slow, rate-limited: tried again later with backoff
    PARKED = "parked"  # refused for good for this message
    QUOTA_SPENT = "quota_spent"  # the month's message quota: the account's LINE messages wait
    TOKEN_REFUSED = "token_refused"  # 401: the account's channel access token is not valid


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reason: str = ""
    request_id: str = ""


@dataclass(frozen=True)
class Quota:
    limited: bool
    limit: int | None  # messages the month allows (free and additional), when limited
    used: int | None  # messages sent this month


def retry_key(delivery_id: int) -> str:
    """The delivery's own `X-Line-Retry-Key`: the same on every attempt, so LINE accepts the push once."""
    return str(uuid.uuid5(RETRY_KEY_SPACE, f"notice-delivery-{delivery_id}"))


class LineApi:
    """One LINE Official Account's Messaging API client (thread-safe: urllib3's pool under the SDK)."""

    def __init__(
        self, access_token: str, *, base_url: str = DEFAULT_API, timeout_seconds: float = 10.0, pool_size: int = 16
    ) -> None:
        configuration = Configuration(host=base_url.rstrip("/"), access_token=access_token)
        configuration.connection_pool_maxsize = pool_size
        configuration.retries = False  # our own backoff decides; urllib3 must not resend a push by itself
        self.client = ApiClient(configuration)
        self.api = MessagingApi(self.client)
        self.timeout = timeout_seconds

    def close(self) -> None:
        self.client.close()

    def push_text(self, to: str, text: str, key: str) -> Result:
        request = PushMessageRequest(to=to, messages=[TextMessage(text=text[:TEXT_MOST])])
        try:
            response = self.api.push_message_with_http_info(
                request, x_line_retry_key=key, _request_timeout=self.timeout
            )
        except ApiException as exc:
            return _refusal(exc)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return Result(Outcome.RETRY, f"LINE did not answer ({type(exc).__name__})")
        headers = response.headers or {}
        return Result(Outcome.DELIVERED, request_id=str(headers.get("x-line-request-id", "")))

    def reply_text(self, reply_token: str, text: str) -> Result:
        request = ReplyMessageRequest(replyToken=reply_token, messages=[TextMessage(text=text)])
        try:
            self.api.reply_message(request, _request_timeout=self.timeout)
        except ApiException as exc:
            return _refusal(exc)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return Result(Outcome.RETRY, f"LINE did not answer ({type(exc).__name__})")
        return Result(Outcome.DELIVERED)

    def quota(self) -> Quota | None:
        """The month's target limit (`GET /v2/bot/message/quota`: "none" is unlimited) and the messages sent so far
        (`/quota/consumption`); None when LINE does not answer."""
        try:
            limit = self.api.get_message_quota(_request_timeout=self.timeout)
            used = self.api.get_message_quota_consumption(_request_timeout=self.timeout)
        except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError):
            return None
        kind = getattr(limit.type, "value", limit.type)  # the SDK gives an enum, QuotaType.LIMITED or NONE
        return Quota(kind == "limited", limit.value, used.total_usage)

    def display_name(self, user_id: str) -> str | None:
        """The user's LINE display name (`GET /v2/bot/profile/{userId}`), or None (not a friend, blocked, no answer)."""
        try:
            return str(self.api.get_profile(user_id, _request_timeout=self.timeout).display_name)
        except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError):
            return None


def _message_of(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        return str(exc.reason or "")
    message = str(body.get("message", "")) if isinstance(body, dict) else ""
    details = body.get("details") if isinstance(body, dict) else None
    if isinstance(details, list) and details:
        parts = [f"{d.get('property', '')}: {d.get('message', '')}".strip(": ") for d in details if isinstance(d, dict)]
        message += " (" + "; ".join(parts) + ")"
    return message or str(exc.reason or "")


def _refusal(exc: ApiException) -> Result:
    status = int(exc.status or 0)
    message = _message_of(exc)
    headers = dict(exc.headers or {})
    request_id = str(headers.get("x-line-request-id", ""))
    reason = f"LINE {status}: {message}"
    if status == 409 and headers.get("x-line-accepted-request-id"):
        # The retry key was accepted before (Messaging API reference, "Retry failed API requests"): already sent.
        return Result(Outcome.DELIVERED, request_id=str(headers["x-line-accepted-request-id"]))
    if status == 429 and MONTHLY_LIMIT in message.lower():
        return Result(Outcome.QUOTA_SPENT, reason, request_id)
    if status == 401:
        return Result(Outcome.TOKEN_REFUSED, reason, request_id)
    if status in (400, 403, 404):
        return Result(Outcome.PARKED, reason, request_id)
    return Result(Outcome.RETRY, reason, request_id)


class BadSignature(Exception):
    """The webhook's X-Line-Signature is missing or not the channel secret's HMAC of the body."""


def parse_webhook(body: str, signature: str, channel_secret: str) -> tuple[str, list[Event]]:
    """(the bot's user id `destination`, the events) of a webhook whose signature checks out with the secret."""
    if not signature:
        raise BadSignature("no X-Line-Signature")
    try:
        payload = WebhookParser(channel_secret).parse(body, signature, as_payload=True)
    except InvalidSignatureError as exc:
        raise BadSignature(str(exc)) from None
    return str(payload.destination or ""), list(payload.events or [])
