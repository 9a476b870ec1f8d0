"""The app factory: settings, database, extensions, blueprints and error pages wired into one Flask application."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from lti_tool.lti.service_tokens import ServiceClient
from lti_tool.settings import Settings, load_settings
from lti_tool.web import errors, i18n, observability, security
from models.database import Database
from models.keys import ensure_key
from models.migrate import upgrade

log = logging.getLogger(__name__)


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

    errors.register(app)
    return app
