"""Waiting for something another thread or process does (a worker delivers, a server starts), always with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T], timeout: float, interval: float = 0.1, message: str = "the condition never held"
) -> T:
    """Call `predicate` until it returns something truthy, and return that; pause `interval` seconds between calls.
    After `timeout` seconds without it, fail the test with `message` (after one last call at the deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} (waited {timeout:g} s)")
        time.sleep(interval)
