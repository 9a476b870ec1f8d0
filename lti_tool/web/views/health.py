"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import func, select, text

from lti_tool.web.session import database, settings
from models.base import utcnow
from models.migrate import current_revision, head_revision
from models.outbox import Delivery, DeliveryState

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and answering; says nothing about the database (that is /readyz)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready to serve: database reachable, schema at the latest migration, learning records not piling up."""
    problems: list[str] = []
    checks: dict[str, object] = {}
    try:
        with database().transaction() as db:
            db.execute(text("SELECT 1"))
            oldest = db.scalar(
                select(func.min(Delivery.created_at)).where(Delivery.state == DeliveryState.PENDING.value)
            )
        checks["database"] = "ok"
        revision, head = current_revision(database().engine), head_revision()
        checks["schema"] = revision
        if revision != head:
            problems.append(f"schema at {revision}, expected {head}: run `plc-bridge db upgrade`")
        lag = (utcnow() - oldest).total_seconds() if oldest else 0.0
        checks["outbox_lag_seconds"] = round(lag, 1)
        if lag > settings().readiness_max_outbox_lag_seconds:
            problems.append(
                f"the oldest waiting learning record is {lag:.0f} s old: is a worker running, is the LRS up?"
            )
    except Exception as exc:  # any failure to reach the database means not ready
        checks["database"] = type(exc).__name__
        problems.append("database unreachable")
    status = 503 if problems else 200
    return jsonify(status="ready" if not problems else "not ready", checks=checks, problems=problems), status
