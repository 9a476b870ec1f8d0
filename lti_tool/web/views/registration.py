"""LTI Dynamic Registration: the page a platform opens when its admin pastes the tool's registration URL."""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template, request

from lti_tool.lti.errors import RegistrationRefused
from lti_tool.lti.origin import origin_of
from lti_tool.lti.registration import register
from lti_tool.web import i18n, protocol_messages
from lti_tool.web.security import limiter
from lti_tool.web.session import database, settings
from lti_tool.web.views.lti import _http, _lti_rate_limit

bp = Blueprint("registration", __name__)


def _framed_by(configuration_url: str | None) -> str:
    """The platform that opened this page may frame it (Moodle shows it in a modal iframe) though it is not
    registered yet; the page offers no action, so framing it gives nothing away."""
    origin = origin_of(configuration_url or "")
    return " ".join(["'self'", origin] if origin else ["'self'"])


def _with_policy(response: Response, configuration_url: str | None) -> Response:
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
        f"base-uri 'none'; frame-ancestors {_framed_by(configuration_url)}"
    )
    return response


@bp.get("/lti/register")
@limiter.limit(_lti_rate_limit)  # each request makes the tool call out to another site
def start() -> Response:
    configuration_url = request.args.get("openid_configuration")
    token = request.args.get("registration_token") or None
    try:
        with database().transaction() as db:
            registered = register(db, settings(), _http(), configuration_url, token)
            page = render_template(
                "lti/registered.html",
                platform=registered.platform,
                deployment_id=registered.deployment_id,
                created=registered.created,
            )
    except RegistrationRefused as refused:
        reason, detail = refused.reason, refused.detail
        message = i18n.both_languages(lambda: protocol_messages.message_for(reason, **detail))
        page = render_template("error.html", **message, reason=reason)
        return _with_policy(make_response(page, protocol_messages.status_for(reason)), configuration_url)
    return _with_policy(make_response(page), configuration_url)
