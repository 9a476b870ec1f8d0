"""The embedded default's rate-limit counters ("memory://", kept by SweptMemoryStorage): a fixed window counts each
address's hits, refuses the one over the limit, opens again when the window ends, and forgets addresses it no longer
sees, with no timer thread per hit."""

from __future__ import annotations

import threading
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from lti_tool.web.security import SweptMemoryStorage, limiter_storage_uri


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
