"""Fixtures that start the real counterparts: the tool over HTTP, an LTI platform over HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import os
import ssl
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, make_server

from lti_tool.settings import Settings
from lti_tool.web.app import create_app
from lti_tool.workers.in_process import Workers, start_in_process
from models import Base  # the package imports every model, so Base.metadata knows every table
from models.database import Database
from models.keys import ToolKey
from models.launch import SpentNonce
from models.migrate import prepare, upgrade
from models.platform import Deployment, Platform
from tests.support.line_server import LineServer, line_server
from tests.support.lrs import RalphServer, ralph_python
from tests.support.lti_platform import LaunchUser, QuietHandler, TestPlatform, submit_auto_form
from tests.support.moodle import MoodleSite, chosen_source, php, start_site
from tests.support.pg import PG_ADMIN_URL, postgres_available, throwaway_database

LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"

TEACHER = LaunchUser(
    sub="u-teacher-1",
    name="สมศรี ใจดี",
    given_name="สมศรี",
    family_name="ใจดี",
    email="somsri@example.org",
    roles=[LIS + "Learner"],
    locale="th",
)
TRAINER = LaunchUser(
    sub="u-trainer-1",
    name="กาญจนา ทองคำ",
    given_name="กาญจนา",
    family_name="ทองคำ",
    email="kanjana@example.org",
    roles=[LIS + "Instructor"],
    locale="en",
)


BOTH_DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def require_postgres() -> None:
    """Skip when PostgreSQL is away; on CI its absence is a failure, not a skip."""
    if not postgres_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}, and CI=true requires the PostgreSQL tests")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the session."""
    require_postgres()
    with throwaway_database() as url:
        yield url


@pytest.fixture(scope="session", params=BOTH_DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'plc.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=BOTH_DATABASES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of one test's own, on SQLite and on PostgreSQL, with no tables yet (a migration's test), dropped
    after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'own.sqlite3'}"
        return
    require_postgres()
    with throwaway_database("plc_own") as url:
        yield url


@pytest.fixture
def fresh_database(empty_database_url: str) -> Iterator[Database]:
    """`empty_database_url` opened, with no tables yet."""
    database = Database(empty_database_url)
    yield database
    database.dispose()


@pytest.fixture
def migrated_database(fresh_database: Database) -> Database:
    """A database of one test's own, on both databases, migrated to head as `plc-bridge db upgrade` does: for tests
    that commit, run threads or compare whole tables, which the rolled-back `db` session cannot serve."""
    upgrade(fresh_database.engine)
    return fresh_database


def _sqlite_savepoints(engine: Engine) -> None:
    """pysqlite begins transactions late and on its own, which breaks SAVEPOINT; let SQLAlchemy emit BEGIN instead
    (the recipe in SQLAlchemy's pysqlite dialect documentation, "Serializable isolation / Savepoints")."""

    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


@pytest.fixture(scope="session", params=BOTH_DATABASES)
def rules_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A database of its own for the rules' tests, migrated to head once per session as `plc-bridge db upgrade` does;
    apart from the tool's database, so that neither sees the other's rows."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('rules') / 'plc.sqlite3'}"
        else:
            require_postgres()
            url = stack.enter_context(throwaway_database("plc_rules"))
        database = Database(url)
        stack.callback(database.dispose)
        upgrade(database.engine)
        if request.param == "sqlite":
            database.dispose()  # the connections made from now on let SQLAlchemy begin their transactions
            _sqlite_savepoints(database.engine)
        yield database


@pytest.fixture
def db(rules_database: Database) -> Iterator[Session]:
    """A session whose every write is rolled back after the test, on SQLite and on PostgreSQL. It joins an outer
    transaction on one connection through savepoints, so the code under test may commit, roll back and nest."""
    with rules_database.engine.connect() as connection:
        outer = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()
            outer.rollback()


class _LateApp:
    """The WSGI server needs an app before we know its port; the app needs the port for its public URL."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


@dataclass
class ToolServer:
    base_url: str
    settings: Settings
    database: Database
    server: BaseWSGIServer
    app: Any = None
    workers: Workers | None = None  # the delivery threads of the embedded default (worker_thread=True)

    def url(self, path: str) -> str:
        return self.base_url + path

    def counts(self) -> dict[str, int]:
        """Rows per table: a rejected launch must leave every count as it was."""
        with self.database.transaction() as db:
            return {
                table.name: int(db.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables
            }

    def snapshot(self) -> dict[str, Any]:
        """Counts plus the mutable launch state, to prove that nothing at all was written."""
        with self.database.transaction() as db:
            spent = sorted(db.scalars(select(SpentNonce.nonce)))
            jwks = [(p.id, p.key_set_fetched_at) for p in db.scalars(select(Platform).order_by(Platform.id))]
        return {"counts": self.counts(), "spent_nonces": spent, "jwks": jwks}


def start_tool(
    tmp_path: Path,
    database_url: str,
    ssl_context: ssl.SSLContext | None = None,
    host: str = "127.0.0.1",
    **settings_overrides: Any,
) -> ToolServer:
    """The tool on 127.0.0.1, over HTTPS when given a TLS context (tests/support/https.py). `host` names it in its
    public address only (e.g. "localhost": another site than a platform on 127.0.0.1); it listens on 127.0.0.1. The
    personal-data notice is off unless a test turns it on (tests/test_privacy_notice.py): a launch then lands where the
    test expects, as it does for a person who has read the notice, and no test has to acknowledge it first."""
    holder = _LateApp()
    server = make_server("127.0.0.1", 0, holder, threaded=True, request_handler=QuietHandler, ssl_context=ssl_context)
    scheme = "https" if ssl_context is not None else "http"
    base_url = f"{scheme}://{host}:{server.server_port}"
    settings = Settings(
        instance_path=tmp_path,
        database_url=database_url,
        public_base_url=base_url,
        secret_key="test-secret-" + uuid.uuid4().hex,
        **{"worker_thread": False, "privacy_notice": False, **settings_overrides},
    ).resolved()
    database = Database(settings.database_url)
    prepare(database)
    holder.app = create_app(settings, database)
    workers = start_in_process(database, settings, holder.app.extensions["plc_services"])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return ToolServer(base_url, settings, database, server, holder.app, workers)


@pytest.fixture(scope="session")
def tool(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolServer]:
    # Page tests launch many people a minute from one address; the limit itself is tested on a tool of its own.
    server = start_tool(tmp_path_factory.mktemp("instance"), database_url, rate_limit_lti="100000 per minute")
    yield server
    server.server.shutdown()
    server.server.server_close()
    server.database.dispose()


def register(tool: ToolServer, platform: TestPlatform, deployments: tuple[str, ...] | None = None) -> None:
    with tool.database.transaction() as db:
        row = Platform(
            issuer=platform.issuer,
            client_id=platform.client_id,
            name="Test Moodle",
            auth_login_url=platform.auth_login_url,
            auth_token_url=platform.token_url,
            key_set_url=platform.jwks_url,
        )
        row.deployments = [Deployment(deployment_id=d) for d in (deployments or (platform.deployment_id,))]
        db.add(row)


@pytest.fixture(scope="session")
def platform(tool: ToolServer) -> Iterator[TestPlatform]:
    """A Moodle-like platform on 127.0.0.1, registered with the tool for the whole session."""
    test_platform = TestPlatform(client_id="client-1", deployment_id="dep-1")
    test_platform.start()
    test_platform.configure_tool(
        login_url=tool.url("/lti/login"), launch_url=tool.url("/lti/launch"), jwks_url=tool.url("/lti/jwks")
    )
    test_platform.add_user(TEACHER)
    test_platform.add_user(TRAINER)
    register(tool, test_platform)
    yield test_platform
    test_platform.stop()


KEPT_TABLES = frozenset(model.__table__.name for model in (Platform, Deployment, ToolKey))
"""Platform registrations and the tool's keys last the whole session; every other table is test data."""


def delete_test_data(database: Database) -> None:
    """Empty every table but the registrations and keys, children before parents (Base.metadata's order, reversed)."""
    with database.transaction() as db:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in KEPT_TABLES:
                db.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean_launch_data(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with no people, courses, logins, sessions, programs or learning records; registrations and
    keys stay."""
    yield
    if "tool" not in request.fixturenames:
        return
    tool_server: ToolServer = request.getfixturevalue("tool")
    delete_test_data(tool_server.database)
    if "platform" in request.fixturenames:
        test_platform: TestPlatform = request.getfixturevalue("platform")
        test_platform.token_hook = None
        test_platform.form_state_override = None
        test_platform.jwks_mode = "ok"
        test_platform.services.reset()


def launch(
    session: requests.Session,
    platform: TestPlatform,
    user: LaunchUser = TEACHER,
    **initiation: Any,
) -> requests.Response:
    """The whole round trip as a browser makes it: platform → tool login → platform auth → tool launch."""
    params = {
        "sub": user.sub,
        "context_id": "course-42",
        "context_title": "PLC วิทยาศาสตร์ ม.2",
        "resource_link_id": "rl-7",
        "resource_link_title": "วงรอบ PLC ที่ 1",
        "custom": {"activity": "landing"},
    }
    params.update(initiation)
    auth_page = session.get(platform.initiation_url(**params), timeout=10)
    assert auth_page.status_code == 200, auth_page.text[:500]
    return submit_auto_form(session, auth_page)


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright; on CI its absence is a failure, not a skip."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is missing; scripts/test.sh installs it")
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RalphServer]:
    """A real Ralph LRS (file-system backend) on 127.0.0.1; on CI its absence is a failure, not a skip."""
    python = ralph_python()
    if python is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Ralph's virtual environment is missing; scripts/test.sh makes .venv-ralph")
        pytest.skip("Ralph is not installed (scripts/test.sh makes .venv-ralph)")
    server = RalphServer(tmp_path_factory.mktemp("ralph"), python).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moodle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MoodleSite]:
    """A real Moodle (../shared/moodle/, newest version unless PLC_MOODLE_VERSION) on PostgreSQL, served by PHP's
    built-in server; on CI its absence is a failure, not a skip (scripts/test.sh installs PHP)."""
    source = chosen_source()
    missing = (
        "no Moodle in ../shared/moodle/"
        if source is None
        else "PHP is not installed"
        if php() is None
        else "PostgreSQL is not reachable on 127.0.0.1:5432"
        if not postgres_available()
        else ""
    )
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"The Moodle tests must run on CI: {missing}")
        pytest.skip(f"The Moodle tests need a Moodle: {missing}")
    assert source is not None
    site = start_site(source, tmp_path_factory.mktemp("moodle"))
    yield site
    site.stop()


class _Lines(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.INFO)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def launch_log() -> Iterator[list[str]]:
    """The launch view's log lines, read on its own logger: the app factory replaces the root's handlers, and an
    Alembic run of another test (its logging fileConfig) may have disabled the loggers that existed then."""
    logger = logging.getLogger("lti_tool.web.views.lti")
    lines: list[str] = []
    handler, level, disabled = _Lines(lines), logger.level, logger.disabled
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.disabled = False
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(level)
    logger.disabled = disabled


@pytest.fixture
def line_api(tool: ToolServer, platform: TestPlatform, monkeypatch: pytest.MonkeyPatch) -> Iterator[LineServer]:
    """The local LINE Messaging API (tests/support/line_server.py), its webhook pointed at the tool for `platform`,
    and the tool calling it instead of LINE."""
    with tool.database.transaction() as db:
        platform_id = db.scalars(select(Platform.id).where(Platform.issuer == platform.issuer)).one()
    with line_server(webhook_url=tool.url(f"/line/webhook/{platform_id}")) as server:
        monkeypatch.setattr(tool.settings, "line_api_base_url", server.base_url)
        monkeypatch.setattr(tool.settings, "line_timeout_seconds", 2.0)
        yield server
