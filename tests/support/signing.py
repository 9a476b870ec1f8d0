"""Tokens signed as the tool signs them, but at another moment: for tests of what an old (or future) token meets."""

from __future__ import annotations

import time

from itsdangerous import TimestampSigner, URLSafeTimedSerializer


def signed_seconds_ago(secret_key: str, salt: str, value: object, seconds: int) -> str:
    """`value` signed by itsdangerous with this key and salt, stamped `seconds` ago (negative: in the future)."""

    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds

    return URLSafeTimedSerializer(secret_key, salt=salt, signer=Earlier).dumps(value)
