"""Error pages: a refusal, an HTTP error or a database failure that reaches the edge becomes a page in Thai and
English with a reason code, and a log line with context (never a secret)."""

from __future__ import annotations

import base64
import binascii
import json
import logging

from flask import Flask, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from lti_tool.lti.errors import LaunchRejected
from lti_tool.web import drafts, i18n, messages, observability, protocol_messages
from lti_tool.web.session import FormExpired, SessionEnded
from models.drafts import draft_fields

log = logging.getLogger(__name__)
# A refused launch's id_token is read for its issuer only up to this size (the launch refuses larger ones anyway).
_MOST_TOKEN_CHARS_READ = 64 * 1024


def register(app: Flask) -> None:
    app.register_error_handler(LaunchRejected, launch_rejected)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.register_error_handler(SessionEnded, session_ended)
    app.register_error_handler(FormExpired, form_expired)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(IntegrityError, changed_meanwhile)
    app.register_error_handler(DataError, out_of_range)
    app.register_error_handler(DBAPIError, database_unavailable)


def _database_page(reason: str, **context: object) -> str:
    message = i18n.both_languages(lambda: str(messages.DATABASE_MESSAGES[reason]))
    return render_template("error.html", **message, reason=reason, **context)


def _kept_note(kept: drafts.Kept | None, how_to_continue: str) -> str:
    """The sentences that follow a refusal of a post whose text was kept as a draft."""
    if kept is None:
        return ""
    note = " " + how_to_continue
    if kept.files_dropped:
        note += " " + _("Files you had attached were not kept; attach them again.")
    return note


def session_ended(error: SessionEnded) -> tuple[str, int]:
    # The link token of a page left open too long has expired (or the browser dropped the cookie): what was typed
    # is kept for the person the expired token still names, and the next launch into the page fills it in again.
    kept = drafts.keep_posted()
    message = i18n.both_languages(
        lambda: (
            _(
                "Your PLC Bridge session has ended or was never opened. Open the activity again from your course in the LMS."
            )
            + _kept_note(
                kept,
                _(
                    "What you typed is kept for a week: open the activity again from your course in the LMS, go to the same page, and it will be filled in for you."
                ),
            )
        )
    )
    return render_template("error.html", **message, reason="session_ended", draft_kept=kept is not None), 401


def form_expired(error: FormExpired) -> tuple[str, int]:
    kept = drafts.keep_posted()
    message = i18n.both_languages(
        lambda: (
            _("This form has expired. Reload the page and try again.")
            + _kept_note(
                kept, _("What you typed is kept for a week: open the same page again and it will be filled in for you.")
            )
        )
    )
    return render_template("error.html", **message, reason="form_expired", draft_kept=kept is not None), 400


def _named_platform() -> tuple[str, str]:
    """The issuer and client id a refused login or launch named, for the log line: the login's parameters, or the
    launch's id_token read without checking it (it was refused; this only says which platform to look at). Escaped
    to one line, so that nothing a request sends can forge a log line; "-" when it named none."""
    issuer, client_id = request.values.get("iss"), request.values.get("client_id")
    token = request.form.get("id_token", "")
    if token and len(token) <= _MOST_TOKEN_CHARS_READ and (issuer is None or client_id is None):
        claims = _unverified_claims(token)
        azp, aud = claims.get("azp"), claims.get("aud")
        audience = azp if isinstance(azp, str) else aud if isinstance(aud, str) else None
        if audience is None and isinstance(aud, list) and aud and isinstance(aud[0], str):
            audience = aud[0]
        issuer = issuer if issuer is not None else _text(claims.get("iss"))
        client_id = client_id if client_id is not None else audience
    return _one_line(issuer), _one_line(client_id)


def _unverified_claims(token: str) -> dict[str, object]:
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):  # not base64 or not JSON (UnicodeDecodeError is a ValueError)
        return {}
    return payload if isinstance(payload, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _one_line(value: str | None) -> str:
    if not value:
        return "-"
    return value[:200].encode("unicode_escape").decode("ascii").replace(" ", "\\x20")


def launch_rejected(error: LaunchRejected) -> tuple[str, int]:
    observability.LAUNCHES_REJECTED.labels(reason=error.reason).inc()
    issuer, client_id = _named_platform()
    log.warning("launch rejected reason=%s path=%s iss=%s client_id=%s", error.reason, request.path, issuer, client_id)
    message = i18n.both_languages(lambda: protocol_messages.message_for(error.reason, **error.detail))
    return render_template("error.html", **message, reason=error.reason), protocol_messages.status_for(error.reason)


def too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    # Said in both languages: the body was not read, so neither the session nor its language is known.
    most = max(1, (request.max_content_length or 0) // (1024 * 1024))
    message = i18n.both_languages(
        lambda: _(
            "What you sent is larger than this page accepts (at most %(most)s MB at a time). Nothing was saved. Go back and attach fewer or smaller files.",
            most=most,
        )
    )
    return render_template("error.html", **message, reason="request_too_large"), 413


def http_error(error: HTTPException) -> tuple[str, int]:
    if error.code == 429 and request.path.startswith("/lti/"):  # /verify has its own limit, not a launch's
        observability.LAUNCHES_REJECTED.labels(reason="rate_limited").inc()
    own_text = error.description != type(error).description
    generic = messages.GENERIC_MESSAGES.get(error.code or 500)
    if not own_text and generic is not None:
        # Werkzeug's or the rate limiter's own English text: say it in Thai and English instead.
        message = i18n.both_languages(lambda: str(generic))
    else:
        description = str(error.description or error.name)
        message = {"message_th": description, "message_en": description}
    return render_template("error.html", **message, reason=error.name), int(error.code or 500)


def changed_meanwhile(error: IntegrityError) -> tuple[str, int]:
    # Two requests wrote the same thing at the same moment (a double click, two tabs): the second one rolled
    # back whole, so nothing is half-written; the person reloads and sees the first one's result.
    log.warning("write refused by a constraint: %s", type(error.orig).__name__ if error.orig else "IntegrityError")
    return _database_page("changed_meanwhile"), 409


def out_of_range(error: DataError) -> tuple[str, int]:
    # A value the database cannot hold (a number too large, text too long) that no form check caught.
    log.warning("write refused as out of range: %s", type(error.orig).__name__ if error.orig else "DataError")
    return _database_page("value_out_of_range"), 400


def database_unavailable(error: DBAPIError) -> tuple[str, int]:
    # The database is restarting or unreachable: say so plainly; the pool reconnects on the next request. A post's
    # typed fields are shown again (never its tokens or secrets), to copy or to send again once it is back.
    log.error("database unavailable: %s", type(error.orig).__name__ if error.orig else type(error).__name__)
    typed: dict[str, list[str]] = {}
    if request.method == "POST" and not request.path.startswith(drafts.NOT_TYPING):
        typed = {name: values for name, values in draft_fields(request.form.items(multi=True)).items() if any(values)}
    return _database_page("database_unavailable", typed=typed, resend_to=request.path), 503
