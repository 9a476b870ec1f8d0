"""How long a delivery waits before its next attempt: exponential backoff with jitter, for the learning-record
outbox, the score outbox and the worker loop alike."""

from __future__ import annotations

import random


def backoff_seconds(attempts: int, base: float, most: float) -> float:
    """Exponential backoff with jitter, so many workers do not hammer a service (an LRS, an LMS) that is coming back."""
    ceiling = min(most, base * 2 ** max(attempts - 1, 0))
    return random.uniform(ceiling / 2, ceiling)
