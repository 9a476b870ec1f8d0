"""The app factory: settings, database, extensions, blueprints and error pages wired into one Flask application."""

from __future__ import annotations

import gc
import logging
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import configure_mappers

from lti_tool.lti.service_tokens import ServiceClient
from lti_tool.settings import Settings, load_settings
from lti_tool.web import curriculum, drafts, errors, fonts, i18n, observability, security
from lti_tool.web.forms import limits
from lti_tool.web.launch_answer import launch_address
from lti_tool.web.session import NoCookieSession
from lti_tool.web.views import (
    admin,
    agencies,
    certificates,
    competencies,
    cycles,
    dashboard,
    deep_linking,
    erasure,
    evidence,
    exam_results,
    health,
    home,
    letters,
    line_webhook,
    lti,
    notices,
    observations,
    privacy,
    program,
    program_steps,
    progress,
    reflections,
    registration,
    sessions,
    setup,
    sign_out,
    xapi_profile,
)
from models.database import Database
from xapi import outbox_commit

log = logging.getLogger(__name__)

# The cyclic collector's youngest generation runs once this many more container objects are alive than at its last
# run, instead of Python's 700: a request makes thousands (ORM states, template contexts), and at 700 a gunicorn
# worker ran about ten young collections a second during a PLC day.
YOUNG_COLLECTION_THRESHOLD = 10_000

# Every page group, in the order Flask matches them.
BLUEPRINTS = (
    lti.bp,
    home.bp,
    setup.bp,
    xapi_profile.bp,
    admin.bp,
    health.bp,
    program.bp,
    program_steps.bp,
    sessions.bp,
    cycles.bp,
    reflections.bp,
    progress.bp,
    competencies.bp,
    observations.bp,
    evidence.bp,
    dashboard.bp,
    exam_results.bp,
    registration.bp,
    deep_linking.bp,
    certificates.bp,
    agencies.bp,
    letters.bp,
    sign_out.bp,
    erasure.bp,
    privacy.bp,
    notices.bp,
    line_webhook.bp,
)


# In a wheel the templates ship inside the package; in a source checkout they are the top-level templates/.
_PACKAGE = Path(__file__).resolve().parent.parent
_PACKAGED_TEMPLATES = _PACKAGE / "templates"
TEMPLATES = _PACKAGED_TEMPLATES if _PACKAGED_TEMPLATES.is_dir() else _PACKAGE.parent / "templates"


def create_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    """Wire settings, database, extensions, blueprints and error pages into one application; it changes nothing in
    the database (the entry points migrate: `models.migrate.prepare`, or `plc-bridge db upgrade` in production)."""
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
    app.session_interface = NoCookieSession()
    app.extensions["plc_settings"] = settings
    database = database or Database(settings.database_url)
    outbox_commit.hook(database.engine)  # before any request's thread runs the engine's events
    app.extensions["plc_db"] = database

    i18n.init_app(app, settings)
    limits.init_app(app)
    curriculum.init_app(app)
    observability.init_app(app, database)
    security.init_app(app, database, settings.trusted_proxies, settings.rate_limit_storage)

    # Calls to the platforms' AGS and NRPS services, with tokens cached in the database. The entry points that serve
    # the app share this client with the in-process workers (lti_tool/workers/in_process.py).
    app.extensions["plc_services"] = ServiceClient(database)

    app.jinja_env.globals["launch_address"] = launch_address  # base.html: a launch's page puts its address back
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    if settings.demo_enabled:
        from lti_tool.demo_lms import platform as demo

        demo.init_app(app, database, settings)

    drafts.init_app(app)
    fonts.init_app(app)
    errors.register(app)
    return app


def settle_heap() -> None:
    """For a process that serves the app, once it is made: the ~300,000 objects start-up made (modules, classes,
    tables, the mappers, configured here first) are left out of the cyclic collector's passes (`gc.freeze`; reference
    counting still frees what is let go), and the youngest generation is collected less often
    (YOUNG_COLLECTION_THRESHOLD). Templates and translations load at their first use, after this, and are walked as
    before.

    A full collection otherwise walks them all, holding the GIL: in a PLC day (`bench/load.py --plc-day`) a gunicorn
    worker paused for ~0.4 s in each of them, every request of its threads waiting, and spent 3.6–4.4 s of its ~66 s
    of CPU in the collector; settled, ~1 s (`bench/gc_pause.py` measures both ways in one process). A young
    collection then takes longer (~7–30 ms, against ~1 ms) and comes far less often. Garbage from start-up is
    collected first: a frozen object in a reference cycle is never freed. Not for tests, which make many apps in one
    process."""
    configure_mappers()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])
