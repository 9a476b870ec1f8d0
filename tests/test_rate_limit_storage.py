"""The embedded default's rate-limit counters ("memory://", kept by SweptMemoryStorage): a fixed window counts each
address's hits, refuses the one over the limit, opens again when the window ends, and forgets addresses it no longer
sees, with no timer thread per hit; and a view's limits as the decorator counts them."""

from __future__ import annotations

import threading
import time

from flask import Flask
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from lti_tool.web.security import SweptMemoryStorage, limiter, limiter_storage_uri


def test_the_embedded_default_counts_refuses_and_opens_again_when_the_window_ends() -> None:
    storage = storage_from_string(limiter_storage_uri("memory://"))
    assert isinstance(storage, SweptMemoryStorage)
    limiter = FixedWindowRateLimiter(storage)
    limit = parse("3 per 1 second")

    assert [limiter.hit(limit, "10.0.0.1") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(limit, "10.0.0.2")  # another address has its own count
    time.sleep(1.1)
    assert limiter.hit(limit, "10.0.0.1")


def test_addresses_no_longer_seen_are_forgotten_and_hits_start_no_threads() -> None:
    storage = SweptMemoryStorage("plc-memory://")
    limiter = FixedWindowRateLimiter(storage)
    limit = parse("100 per 1 second")
    for n in range(50):
        limiter.hit(limit, f"10.0.1.{n}")
    threads = threading.active_count()
    for _ in range(200):
        limiter.hit(limit, "10.0.2.1")
    assert threading.active_count() <= threads
    time.sleep(1.1)
    storage._next_sweep = 0.0  # the minute has passed

    limiter.hit(limit, "10.0.3.1")

    assert len(storage.storage) == len(storage.expirations) == 1
    assert "10.0.3.1" in next(iter(storage.storage))


def test_a_shared_storage_is_left_as_configured() -> None:
    assert limiter_storage_uri("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379"


def _limited_app(limit: str) -> Flask:
    app = Flask(__name__)
    limiter.init_app(app, "memory://")

    @app.get("/ping")
    @limiter.limit(lambda: limit)
    def ping() -> str:
        return "pong"

    return app


def test_several_windows_are_counted_shortest_first_and_the_refusing_one_is_named() -> None:
    client = _limited_app("3/minute; 2/second").test_client()
    first, second, third = (client.get("/ping") for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert first.headers["X-RateLimit-Limit"] == "2" and first.headers["X-RateLimit-Remaining"] == "1"
    assert third.headers["X-RateLimit-Limit"] == "2" and third.headers["Retry-After"] in ("1", "2")
    assert int(third.headers["X-RateLimit-Reset"]) > time.time()  # rounded up: never before the window ends
    assert "Retry-After" not in first.headers

    time.sleep(1.05)  # the second's window ends; the refused request was not counted in the minute's
    assert client.get("/ping").status_code == 200
    refused = client.get("/ping")
    assert refused.status_code == 429 and refused.headers["X-RateLimit-Limit"] == "3"
    assert int(refused.headers["Retry-After"]) > 1


def test_an_empty_limit_counts_nothing() -> None:
    client = _limited_app("").test_client()
    answers = [client.get("/ping") for _ in range(5)]
    assert {a.status_code for a in answers} == {200} and "X-RateLimit-Limit" not in answers[0].headers
