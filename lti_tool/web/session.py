"""The app session after a launch: a cookie where the browser keeps one, a signed short-lived token in links and
forms where it does not (Safari and some Chrome settings drop third-party cookies inside Moodle's iframe).

The cookie carries a browser key (models/sessions.py), partitioned over HTTPS (CHIPS) so that Chromium keeps it in
Moodle's cross-site iframe. A link's token lives LINK_TOKEN_MAX_AGE and every page's links carry a fresh one; once
the browser has shown that it keeps the cookie (over HTTPS), a link opens its session only together with it, so a
link left in a shared computer's history opens nothing in another browser, after the browser was closed, or after
another person launched there. Sign out ends the session on the server.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import Flask, Request, Response, current_app, g, request, url_for
from flask.sessions import NullSession, SessionInterface, SessionMixin
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest, Unauthorized

from lti_tool.lti.service_tokens import ServiceClient
from lti_tool.settings import Settings
from models.base import utcnow
from models.database import Database
from models.drafts import DRAFT_LIFETIME
from models.sessions import (
    AppSession,
    browser_key_for,
    find_session,
    latest_browser_session,
    note_cookie_kept,
    tie_to_browser,
    write_session,
)

SESSION_COOKIE = "plc_session"  # holds the browser key, never a session's token
LINK_PARAM = "s"
LINK_TOKEN_MAX_AGE = 20 * 60  # a link from the history dies soon; working on renews it
# A form posted with its form token (the `csrf` field, an HMAC of this session's token and the form's purpose, which only
# a page of this session carries) may come later than a link: writing a reflection takes longer than 20 minutes, and a
# history holds addresses, never a form's fields. The form token is still checked by the form.
FORM_POST_MAX_AGE = 2 * 3600


class SessionEnded(Unauthorized):
    """No live session names this request (401); a post's typed text is then kept as a draft (web/drafts.py)."""


class FormExpired(BadRequest):
    """A post without this session's token for its form (400); its typed text is kept as a draft too."""


class _NoFlaskSession(NullSession):
    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("flask.session is not used: the app session lives in the database (lti_tool/web/session.py)")

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _refuse  # type: ignore[assignment]


class NoCookieSession(SessionInterface):
    """Flask's own cookie session, which the tool does not use: its session is a database row (models/sessions.py)
    named by the tool's cookie or a link's token. Flask would otherwise make a signing serializer at every request to
    read a cookie that is never set; writing to `flask.session` fails instead of setting one."""

    null_session_class = _NoFlaskSession

    def open_session(self, app: Flask, request: Request) -> SessionMixin:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


def settings() -> Settings:
    value: Settings = current_app.extensions["plc_settings"]
    return value


def database() -> Database:
    """The process's database (engine and session factory), made by create_app."""
    value: Database = current_app.extensions["plc_db"]
    return value


def service_client() -> ServiceClient:
    """The process's client for the platforms' AGS and NRPS services (made by create_app)."""
    client: ServiceClient = current_app.extensions["plc_services"]
    return client


def _serializer() -> URLSafeTimedSerializer:
    serializer: URLSafeTimedSerializer | None = current_app.extensions.get("plc_link_serializer")
    if serializer is None:
        serializer = URLSafeTimedSerializer(settings().secret_key, salt="plc-session-link")
        current_app.extensions["plc_link_serializer"] = serializer
    return serializer


def link_token(app_session: AppSession) -> str:
    """The signed token of the session for this request's links: signed once per request and session (a page's
    links all carry the same one)."""
    signed: tuple[str, str] | None = g.get("plc_link_token")
    if signed is None or signed[0] != app_session.token:
        signed = (app_session.token, _serializer().dumps(app_session.token))
        g.plc_link_token = signed
    return signed[1]


def browser_key() -> str | None:
    """The browser key this request's cookie carries, if any."""
    return request.cookies.get(SESSION_COOKIE) or None


def _link_max_age() -> int:
    """How old a link's session token may be for this request: a form's post with its form token gets longer."""
    if request.method == "POST" and request.form.get("csrf"):
        return max(FORM_POST_MAX_AGE, LINK_TOKEN_MAX_AGE)
    return LINK_TOKEN_MAX_AGE


def current_session(db: Session) -> AppSession | None:
    """The session named by the signed token in the link or form, else the latest one of the browser's cookie.

    The link wins: with two courses open in two tabs, each tab's links name their own session. A link's session is
    refused when the browser was seen keeping its cookie and this request does not carry it. The cookie serves
    requests that carry no token (a typed or bookmarked URL).
    """
    key = browser_key()
    app_session = None
    signed = request.values.get(LINK_PARAM)
    if signed:
        try:
            token = _serializer().loads(signed, max_age=_link_max_age())
        except (SignatureExpired, BadSignature):
            token = None
        named = find_session(db, token) if isinstance(token, str) else None
        app_session = named if named is not None and named.opens_with(key) else None
    if app_session is None and key:
        app_session = latest_browser_session(db, key)
    if app_session is not None:
        if settings().is_https:
            # Over plain HTTP (the demo on one machine; production refuses it) links are not tied to the cookie.
            note_cookie_kept(app_session, key)
        g.plc_session = app_session
        g.plc_db = db  # the page's transaction, which what its template asks of the database may use while it is open
        g.plc_locale = app_session.locale
        g.plc_owner = (app_session.person_id, app_session.context_id)
        g.plc_drafts = app_session.has_drafts  # None when the session was read without asking (by its cookie)
    return app_session


def draft_owner(db: Session) -> tuple[int, int] | None:
    """The person and course of the session that sent this request, even when it has expired, for keeping what they
    typed (models/drafts.py); None when nothing trustworthy names one.

    A link token whose signature is ours but whose age is past still names its session: only the age failed, and
    the signature proves we issued it. A bad signature is never trusted, nor a session signed out, nor a link
    without the cookie of a browser that keeps it. Sessions over a week old name no one.
    """
    now = utcnow()
    key = browser_key()
    candidates: list[AppSession] = []
    signed = request.values.get(LINK_PARAM)
    if signed:
        serializer = _serializer()
        try:
            token = serializer.loads(signed, max_age=LINK_TOKEN_MAX_AGE)
        except SignatureExpired as expired:
            recent = expired.date_signed is not None and now - expired.date_signed <= DRAFT_LIFETIME
            token = serializer.load_payload(expired.payload) if recent and expired.payload is not None else None
        except BadSignature:
            token = None
        if isinstance(token, str):
            candidates.extend(
                db.scalars(
                    select(AppSession).where(
                        AppSession.token == token,
                        AppSession.expires_at > now - DRAFT_LIFETIME,
                        AppSession.ended_at.is_(None),
                    )
                )
            )
    if key:
        latest = latest_browser_session(db, key)  # every live session of the browser opens with its key
        candidates.extend([latest] if latest is not None else [])
    for row in candidates:
        if row.opens_with(key):
            return row.person_id, row.context_id
    return None


def tie_launch_to_browser(db: Session, app_session: AppSession, state_cookie_came_back: bool) -> str:
    """Tie a launch's new session to this browser and write its row; the browser key for its cookie. A browser whose
    state cookie came back over HTTPS keeps the tool's cookies here, so the session's links need the cookie from the
    start."""
    key = browser_key_for(db, app_session, browser_key())
    tie_to_browser(app_session, key, kept=state_cookie_came_back and settings().is_https)
    write_session(db, app_session)
    return key


def session_url(endpoint: str, **values: Any) -> str:
    """url_for that names this request's session, so each tab stays in its own course with or without cookies."""
    app_session: AppSession | None = g.get("plc_session")
    if app_session is None:
        return url_for(endpoint, **values)
    token = link_token(app_session)
    if any(key.startswith("_") for key in values):  # an anchor, an external URL: url_for itself
        return url_for(endpoint, **values, **{LINK_PARAM: token})
    # What url_for would make, the token added last as it adds it: the address without it is built once per process
    # (a page has a dozen of these links, url_for costs ~20 µs each), the token changes per request. The URL-safe
    # token needs no quoting.
    address = _address(request.script_root, endpoint, tuple(values.items()))
    return f"{address}{'&' if '?' in address else '?'}{LINK_PARAM}={token}"


def _address(script_root: str, endpoint: str, values: tuple[tuple[str, Any], ...]) -> str:
    """url_for(endpoint, **values) under this script root, kept per app (at most _ADDRESSES_KEPT of them)."""
    addresses: dict[tuple[str, str, tuple[tuple[str, Any], ...]], str] = current_app.extensions.setdefault(
        "plc_addresses", {}
    )
    key = (script_root, endpoint, values)
    try:
        return addresses[key]
    except TypeError:  # a value that is no key (a list): not kept
        return url_for(endpoint, **dict(values))
    except KeyError:
        pass
    address = url_for(endpoint, **dict(values))
    if len(addresses) >= _ADDRESSES_KEPT:
        addresses.clear()  # the ids of a process's pages: a bound, not a cache to tune
    addresses[key] = address
    return address


_ADDRESSES_KEPT = 4096


def set_tool_cookie(response: Response, name: str, value: str, max_age: int | None, path: str = "/") -> None:
    """Every cookie the tool sets: HttpOnly; behind HTTPS Secure, SameSite=None and Partitioned (CHIPS), so that a
    browser that blocks third-party cookies still keeps it in Moodle's cross-site iframe, in a jar of that site
    only; on plain HTTP (the demo on a laptop) Lax, because browsers refuse SameSite=None without Secure.
    `max_age` None: the cookie ends with the browser."""
    secure = settings().is_https
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        secure=secure,
        httponly=True,
        samesite="None" if secure else "Lax",
        path=path,
        partitioned=secure,
    )


def delete_tool_cookie(response: Response, name: str, path: str = "/") -> None:
    """Remove a cookie set by `set_tool_cookie`: a partitioned cookie is removed only by a partitioned answer."""
    set_tool_cookie(response, name, "", max_age=0, path=path)


def set_browser_cookie(response: Response, key: str) -> None:
    """The browser key, for as long as the browser runs: closing it closes the sessions its links open."""
    set_tool_cookie(response, SESSION_COOKIE, key, max_age=None)


def csrf_token(app_session: AppSession, purpose: str) -> str:
    """A form token bound to the session and the form's purpose; works without cookies."""
    return hmac.new(
        settings().secret_key.encode(), f"{app_session.token}:{purpose}".encode(), hashlib.sha256
    ).hexdigest()


def csrf_valid(app_session: AppSession, purpose: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(csrf_token(app_session, purpose), str(token))


def require_session(db: Session) -> AppSession:
    """The request's session, or a 401 page saying to open the activity again from the LMS."""
    app_session = current_session(db)
    if app_session is None:
        raise SessionEnded(
            description=_(
                "Your PLC Bridge session has ended or was never opened. Open the activity again from your course in the LMS."
            )
        )
    return app_session


def require_form_token(app_session: AppSession, purpose: str) -> None:
    """Refuse (400) a form post without this session's token for this form: no change without it."""
    if not csrf_valid(app_session, purpose, request.form.get("csrf")):
        raise FormExpired(description=_("This form has expired. Reload the page and try again."))
