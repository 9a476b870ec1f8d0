"""The origin of a URL (RFC 6454 §4): what the LTI specs and browsers compare when they ask "the same site?"."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` in lower case for an http(s) URL with a host; None for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()
