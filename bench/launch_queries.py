"""The SQL statements one launch round trip sends, step by step (login, launch, the page after it), for bench/launch.py.

PLC Bridge runs in this process for this count (werkzeug's threaded server on 127.0.0.1, the same settings and
database as the timed server), with SQLAlchemy's `before_cursor_execute` and `commit` events counting what each
request sends (on PostgreSQL, the learning records sent with the commit count as statements too). A statement is named
by the path of the request it serves: /lti/login, /lti/launch, and everything else is the first page (which the launch
asks for in its own answer, lti_tool/web/launch_answer.py, or the browser after a redirect).
The first launch of a person inserts their rows; the figures are the steady state, a person launching again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import has_request_context, request
from sqlalchemy import event

from bench.harness import served_in_process
from xapi import outbox_commit

STEPS = ("login", "launch", "first page")


def _step_of(path: str) -> str:
    if path.startswith("/lti/login"):
        return "login"
    if path.startswith("/lti/launch"):
        return "launch"
    return "first page"


def _step_now() -> str | None:
    """The step of the request this thread serves now (None outside one)."""
    return _step_of(request.path) if has_request_context() else None


class QueryCounter:
    """Statements and commits per step, over the requests of the launches counted (`counting` on)."""

    def __init__(self) -> None:
        self.statements: Counter[str] = Counter()
        self.commits: Counter[str] = Counter()
        self.sql: dict[str, list[str]] = {step: [] for step in STEPS}
        self.counting = False

    def listen(self, engine: Any) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def _statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            step = _step_now()
            if self.counting and step is not None:
                self.statements[step] += 1
                self.sql[step].append(" ".join(statement.split())[:160])

        @event.listens_for(engine, "commit")  # listened to before the app's: it runs before the outbox's own
        def _commit(conn: Any) -> None:
            step = _step_now()
            if self.counting and step is not None:
                self.commits[step] += 1
                # PostgreSQL: learning records written with the commit, in its round trip (xapi/outbox_commit.py),
                # below SQLAlchemy's statement events; each is still a statement the database runs.
                waiting = outbox_commit.pending(conn)
                self.statements[step] += waiting
                self.sql[step] += ["INSERT INTO xapi_statements … (with the COMMIT)"] * waiting


def count_launch_queries(
    platform: Any, settings_overrides: dict[str, Any], launch: Callable[[], None], port: int, launches: int = 5
) -> tuple[dict[str, float], dict[str, float], dict[str, list[str]]]:
    """Statements and commits per launch, per step, averaged over `launches` launches after a first one; and the SQL
    of one launch's steps (for --show-sql)."""
    from lti_tool.settings import load_settings
    from lti_tool.web.app import create_app
    from models.database import Database

    settings = load_settings(**settings_overrides, public_base_url=f"http://127.0.0.1:{port}")
    database, counter = Database(settings.database_url), QueryCounter()
    counter.listen(database.engine)  # first: its commit listener sees the records the outbox's sends with the COMMIT
    app = create_app(settings, database)
    try:
        with served_in_process(app, port, platform):
            launch()  # the platform's keys fetched once, the person's rows already there
            counter.counting = True
            launch()
            one = {step: list(counter.sql[step]) for step in STEPS}
            for _ in range(launches - 1):
                launch()
            counter.counting = False
    finally:
        app.extensions["plc_db"].dispose()
    statements = {step: counter.statements[step] / launches for step in STEPS}
    commits = {step: counter.commits[step] / launches for step in STEPS}
    return statements, commits, one
