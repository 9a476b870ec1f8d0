"""LTI 1.3 endpoints: OIDC login initiation, launch, and the tool's public key set."""

from __future__ import annotations

import logging

import requests
from flask import Blueprint, Response, current_app, g, jsonify, make_response, redirect, render_template, request

from lti_tool.lti.activities import from_custom
from lti_tool.lti.claims import CUSTOM, DEPLOYMENT_ID
from lti_tool.lti.launch import (
    LtiRequest,
    PlatformStorageCheckNeeded,
    ToolMessageLaunch,
    start_login,
    state_cookie_name,
)
from lti_tool.lti.origin import origin_of
from lti_tool.services.launches import record_launch
from lti_tool.web.activities import activity_url
from lti_tool.web.launch_answer import page_in_answer
from lti_tool.web.observability import LAUNCHES
from lti_tool.web.security import frame_for_platform, limiter
from lti_tool.web.session import (
    database,
    delete_tool_cookie,
    session_url,
    set_browser_cookie,
    set_tool_cookie,
    settings,
    tie_launch_to_browser,
)
from lti_tool.web.views.privacy import notice_first
from models.keys import jwks
from models.roles import AppRole

log = logging.getLogger(__name__)

bp = Blueprint("lti", __name__)


def _http() -> requests.Session:
    session = current_app.extensions.get("plc_http")
    if session is None:
        session = requests.Session()
        session.headers["User-Agent"] = "PLC-Bridge/0.1 (+LTI 1.3 tool)"
        current_app.extensions["plc_http"] = session
    return session


def _lti_rate_limit() -> str:
    return settings().rate_limit_lti


def _lti_request() -> LtiRequest:
    """The request as the protocol code reads it. As Werkzeug's `request.values`: a GET's parameters are its query's
    only (the OIDC login may come as a GET or a POST; the launch is a POST)."""
    return LtiRequest(
        form=request.form.to_dict() if request.method != "GET" else {},
        args=request.args.to_dict(),
        cookies=request.cookies.to_dict(),
        is_secure=request.is_secure,
        client_address=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", ""),
    )


@bp.route("/lti/login", methods=["GET", "POST"])
@limiter.limit(_lti_rate_limit)
def login() -> Response:
    with database().transaction() as db:
        outcome = start_login(db, settings(), _lti_request())
    log.info("lti login iss=%s client_id=%s", outcome.platform.issuer, outcome.platform.client_id)
    frame_for_platform(outcome.platform)  # its page frames the login: no other platform's, and no read of them all
    if outcome.login.storage_target:
        response = make_response(
            render_template(
                "lti/storage_login.html",
                login=outcome.login,
                auth_url=outcome.auth_url,
                platform_origin=origin_of(outcome.platform.auth_login_url) or "",
            )
        )
    else:
        response = redirect(outcome.auth_url, code=302)
    set_tool_cookie(
        response,
        state_cookie_name(outcome.login),
        outcome.login.nonce,
        settings().login_request_ttl_seconds,
        path="/lti/",
    )
    return response


@bp.post("/lti/launch")
@limiter.limit(_lti_rate_limit)
def launch() -> Response:
    try:
        with database().transaction() as db:
            message = ToolMessageLaunch(db, settings(), _lti_request(), _http()).validate()
            app_session = record_launch(db, message, settings())
            browser = tie_launch_to_browser(db, app_session, message.cookie_verified)
            g.plc_session = app_session
            # A Deep Linking request opens the picker; a link that names an activity opens that activity's page.
            if message.is_deep_linking:
                destination = session_url("deep_linking.picker")
            else:
                staff = app_session.membership.app_role != AppRole.TEACHER
                destination = activity_url(from_custom(message.body().get(CUSTOM)), staff=staff)
            destination = notice_first(db, app_session, destination)
    except PlatformStorageCheckNeeded as check:
        # Nothing was written; the page asks the platform's storage for this login's state and posts again.
        page = render_template("lti/storage_launch.html", check=check, form=request.form.to_dict())
        return make_response(page)
    assert message.platform is not None and message.login is not None
    log.info(
        "lti launch iss=%s deployment=%s role=%s cookie=%s",
        message.platform.issuer,
        message.body().get(DEPLOYMENT_ID),
        app_session.membership.app_role,
        message.cookie_verified,
    )
    LAUNCHES.labels(role=app_session.membership.app_role).inc()
    # The page it leads to, in this answer (web/launch_answer.py); else a redirect to it. The new session's cookie goes
    # with that page's request only where the browser showed that it keeps the tool's cookies.
    page = page_in_answer(destination, browser if message.cookie_verified else None)
    response = page if page is not None else redirect(destination, code=303)
    set_browser_cookie(response, browser)
    delete_tool_cookie(response, state_cookie_name(message.login), path="/lti/")
    return response


@bp.get("/lti/jwks")
@bp.get("/.well-known/jwks.json")
def tool_jwks() -> Response:
    with database().transaction() as db:
        key_set = jwks(db)
    response = jsonify(key_set)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
