"""HTTP hardening: Content-Security-Policy framed only by registered platforms, rate limits, proxy headers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import lru_cache, partial, wraps
from typing import Any

from flask import Flask, Response, g
from flask.globals import request_ctx
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import MemoryStorage
from sqlalchemy import select
from sqlalchemy.orm.exc import DetachedInstanceError
from werkzeug.middleware.proxy_fix import ProxyFix

from lti_tool.lti.origin import origin_of
from lti_tool.lti.tool_config import LoginPlatform
from models.database import Database
from models.platform import Platform

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


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


def _limiter_hooks_where_limited(app: Flask) -> None:
    """Flask-Limiter's hooks, run only where there is something to count (0.1 ms of a page's CPU otherwise).

    Every limit of this app decorates its view, and a decorated view counts its hit itself (flask_limiter's
    RouteLimit wrapper). The app-wide hook before every request counts the default, application and blueprint limits,
    of which there are none: it is left out while that holds (the app fails to start if one is added). The hooks
    after the request (the X-RateLimit headers) and at its teardown read the limiter's state of the request, which only
    a decorated view's check makes: they run for those requests only."""
    manager = limiter.limit_manager
    if manager.default_limits or manager.application_limits or manager._blueprint_limits or limiter._meta_limits:
        raise RuntimeError("the limiter's hooks assume every limit decorates its view (lti_tool/web/security.py)")
    app.before_request_funcs[None].remove(limiter._check_request_limit)

    def touched() -> bool:
        return hasattr(request_ctx, "_limiter_request_context")  # made by the limiter's first look at the request

    after = app.after_request_funcs[None]
    for index, hook in enumerate(after):
        if isinstance(hook, partial) and hook.args == (limiter,):
            after[index] = _only_if(touched, hook)
    teardown = app.teardown_request_funcs[None]
    for index, hook in enumerate(teardown):
        if getattr(hook, "__self__", None) is limiter:
            teardown[index] = _only_if(touched, hook)


def _only_if(condition: Callable[[], bool], hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A request hook that runs when `condition()` holds; otherwise it gives back what it was given (a response)."""

    @wraps(hook)
    def guarded(value: Any) -> Any:
        return hook(value) if condition() else value

    return guarded


def init_app(app: Flask, database: Database, trusted_proxies: int, storage_uri: str) -> None:
    if trusted_proxies:
        # Trust X-Forwarded-For/Proto/Host only from the proxies we were told about, never from clients.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=trusted_proxies, x_proto=trusted_proxies, x_host=trusted_proxies
        )
    app.config["RATELIMIT_STORAGE_URI"] = limiter_storage_uri(storage_uri)
    limiter.init_app(app)
    _limiter_hooks_where_limited(app)
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
