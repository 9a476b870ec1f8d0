"""The app factory: settings, database, extensions, blueprints and error pages wired into one Flask application."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from lti_tool.lti.errors import LaunchRejected
from lti_tool.lti.service_tokens import ServiceClient
from lti_tool.settings import Settings, load_settings
from lti_tool.web import i18n, messages, observability, security
from models.database import Database
from models.keys import ensure_key
from models.migrate import upgrade

log = logging.getLogger(__name__)

# For errors raised without a message of our own (an unknown address, a wrong method, a rate limit).
GENERIC_MESSAGES = {
    400: _l("The request could not be understood. Go back and try again."),
    404: _l("There is nothing at this address. Open the activity again from your course in the LMS."),
    405: _l("This address does not take that kind of request. Open the activity again from your course."),
    429: _l("Too many requests from this address in a short time. Wait a minute, then try again."),
}

# In a wheel the templates ship inside the package; in a source checkout they are the top-level templates/.
_PACKAGE = Path(__file__).resolve().parent.parent
_PACKAGED_TEMPLATES = _PACKAGE / "templates"
TEMPLATES = (
    _PACKAGED_TEMPLATES if _PACKAGED_TEMPLATES.is_dir() else _PACKAGE.parent / "templates"
)


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> Flask:
    """Build the application. With `migrate`, bring the schema up to date and make the first key (embedded mode)."""
    settings = settings or load_settings()
    # Named for the package, so that its static/ folder serves /static.
    app = Flask("lti_tool", template_folder=str(TEMPLATES), instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.is_https,
        SESSION_COOKIE_SAMESITE="None" if settings.is_https else "Lax",
        PREFERRED_URL_SCHEME="https" if settings.is_https else "http",
    )
    app.extensions["plc_settings"] = settings
    database = Database(settings.database_url)
    app.extensions["plc_db"] = database
    if migrate:
        upgrade(database.engine)
        with database.transaction() as db:
            ensure_key(db)

    i18n.init_app(app, settings)
    observability.init_app(app, database)
    security.init_app(app, database, settings.trusted_proxies, settings.rate_limit_storage)

    # Calls to the platforms' AGS and NRPS services, with tokens cached in the database. The entry points that serve
    # the app share this client with the in-process workers (lti_tool/workers/in_process.py).
    app.extensions["plc_services"] = ServiceClient(database)

    from lti_tool.web.views import admin, health, home, lti, program, sessions, setup, xapi_profile

    app.register_blueprint(lti.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(setup.bp)
    app.register_blueprint(xapi_profile.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(program.bp)
    app.register_blueprint(sessions.bp)
    from lti_tool.web.views import cycles, progress, reflections

    app.register_blueprint(cycles.bp)
    app.register_blueprint(reflections.bp)
    app.register_blueprint(progress.bp)
    from lti_tool.web.views import evidence, observations

    app.register_blueprint(observations.bp)
    app.register_blueprint(evidence.bp)
    from lti_tool.web.views import dashboard

    app.register_blueprint(dashboard.bp)
    from lti_tool.web.views import deep_linking, registration

    app.register_blueprint(registration.bp)
    app.register_blueprint(deep_linking.bp)
    from lti_tool.web.views import certificates

    app.register_blueprint(certificates.bp)
    if settings.demo_enabled:
        from lti_tool.demo_lms import platform as demo

        app.register_blueprint(demo.bp)
        with database.transaction() as db:
            demo.ensure_registration(db, settings)

    @app.errorhandler(LaunchRejected)
    def launch_rejected(error: LaunchRejected) -> tuple[str, int]:
        observability.LAUNCHES_REJECTED.labels(reason=error.reason).inc()
        log.warning(
            "launch rejected reason=%s path=%s iss=%s", error.reason, request.path, request.values.get("iss", "-")
        )
        message = i18n.both_languages(lambda: messages.message_for(error.reason, **error.detail))
        return render_template("error.html", **message, reason=error.reason), messages.status_for(error.reason)

    @app.errorhandler(RequestEntityTooLarge)
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

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        if error.code == 429 and request.path.startswith("/lti/"):  # /verify has its own limit, not a launch's
            observability.LAUNCHES_REJECTED.labels(reason="rate_limited").inc()
        limit = getattr(error, "limit", None)  # flask-limiter's: its text is the limit itself unless we gave one
        own_text = error.description != type(error).description and not (limit and not limit.error_message)
        generic = GENERIC_MESSAGES.get(error.code or 500)
        if not own_text and generic is not None:
            # Werkzeug's or the rate limiter's own English text: say it in Thai and English instead.
            message = i18n.both_languages(lambda: str(generic))
        else:
            description = str(error.description or error.name)
            message = {"message_th": description, "message_en": description}
        return render_template("error.html", **message, reason=error.name), int(error.code or 500)

    @app.errorhandler(IntegrityError)
    def changed_meanwhile(error: IntegrityError) -> tuple[str, int]:
        # Two requests wrote the same thing at the same moment (a double click, two tabs): the second one rolled
        # back whole, so nothing is half-written; the person reloads and sees the first one's result.
        log.warning("write refused by a constraint: %s", type(error.orig).__name__ if error.orig else "IntegrityError")
        return render_template(
            "error.html",
            message_th="บันทึกไม่ได้ เพราะขัดกับข้อมูลที่มีอยู่แล้ว (อาจมีการบันทึกรายการเดียวกันจากอีกหน้าหนึ่งในเวลาเดียวกัน) ไม่มีการเปลี่ยนแปลงใด ๆ โปรดโหลดหน้าใหม่แล้วตรวจสอบ",
            message_en="This could not be saved: it conflicts with what is already stored (perhaps the same thing was saved at the same moment from another page). Nothing was changed. Reload the page and check.",
            reason="changed_meanwhile",
        ), 409

    @app.errorhandler(DataError)
    def out_of_range(error: DataError) -> tuple[str, int]:
        # A value the database cannot hold (a number too large, text too long) that no form check caught.
        log.warning("write refused as out of range: %s", type(error.orig).__name__ if error.orig else "DataError")
        return render_template(
            "error.html",
            message_th="บันทึกไม่ได้ เพราะมีค่าที่ใหญ่หรือยาวเกินกว่าที่ระบบเก็บได้ ไม่มีการเปลี่ยนแปลงใด ๆ โปรดกลับไปแก้ไขแล้วลองอีกครั้ง",
            message_en="This could not be saved: a value is larger or longer than the tool can keep. Nothing was changed. Go back, correct it and try again.",
            reason="value_out_of_range",
        ), 400

    @app.errorhandler(DBAPIError)
    def database_unavailable(error: DBAPIError) -> tuple[str, int]:
        # The database is restarting or unreachable: say so plainly; the pool reconnects on the next request.
        log.error("database unavailable: %s", type(error.orig).__name__ if error.orig else type(error).__name__)
        return render_template(
            "error.html",
            message_th="ฐานข้อมูลไม่พร้อมใช้งานชั่วคราว โปรดลองอีกครั้งในอีกสักครู่",
            message_en="The database is unavailable for a moment. Please try again shortly.",
            reason="database_unavailable",
        ), 503

    return app
