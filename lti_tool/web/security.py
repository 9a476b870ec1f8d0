"""HTTP hardening: Content-Security-Policy framed only by registered platforms, rate limits, proxy headers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any

from flask import Flask, Response, current_app, g, request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from sqlalchemy import select
from sqlalchemy.orm.exc import DetachedInstanceError
from werkzeug.exceptions import TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

from lti_tool.lti.origin import origin_of
from lti_tool.lti.tool_config import LoginPlatform
from models.database import Database
from models.platform import Platform


class RateLimited(TooManyRequests):
    """A client address went past a view's limit: 429, with the view's own message if it has one (else the error
    page's)."""


class RateLimits:
    """Limits per client address on the views that need them (a decorator per view), counted in fixed windows by the
    `limits` library in the configured storage: this process's memory for the embedded default, Redis shared by every
    web process in production. Each view counts apart. A limited view's answers carry the window's X-RateLimit-Limit,
    -Remaining and -Reset headers, and a refusal Retry-After.

    Flask-Limiter did this before, with the same library, storage and strategy underneath; its general machinery
    (application, blueprint and meta limits, exemptions, conditional costs, hooks on every request) cost ~0.35 ms of
    CPU per limited request, about 4% of the app's CPU per launch (bench/launch_steps.py, in turns against the earlier
    code), for none of which this app has a use."""

    def init_app(self, app: Flask, storage_uri: str) -> None:
        app.extensions["plc_rate_limits"] = storage_from_string(limiter_storage_uri(storage_uri))
        app.after_request(_window_headers)

    def limit(
        self, limit_value: Callable[[], str], error_message: Callable[[], str] | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Count each request of the view against the limits `limit_value()` names ("30 per minute", or several:
        "5 per second; 120 per minute", each counted apart, the shortest first and none after one that is past its
        limit), per address; an empty value sets none."""

        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(view)
            def limited(*args: Any, **kwargs: Any) -> Any:
                storage: Storage = current_app.extensions["plc_rate_limits"]
                shown: tuple[int, int, str] | None = None
                refused = False
                for item in _parsed(limit_value()):
                    key = item.key_for(request.remote_addr or "127.0.0.1", request.endpoint or "")
                    count = storage.incr(key, item.get_expiry())
                    refused = count > item.amount
                    if shown is None or refused:
                        shown = (item.amount, max(0, item.amount - count), key)  # the shortest, or the one past
                    if refused:
                        break
                if shown is not None:
                    g.plc_rate_window = (*shown[:2], storage.get_expiry(shown[2]))
                if refused:
                    raise RateLimited(description=error_message() if error_message else None)
                return view(*args, **kwargs)

            return limited

        return decorate


limiter = RateLimits()


@lru_cache(maxsize=32)
def _parsed(limit_value: str) -> tuple[RateLimitItem, ...]:
    return tuple(sorted(parse_many(limit_value))) if limit_value.strip() else ()


def _window_headers(response: Response) -> Response:
    """A limited view's answer: its window's limit, what is left of it and the second it starts again, rounded up
    (as Flask-Limiter gave them); on a refusal, the seconds until then."""
    window: tuple[int, int, float] | None = g.get("plc_rate_window")
    if window is not None:
        amount, remaining, expiry = window
        reset = int(expiry) + 1
        response.headers["X-RateLimit-Limit"] = str(amount)
        response.headers["X-RateLimit-Remaining"] = str(remaining)
        response.headers["X-RateLimit-Reset"] = str(reset)
        if response.status_code == 429:
            response.headers["Retry-After"] = str(max(1, int(reset - time.time())))
    return response


class SweptMemoryStorage(MemoryStorage):
    """The embedded default's counters in this process's memory ("memory://"), as limits' MemoryStorage keeps them,
    without the timer thread it starts again on almost every hit (a thread per login and per launch): a fixed window's
    counter already expires when it is read, and the keys nobody reads again are swept here at most once a minute."""

    STORAGE_SCHEME = ["plc-memory"]
    SWEEP_EVERY = 60.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._next_sweep = time.time() + self.SWEEP_EVERY
        self._sweeping = threading.Lock()

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        if now >= self._next_sweep and self._sweeping.acquire(blocking=False):
            try:
                self._next_sweep = now + self.SWEEP_EVERY
                for stale in [k for k, at in list(self.expirations.items()) if at <= now]:
                    self.get(stale)  # drops it: its window has ended
            finally:
                self._sweeping.release()
        self.get(key)
        with self.locks[key]:
            self.storage[key] += amount
            if self.storage[key] == amount:
                self.expirations[key] = now + expiry
        return self.storage.get(key, 0)


def limiter_storage_uri(configured: str) -> str:
    """The limiter's storage for the configured one: the embedded default's counters kept by SweptMemoryStorage."""
    return "plc-memory://" if configured == "memory://" else configured


class FrameAncestors:
    """The origins allowed to frame the tool: every registered platform's, read when a page is served.

    One small query per HTML page or redirect outside a session and outside a login (not per image or script): a
    platform registered a moment ago, by any process, can frame the tool at once (Chromium checks frame-ancestors on
    every response of a framed navigation, redirects too). A login's answer is framed by the platform that sent it,
    read with the login. If the database is away, the last list read stays in force.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._last: str | None = None

    def value(self) -> str:
        try:
            with self.database.transaction() as db:
                urls = db.execute(select(Platform.issuer, Platform.auth_login_url)).all()
        except Exception:
            return self._last or "'self'"
        origins = sorted({origin for pair in urls for origin in map(origin_of, pair) if origin})
        self._last = " ".join(["'self'", *origins])
        return self._last


@lru_cache(maxsize=256)
def _platform_framing(issuer: str, auth_login_url: str) -> str:
    """frame-ancestors for one platform's pages, computed once per process for its URLs."""
    origins = sorted({o for o in (origin_of(issuer), origin_of(auth_login_url)) if o})
    return " ".join(["'self'", *origins])


def frame_for_platform(platform: LoginPlatform) -> None:
    """This request's answer may be framed by this platform only: a login's, whose platform sent it from its page."""
    g.plc_framing_platform = platform


def _framing_for(app_session: Any, ancestors: FrameAncestors) -> str:
    """A page of a launched session may be framed by that session's platform only, a login's redirect or page by the
    login's platform; other HTML pages and redirects (set-up, refusals shown inside an LMS frame) by any registered
    platform."""
    if app_session is None:
        framing: LoginPlatform | None = g.get("plc_framing_platform")
        if framing is not None:
            return _platform_framing(framing.issuer, framing.auth_login_url)
        return ancestors.value()
    try:
        platform = app_session.context.platform
    except DetachedInstanceError:  # the view did not load the platform before its transaction closed
        return ancestors.value()
    return _platform_framing(platform.issuer, platform.auth_login_url)


def init_app(app: Flask, database: Database, trusted_proxies: int, storage_uri: str) -> None:
    if trusted_proxies:
        # Trust X-Forwarded-For/Proto/Host only from the proxies we were told about, never from clients.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=trusted_proxies, x_proto=trusted_proxies, x_host=trusted_proxies
        )
    limiter.init_app(app, storage_uri)
    ancestors = FrameAncestors(database)

    @app.after_request
    def security_headers(response: Response) -> Response:
        framing = _framing_for(g.get("plc_session"), ancestors) if response.mimetype == "text/html" else "'self'"
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
            f"base-uri 'none'; frame-ancestors {framing}",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Session tokens travel in links when cookies are blocked: never send them on in a Referer.
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response
