"""A local LINE Messaging API on 127.0.0.1 for the tests and the benchmark: the endpoints the tool calls, with the
request and error shapes of LINE's reference (https://developers.line.biz/en/reference/messaging-api/, and its
OpenAPI document, line/line-openapi messaging-api.yml), and the webhook side: it signs events with the channel secret
and posts them to the tool as LINE does.

- `POST /v2/bot/message/push` (`X-Line-Retry-Key`: a key accepted before answers 409 with
  `x-line-accepted-request-id`), `POST /v2/bot/message/reply` (a reply token works once), `GET /v2/bot/profile/{id}`,
  `GET /v2/bot/message/quota` and `/quota/consumption`. Errors are `{"message": …, "details": [...]}`; 401 for a
  wrong token; 400 "Failed to send messages" for a user id that does not exist; a user who blocked the account gets
  200 and nothing (LINE's FAQ), and the account learns it from the `unfollow` event.
- It records every push and reply it took (`received`, `replies`), answers after `latency` seconds, and fails on
  demand: `fail_next(429 | 500 | "timeout", times)`; `quota` spent answers 429 "You have reached your monthly limit."
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.support.waiting import wait_until

RATE_LIMITED = "The API rate limit has been exceeded. Try again later."
MONTHLY_LIMIT = "You have reached your monthly limit."


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class Pushed:
    to: str
    texts: list[str]
    retry_key: str | None
    request_id: str
    delivered: bool  # False: the user blocked the account (LINE answers 200 and sends nothing)


@dataclass
class LineServer:
    access_token: str = "test-channel-access-token"
    channel_secret: str = "0123456789abcdef0123456789abcdef"
    webhook_url: str = ""
    latency: float = 0.0
    quota: int | None = None  # None: unlimited ("none")
    friends: dict[str, str] = field(default_factory=dict)  # user id -> display name
    blocked: set[str] = field(default_factory=set)
    received: list[Pushed] = field(default_factory=list)
    replies: list[tuple[str, list[str]]] = field(default_factory=list)  # (the user replied to, texts)
    requests_seen: int = 0
    base_url: str = ""
    _failures: list[int | str] = field(default_factory=list)
    _accepted: dict[str, str] = field(default_factory=dict)  # retry key -> request id
    _reply_tokens: dict[str, str] = field(default_factory=dict)  # token -> user id
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _open: threading.Event = field(default_factory=threading.Event)  # cleared: every request waits (hold/release)
    _server: BaseWSGIServer | None = None

    # --- the test's controls ---------------------------------------------------------------------------------------

    def __post_init__(self) -> None:
        self._open.set()

    def hold(self) -> None:
        """Every request waits (LINE slow to answer) until `release`."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def reply_after(self, count: int) -> str:
        """The first text of the next reply after the first `count` (the tool replies once it answered the webhook)."""
        wait_until(lambda: len(self.replies) > count, 10, message="the account never replied")
        return self.replies[count][1][0]

    def add_friend(self, display_name: str) -> str:
        user_id = "U" + uuid.uuid4().hex  # LINE user ids: U and 32 hex digits
        self.friends[user_id] = display_name
        return user_id

    def fail_next(self, failure: int | str, times: int = 1) -> None:
        """The next `times` API requests answer `failure`: 429 (rate limit), 500, or "timeout" (no answer in time)."""
        with self._lock:
            self._failures.extend([failure] * times)

    def delivered_to(self, user_id: str) -> list[str]:
        return [text for push in self.received if push.to == user_id and push.delivered for text in push.texts]

    # --- the webhook side: what LINE sends the tool ---------------------------------------------------------------

    def sign(self, body: bytes) -> str:
        digest = hmac.new(self.channel_secret.encode(), body, hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def event(self, kind: str, user_id: str, **extra: Any) -> dict[str, Any]:
        token = uuid.uuid4().hex
        self._reply_tokens[token] = user_id
        return {
            "type": kind,
            "mode": "active",
            "timestamp": int(time.time() * 1000),
            "source": {"type": "user", "userId": user_id},
            "webhookEventId": "01" + uuid.uuid4().hex[:24].upper(),
            "deliveryContext": {"isRedelivery": False},
            **({"replyToken": token} if kind in ("message", "follow") else {}),
            **({"follow": {"isUnblocked": user_id in self.blocked}} if kind == "follow" else {}),
            **extra,
        }

    def post_events(
        self, events: list[dict[str, Any]], *, body: bytes | None = None, signature: str | None = None
    ) -> requests.Response:
        raw = body if body is not None else json.dumps({"destination": "Ubot" + "0" * 28, "events": events}).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Line-Signature": signature or self.sign(raw)}
        return requests.post(self.webhook_url, data=raw, headers=headers, timeout=10)

    def send_text(self, user_id: str, text: str) -> requests.Response:
        """The user sends `text` to the account in LINE."""
        message = {"id": str(uuid.uuid4().int)[:18], "type": "text", "text": text, "quoteToken": uuid.uuid4().hex}
        return self.post_events([self.event("message", user_id, message=message)])

    def block(self, user_id: str) -> requests.Response:
        self.blocked.add(user_id)
        return self.post_events([self.event("unfollow", user_id)])

    def unblock(self, user_id: str) -> requests.Response:
        event = self.event("follow", user_id)  # `follow.isUnblocked`: true
        self.blocked.discard(user_id)
        return self.post_events([event])

    # --- the API ----------------------------------------------------------------------------------------------------

    def app(self) -> Flask:
        app = Flask("line-messaging-api")

        def error(status: int, message: str, details: list[dict[str, str]] | None = None) -> tuple[Response, int]:
            body: dict[str, Any] = {"message": message}
            if details:
                body["details"] = details
            response = jsonify(body)
            response.headers["x-line-request-id"] = str(uuid.uuid4())
            return response, status

        @app.before_request
        def gate() -> tuple[Response, int] | None:
            with self._lock:
                self.requests_seen += 1
                failure = self._failures.pop(0) if self._failures else None
            self._open.wait(30)
            if self.latency:
                time.sleep(self.latency)
            if failure == "timeout":
                time.sleep(3.0)  # longer than the tests' client timeout
                return error(500, "timeout")
            if failure == 429:
                return error(429, RATE_LIMITED)
            if isinstance(failure, int):
                return error(failure, "Internal server error")
            if request.headers.get("Authorization") != f"Bearer {self.access_token}":
                return error(
                    401, "Authentication failed. Confirm that the access token in the authorization header is valid."
                )
            return None

        def texts_of(body: Any) -> tuple[list[str], list[dict[str, str]]]:
            messages = body.get("messages") if isinstance(body, dict) else None
            if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
                return [], [{"message": "Size must be between 1 and 5", "property": "messages"}]
            found, problems = [], []
            for n, message in enumerate(messages):
                if not isinstance(message, dict) or message.get("type") != "text" or not message.get("text"):
                    problems.append({"message": "must be specified", "property": f"messages[{n}].text"})
                elif len(message["text"]) > 5000:
                    problems.append({"message": "Length must be between 0 and 5000", "property": f"messages[{n}].text"})
                else:
                    found.append(message["text"])
            return found, problems

        @app.post("/v2/bot/message/push")
        def push() -> tuple[Response, int]:
            body = request.get_json(silent=True)
            key = request.headers.get("X-Line-Retry-Key")
            if key is not None:
                try:
                    uuid.UUID(key)
                except ValueError:
                    return error(400, "The value of the X-Line-Retry-Key header is invalid")
            texts, problems = texts_of(body)
            to = body.get("to") if isinstance(body, dict) else None
            if not to:
                problems.append({"message": "must be specified", "property": "to"})
            if problems:
                return error(400, f"The request body has {len(problems)} error(s)", problems)
            with self._lock:
                if key is not None and key in self._accepted:
                    response, status = error(409, "The retry key is already accepted")
                    response.headers["x-line-accepted-request-id"] = self._accepted[key]
                    return response, status
                if to not in self.friends:
                    return error(400, "Failed to send messages")
                counted = sum(1 for p in self.received if p.delivered)
                if self.quota is not None and counted >= self.quota:
                    return error(429, MONTHLY_LIMIT)
                request_id = str(uuid.uuid4())
                self.received.append(Pushed(to, texts, key, request_id, to not in self.blocked))
                if key is not None:
                    self._accepted[key] = request_id
            response = jsonify({"sentMessages": [{"id": str(uuid.uuid4().int)[:18], "quoteToken": uuid.uuid4().hex}]})
            response.headers["x-line-request-id"] = request_id
            return response, 200

        @app.post("/v2/bot/message/reply")
        def reply() -> tuple[Response, int]:
            body = request.get_json(silent=True) or {}
            texts, problems = texts_of(body)
            if problems:
                return error(400, f"The request body has {len(problems)} error(s)", problems)
            with self._lock:
                user_id = self._reply_tokens.pop(str(body.get("replyToken", "")), None)
                if user_id is None:
                    return error(400, "Invalid reply token")
                self.replies.append((user_id, texts))
            return jsonify({"sentMessages": [{"id": str(uuid.uuid4().int)[:18]}]}), 200

        @app.get("/v2/bot/profile/<user_id>")
        def profile(user_id: str) -> tuple[Response, int]:
            if user_id not in self.friends or user_id in self.blocked:
                return error(404, "Not found")
            return jsonify({"displayName": self.friends[user_id], "userId": user_id, "language": "th"}), 200

        @app.get("/v2/bot/message/quota")
        def quota() -> tuple[Response, int]:
            if self.quota is None:
                return jsonify({"type": "none"}), 200
            return jsonify({"type": "limited", "value": self.quota}), 200

        @app.get("/v2/bot/message/quota/consumption")
        def consumption() -> tuple[Response, int]:
            return jsonify({"totalUsage": sum(1 for p in self.received if p.delivered)}), 200

        return app

    def start(self) -> LineServer:
        self._server = make_server("127.0.0.1", 0, self.app(), threaded=True, request_handler=_Quiet)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def line_server(**values: Any) -> Iterator[LineServer]:
    server = LineServer(**values).start()
    try:
        yield server
    finally:
        server.stop()
