"""The demo LMS's LTI Advantage services, so a newcomer sees a grade arrive: the token endpoint (client-credentials
with the tool's signed assertion, checked against the tool's JWKS by lti1p3platform), AGS line items, scores and
results, NRPS memberships of the six demo people, and a gradebook page.

Like the rest of the demo it keeps its state in a file in the instance folder (`demo-gradebook.json`): one
process, one file, a lock. Line items a Deep Linking answer declared are made when the activity is first launched,
as Moodle makes a grade item when the activity is created.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from lti_tool.demo_lms import advantage as demo_advantage
from lti_tool.demo_lms.lti_platform import (
    bearer_refusal,
    check_client_assertion,
    matching_lineitems,
    member,
    result,
    service_claims,
    supersedes,
    token_answer,
)
from lti_tool.lti.claims import LINEITEM_TYPE, SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_SCORE, SCORE_TYPE
from lti_tool.lti.claims import MEMBERSHIP_CONTAINER_TYPE as MEMBERSHIP_TYPE
from lti_tool.lti.claims import SCOPE_MEMBERSHIPS as SCOPE_NRPS
from lti_tool.lti.claims import SCOPE_RESULT_READONLY as SCOPE_RESULT
from lti_tool.settings import Settings

STATE_FILE = "demo-gradebook.json"
_lock = threading.Lock()


def _settings() -> Settings:
    value: Settings = current_app.extensions["plc_settings"]
    return value


def _load(settings: Settings) -> dict[str, Any]:
    path = settings.instance_path / STATE_FILE
    if not path.exists():
        return {"next_id": 1, "lineitems": [], "results": []}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _save(settings: Settings, state: dict[str, Any]) -> None:
    path = settings.instance_path / STATE_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    temporary.replace(path)


def _add_lineitem(state: dict[str, Any], issuer: str, document: dict[str, Any]) -> dict[str, Any]:
    item = {
        "id": f"{issuer}/ags/lineitems/{state['next_id']}",
        "label": str(document.get("label") or "PLC Bridge")[:255],
        "scoreMaximum": document["scoreMaximum"],
        **{k: str(document[k])[:255] for k in ("resourceId", "tag", "resourceLinkId") if document.get(k)},
    }
    state["next_id"] += 1
    state["lineitems"].append(item)
    return item


def launch_claims(issuer: str, resource_link_id: str, declared: dict[str, Any] | None) -> dict[str, Any]:
    """The AGS and NRPS claims of a resource link launch; a line item the activity declared is made first."""
    item: dict[str, Any] | None = None
    if declared and isinstance(declared.get("scoreMaximum"), int | float):
        settings = _settings()
        with _lock:
            state = _load(settings)
            item = next((i for i in state["lineitems"] if i.get("resourceLinkId") == resource_link_id), None)
            if item is None:
                item = _add_lineitem(state, issuer, {**declared, "resourceLinkId": resource_link_id})
                _save(settings, state)
    lineitem = item["id"] if item is not None else None
    return service_claims(issuer + "/ags/lineitems", issuer + "/nrps/memberships", lineitem=lineitem)


def _gradebook(settings: Settings, people: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Columns (line items) and rows (people with their score in each column)."""
    with _lock:
        state = _load(settings)
    results = {(r["lineitem"], r["userId"]): r for r in state["results"]}
    rows = []
    for person in people:
        cells = []
        for item in state["lineitems"]:
            result = results.get((item["id"], person.sub))
            if result is not None:
                result = {**result, "at": datetime.fromisoformat(result["timestamp"])}
            cells.append(result)
        rows.append({"person": person, "cells": cells})
    return state["lineitems"], rows


def init_routes(bp: Blueprint, issuer_of: Any, platform_conf: Any, people: Any) -> None:
    """Add the services and the gradebook page to the demo LMS's blueprint."""

    def issuer() -> str:
        value: str = issuer_of(_settings())
        return value

    def public_key() -> Any:
        config = platform_conf(settings=_settings())
        return config.get_registration().get_platform_public_key()

    def refused(scopes: tuple[str, ...]) -> Response | None:
        return bearer_refusal(request.headers.get("Authorization", ""), public_key(), issuer(), scopes)

    @bp.post("/token")
    def token() -> tuple[Response, int]:
        config = platform_conf(settings=_settings())
        client_id = config.get_registration().get_client_id()
        answer, status = token_answer(
            config,
            request.form.to_dict(),
            lambda assertion: check_client_assertion(assertion, client_id, issuer() + "/token"),
        )
        return jsonify(answer), status

    @bp.route("/ags/lineitems", methods=["GET", "POST"])
    def lineitems() -> Any:
        denied = refused((SCOPE_LINEITEM,) if request.method == "POST" else (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY))
        if denied:
            return denied
        settings = _settings()
        if request.method == "POST":
            document = request.get_json(silent=True, force=True)
            if not isinstance(document, dict) or not isinstance(document.get("scoreMaximum"), int | float):
                return jsonify({"error": "a line item needs a scoreMaximum"}), 400
            with _lock:
                state = _load(settings)
                item = _add_lineitem(state, issuer(), document)
                _save(settings, state)
            response = jsonify(item)
            response.status_code, response.mimetype = 201, LINEITEM_TYPE
            return response
        with _lock:
            items = _load(settings)["lineitems"]
        return jsonify(matching_lineitems(items, request.args))

    @bp.post("/ags/lineitems/<int:number>/scores")
    def scores(number: int) -> Any:
        denied = refused((SCOPE_SCORE,))
        if denied:
            return denied
        score = request.get_json(silent=True, force=True)
        if request.mimetype != SCORE_TYPE or not isinstance(score, dict):
            return jsonify({"error": f"a score is {SCORE_TYPE}"}), 415
        if not all(score.get(k) for k in ("userId", "timestamp", "activityProgress", "gradingProgress")):
            return jsonify({"error": "a score needs userId, timestamp, activityProgress and gradingProgress"}), 400
        settings = _settings()
        item_id = f"{issuer()}/ags/lineitems/{number}"
        with _lock:
            state = _load(settings)
            if not any(i["id"] == item_id for i in state["lineitems"]):
                return jsonify({"error": "no such line item"}), 404
            kept = [r for r in state["results"] if (r["lineitem"], r["userId"]) == (item_id, score["userId"])]
            if supersedes(score, kept[0] if kept else None):
                state["results"] = [r for r in state["results"] if r not in kept]
                state["results"].append({"lineitem": item_id, **score})
                _save(settings, state)
        return Response(status=204)

    @bp.get("/ags/lineitems/<int:number>/results")
    def results(number: int) -> Any:
        denied = refused((SCOPE_RESULT,))
        if denied:
            return denied
        item_id = f"{issuer()}/ags/lineitems/{number}"
        with _lock:
            found = [r for r in _load(_settings())["results"] if r["lineitem"] == item_id]
        return jsonify([result(item_id, r["userId"], r) for r in found])

    @bp.get("/nrps/memberships")
    def memberships() -> Any:
        denied = refused((SCOPE_NRPS,))
        if denied:
            return denied
        members = [member(p.sub, p.name, p.given_name, p.family_name, p.email, p.roles) for p in people.people]
        body = {"id": request.url, "context": {"id": people.id, "label": people.label, "title": people.title}}
        response = jsonify({**body, "members": members})
        response.mimetype = MEMBERSHIP_TYPE
        return response

    @bp.get("/gradebook")
    def gradebook() -> str:
        columns, rows = _gradebook(_settings(), people.people)
        activities = {a.id: a.title for a in demo_advantage.activities(_settings())}
        return render_template("demo/gradebook.html", course=people, columns=columns, rows=rows, activities=activities)
