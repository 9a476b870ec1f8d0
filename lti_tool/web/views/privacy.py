"""Personal data (PDPA B.E. 2562): the notice a person reads after a launch until they have read its current version
(and later from every page's footer), and "My data": everything the tool holds about them, as PDF and JSON."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from flask import Blueprint, Response, g, make_response, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import DetachedInstanceError

from lti_tool.documents import pdf as documents
from lti_tool.services import privacy as service
from lti_tool.services.actor import Actor
from lti_tool.web.forms.privacy import ACKNOWLEDGE, AcknowledgeForm
from lti_tool.web.i18n import LOCALES
from lti_tool.web.session import (
    LINK_PARAM,
    csrf_token,
    current_session,
    database,
    link_token,
    require_session,
    session_url,
    settings,
)
from models.base import utcnow
from models.calendar import program_day
from models.privacy_notice import PrivacyNotice, acknowledgements_of, load_notice
from models.sessions import AppSession

bp = Blueprint("privacy", __name__)

READ = "notice_read"  # the query flag of the page a person continues to after acknowledging


def current_notice() -> PrivacyNotice:
    """The district's notice (PLC_PRIVACY_NOTICE_FILE) or the shipped one."""
    return load_notice(settings().privacy_notice_file)


def notice_first(db: Session, app_session: AppSession, destination: str) -> str:
    """Where a launch goes: the notice first while the person has not read its current version, else `destination`
    (which the notice's page continues to)."""
    if not settings().privacy_notice or not service.must_read_notice(db, app_session.person_id, current_notice()):
        return destination
    return session_url("privacy.notice", next=destination)


def _lang() -> str:
    locale = str(get_locale() or "th")
    return locale if locale in LOCALES else "th"


def _continue_to(app_session: AppSession, raw: str | None) -> str:
    """The page the launch was going to, on this tool only, with a fresh link token and the flag that says the
    notice was read; the person's home page when the address is not one of ours."""
    parts = urlsplit(raw or "")
    path = parts.path
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//") or "\\" in path:
        path, query = "/home", []
    else:
        query = [(k, v) for k, v in parse_qsl(parts.query) if k not in (LINK_PARAM, READ)]
    query += [(LINK_PARAM, link_token(app_session)), (READ, "1")]
    return f"{path}?{urlencode(query)}"


def _notice_page(db: Session, app_session: AppSession | None, status: int = 200, refusal: str = "") -> tuple[str, int]:
    notice = current_notice()
    acknowledged = None
    platform = None
    form: dict[str, str] | None = None
    if app_session is not None:
        read = acknowledgements_of(db, app_session.person_id)
        acknowledged = next((a for a in read if a.version == notice.version), None)
        platform = app_session.context.platform
        if acknowledged is None:
            form = {
                "action": session_url("privacy.acknowledge"),
                "csrf": csrf_token(app_session, ACKNOWLEDGE),
                "next": request.values.get("next", ""),
            }
    page = render_template(
        "privacy_notice.html",
        notice=notice,
        text=notice.text(_lang()),
        acknowledged=acknowledged,
        platform=platform,
        form=form,
        refusal=refusal,
        my_data_url=session_url("privacy.my_data_page") if app_session is not None else None,
    )
    return page, status


@bp.app_context_processor
def _privacy_links() -> dict[str, Any]:
    def privacy_links() -> dict[str, Any]:
        """The footer's links (with this request's session, when there is one) and whether the page follows a
        reading of the notice."""
        app_session = g.get("plc_session")
        in_session = False
        try:
            in_session = app_session is not None and app_session.ended_at is None
        except DetachedInstanceError:  # a page refusing a post whose transaction was rolled back
            in_session = False
        return {
            "notice": session_url("privacy.notice") if in_session else "/privacy",
            "my_data": session_url("privacy.my_data_page") if in_session else None,
            "read": in_session and request.args.get(READ) == "1",
        }

    return {"privacy_links": privacy_links}


@bp.get("/privacy")
def notice() -> tuple[str, int]:
    """Readable by anyone; with a session it offers the acknowledgement or says when it was given."""
    with database().transaction() as db:
        app_session = current_session(db)
        return _notice_page(db, app_session)


@bp.post("/privacy")
def acknowledge() -> Response | tuple[str, int]:
    with database().transaction() as db:
        app_session = require_session(db)
        form = AcknowledgeForm.posted(app_session, ACKNOWLEDGE)
        if not service.acknowledge_notice(db, Actor(app_session), current_notice(), form.shown_version(), utcnow()):
            refusal = _("The notice has changed since this page opened. Please read this version.")
            return _notice_page(db, app_session, status=409, refusal=refusal)
        destination = _continue_to(app_session, form.next.data)
    return redirect(destination, code=303)


# --- My data -----------------------------------------------------------------------------------------------------


@bp.get("/my-data")
def my_data_page() -> str:
    with database().transaction() as db:
        app_session = require_session(db)
        data = service.my_data(db, Actor(app_session))
        return render_template(
            "my_data.html",
            data=data,
            pdf_url=session_url("privacy.my_data_pdf", lang=_lang()),
            json_url=session_url("privacy.my_data_json"),
            notice_url=session_url("privacy.notice"),
        )


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = make_response(body)
    response.mimetype = mimetype
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/my-data.json")
def my_data_json() -> Response:
    with database().transaction() as db:
        app_session = require_session(db)
        data = service.my_data(db, Actor(app_session))
        body = json.dumps(data.as_json(), ensure_ascii=False, indent=2).encode("utf-8")
    return _download(body, "application/json", "plc-bridge-my-data.json")


@bp.get("/my-data.pdf")
def my_data_pdf() -> Response:
    with database().transaction() as db:
        app_session = require_session(db)
        data = service.my_data(db, Actor(app_session))
        body = documents.render_pdf(
            settings(), "my-data.html", data=data, lang=_lang(), printed_on=program_day(utcnow()), day=program_day
        )
    return _download(body, "application/pdf", "plc-bridge-my-data.pdf")
