"""Logs with a request id (text or JSON), and Prometheus metrics: launches, refusals by reason, the outbox."""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from pythonjsonlogger.json import JsonFormatter

from models.database import Database

LAUNCHES = Counter("plc_launches_total", "LTI launches accepted", ["role"])
LAUNCHES_REJECTED = Counter("plc_launches_rejected_total", "LTI logins and launches refused", ["reason"])
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure_logging(level: str, log_format: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s", rename_fields={"asctime": "time"}
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migration chatter is not news for an operator


class OutboxCollector:
    """Outbox counts per destination and state, read from the database at scrape time (all processes agree)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from sqlalchemy import func, select

        from models.outbox import Delivery

        family = GaugeMetricFamily(
            "plc_outbox_deliveries", "Learning-record deliveries", labels=["destination", "state"]
        )
        try:
            with self.database.transaction() as db:
                rows = db.execute(
                    select(Delivery.destination, Delivery.state, func.count()).group_by(
                        Delivery.destination, Delivery.state
                    )
                ).all()
        except Exception:  # a scrape must not fail because the database is away; /readyz reports that
            rows = []
        for destination, state, count in rows:
            family.add_metric([destination, state], float(count))
        yield family


def init_app(app: Flask, database: Database) -> None:
    @app.before_request
    def assign_request_id() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response

    outbox_collector = OutboxCollector(database)

    @app.get("/metrics")
    def metrics() -> Response:
        registry: Any
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Under gunicorn every worker counts on its own; the multiprocess collector adds them up.
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
        else:
            registry = CollectorRegistry()
            registry.register(LAUNCHES)
            registry.register(LAUNCHES_REJECTED)
        registry.register(outbox_collector)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
