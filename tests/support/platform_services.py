"""The test platform's LTI Advantage services over HTTP: AGS line items, scores and results, NRPS memberships with
paging, and the token endpoint's bookkeeping, each with fault switches for the tool's negative tests.

The token endpoint itself is lti1p3platform's (tests/support/lti_platform.py): it verifies the tool's client
assertion against the tool's JWKS and issues a bearer JWT signed by the platform with the granted scopes. Here
that view is wrapped to count requests and to fail on demand, and every service checks the bearer token's
signature, expiry and scope the way Moodle's services do (401 without a valid token, 403 without the scope).

    platform.services.ags_mode = "down"        # 503 from every AGS endpoint
    platform.services.nrps_mode = "loop"       # the last page's next link goes back to the first
    platform.services.received_scores          # every score POST the platform accepted
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

import jwt
from flask import Flask, Response, jsonify, request

if TYPE_CHECKING:
    from tests.support.lti_platform import TestPlatform

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MOODLE_AGS_SCOPES = [SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT, SCOPE_SCORE]


@dataclass
class ReceivedScore:
    lineitem_id: str
    score: dict[str, Any]
    applied: bool  # False when the platform kept a newer (or the same) score it already had


@dataclass
class PlatformServices:
    """State and fault switches; `reset()` puts them back between tests."""

    platform: TestPlatform
    # "ok" | "down" (503) | "error" (500) | "garbage" (200, not JSON) | "refuse" (401 invalid_client) | "slow"
    token_mode: str = "ok"
    # "ok" | "down" (503) | "error" (500) | "garbage" (200, not JSON) | "forbidden" (403) | "bad_request" (400) | "slow"
    ags_mode: str = "ok"
    # "ok" | "down" | "garbage" | "loop" (last page → first) | "self_loop" (page 2 → page 2) | "slow"
    nrps_mode: str = "ok"
    slow_seconds: float = 3.0
    page_size: int = 50
    ags_scopes: list[str] = field(default_factory=lambda: list(MOODLE_AGS_SCOPES))
    token_lifetime: int = 3600
    offer_ags: bool = True  # launches carry the AGS claim
    offer_nrps: bool = True  # launches carry the NRPS claim
    token_requests: int = 0
    token_scopes: list[str] = field(default_factory=list)
    issued_tokens: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)  # tokens that answer 401 (a platform that revoked them)
    lineitems: dict[str, dict[str, Any]] = field(default_factory=dict)  # line item id (URL) → line item
    lineitem_creations: int = 0
    received_scores: list[ReceivedScore] = field(default_factory=list)
    results: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (line item, user) → score
    link_lineitems: dict[str, str] = field(default_factory=dict)  # resource link id → a line item Moodle made
    rosters: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # context id → NRPS members
    service_requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _next_id: int = 1

    def reset(self) -> None:
        with self._lock:
            self.token_mode = self.ags_mode = self.nrps_mode = "ok"
            self.slow_seconds, self.page_size, self.token_lifetime = 3.0, 50, 3600
            self.ags_scopes = list(MOODLE_AGS_SCOPES)
            self.offer_ags = self.offer_nrps = True
            self.token_requests, self.service_requests, self.lineitem_creations = 0, 0, 0
            self.token_scopes = []
            self.issued_tokens, self.revoked = [], set()
            self.lineitems, self.received_scores, self.results = {}, [], {}
            self.link_lineitems, self.rosters = {}, {}

    # --- what launches carry -------------------------------------------------------------------------------

    def lineitems_url(self, context_id: str) -> str:
        return f"{self.platform.issuer}/ags/{quote(context_id, safe='')}/lineitems"

    def memberships_url(self, context_id: str) -> str:
        return f"{self.platform.issuer}/nrps/{quote(context_id, safe='')}/memberships"

    def launch_claims(self, context_id: str, resource_link_id: str) -> dict[str, Any]:
        """The AGS and NRPS claims Moodle 4.x adds to a resource link launch of a tool with both services on."""
        ags: dict[str, Any] = {"scope": list(self.ags_scopes), "lineitems": self.lineitems_url(context_id)}
        if resource_link_id in self.link_lineitems:
            ags["lineitem"] = self.link_lineitems[resource_link_id]
        nrps = {"context_memberships_url": self.memberships_url(context_id), "service_versions": ["2.0"]}
        return {**({AGS_CLAIM: ags} if self.offer_ags else {}), **({NRPS_CLAIM: nrps} if self.offer_nrps else {})}

    def add_lineitem(self, context_id: str, **fields: Any) -> str:
        """A line item made on the platform side (as Moodle makes one for a graded activity); returns its URL."""
        with self._lock:
            item_id = f"{self.lineitems_url(context_id)}/{self._next_id}"
            self._next_id += 1
            self.lineitems[item_id] = {
                "id": item_id,
                "scoreMaximum": 100,
                "label": "",
                **fields,
                "_context": context_id,
            }
        return item_id

    def revoke_tokens(self) -> None:
        """Every token issued so far answers 401 from now on (Moodle drops tokens when a tool is re-registered)."""
        with self._lock:
            self.revoked.update(self.issued_tokens)

    def scores_for(self, user_id: str) -> list[ReceivedScore]:
        return [s for s in self.received_scores if s.score.get("userId") == user_id]

    # --- HTTP ---------------------------------------------------------------------------------------------

    def install(self, app: Flask) -> None:
        services = self
        token_view = app.view_functions["token"]

        def token() -> Any:
            with services._lock:
                services.token_requests += 1
                mode = services.token_mode
            if mode == "slow":
                time.sleep(services.slow_seconds)
            if mode == "down":
                return Response("unavailable", status=503, mimetype="text/plain")
            if mode == "error":
                return Response("internal error", status=500, mimetype="text/plain")
            if mode == "garbage":
                return Response("<html>login page</html>", status=200, mimetype="text/html")
            if mode == "refuse":
                return jsonify({"error": "invalid_client", "error_description": "unknown key"}), 401
            response = token_view()
            body, status = response if isinstance(response, tuple) else (response, 200)
            if status != 200:
                return response
            granted = body.get_json()
            # lti1p3platform's token is the same JWT for the same second; a jti tells two tokens apart (RFC 7519).
            claims = jwt.decode(granted["access_token"], options={"verify_signature": False})
            granted["access_token"] = jwt.encode(
                {**claims, "jti": secrets.token_hex(8)},
                services.platform.signing_key,
                algorithm="RS256",
                headers={"kid": services.platform.kid},
            )
            granted["expires_in"] = services.token_lifetime
            with services._lock:
                services.token_scopes.append(granted.get("scope", ""))
                services.issued_tokens.append(granted["access_token"])
            return jsonify(granted), 200

        app.view_functions["token"] = token

        def authorized(scope: str | tuple[str, ...], fault_mode: str) -> Response | None:
            with services._lock:
                services.service_requests += 1
            if fault_mode == "slow":
                time.sleep(services.slow_seconds)
            if fault_mode == "down":
                return Response("unavailable", status=503, mimetype="text/plain")
            if fault_mode == "error":
                return Response("internal error", status=500, mimetype="text/plain")
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return _oauth_error(401, "invalid_token", "no bearer token")
            try:
                claims = jwt.decode(
                    header[7:], services.platform.signing_key.public_key(), algorithms=["RS256"], leeway=0
                )
            except jwt.PyJWTError as exc:
                return _oauth_error(401, "invalid_token", str(exc))
            if claims.get("iss") != services.platform.issuer or header[7:] in services.revoked:
                return _oauth_error(401, "invalid_token", "revoked")
            wanted = (scope,) if isinstance(scope, str) else scope
            if not set(wanted) & set(str(claims.get("scopes", "")).split()):
                return _oauth_error(403, "insufficient_scope", " ".join(wanted))
            if fault_mode == "forbidden":
                return Response("forbidden by the platform", status=403, mimetype="text/plain")
            if fault_mode == "bad_request":
                return Response("the platform cannot use this", status=400, mimetype="text/plain")
            return None

        @app.route("/ags/<context_id>/lineitems", methods=["GET", "POST"])
        def lineitems(context_id: str) -> Any:
            context_id = unquote(context_id)
            scopes = (SCOPE_LINEITEM,) if request.method == "POST" else (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
            refused = authorized(scopes, services.ags_mode)
            if refused is not None:
                return refused
            if services.ags_mode == "garbage":
                return Response("<html>oops</html>", status=200, mimetype="text/html")
            if request.method == "POST":
                if request.mimetype != LINEITEM_TYPE:
                    return Response("unsupported media type", status=415)
                document = request.get_json(silent=True)
                if not isinstance(document, dict) or not document.get("label") or not document.get("scoreMaximum"):
                    return Response("a line item needs a label and a scoreMaximum", status=400)
                with services._lock:
                    services.lineitem_creations += 1
                item_id = services.add_lineitem(context_id, **document)
                return _lineitem_json(services.lineitems[item_id], 201)
            with services._lock:
                items = [i for i in services.lineitems.values() if i["_context"] == context_id]
            for param, key in (("resource_id", "resourceId"), ("tag", "tag"), ("resource_link_id", "resourceLinkId")):
                if request.args.get(param):
                    items = [i for i in items if i.get(key) == request.args[param]]
            return jsonify([{k: v for k, v in i.items() if not k.startswith("_")} for i in items])

        @app.get("/ags/<context_id>/lineitems/<int:number>")
        def lineitem(context_id: str, number: int) -> Any:
            refused = authorized((SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY), services.ags_mode)
            if refused is not None:
                return refused
            item = services.lineitems.get(f"{services.lineitems_url(unquote(context_id))}/{number}")
            return _lineitem_json(item, 200) if item else Response("no such line item", status=404)

        @app.post("/ags/<context_id>/lineitems/<int:number>/scores")
        def scores(context_id: str, number: int) -> Any:
            refused = authorized(SCOPE_SCORE, services.ags_mode)
            if refused is not None:
                return refused
            if services.ags_mode == "garbage":
                return Response("<html>oops</html>", status=502, mimetype="text/html")
            item_id = f"{services.lineitems_url(unquote(context_id))}/{number}"
            if item_id not in services.lineitems:
                return Response("no such line item", status=404)
            if request.mimetype != SCORE_TYPE:
                return Response("unsupported media type", status=415)
            score = request.get_json(silent=True)
            required = ("userId", "activityProgress", "gradingProgress", "timestamp")
            if not isinstance(score, dict) or any(not score.get(k) for k in required):
                return Response("a score needs userId, activityProgress, gradingProgress and timestamp", status=400)
            if "scoreGiven" in score and "scoreMaximum" not in score:
                return Response("scoreGiven needs scoreMaximum", status=400)
            with services._lock:
                key = (item_id, score["userId"])
                previous = services.results.get(key)
                # AGS §3.4.7: a score whose timestamp is not newer than the one on record changes nothing.
                applied = previous is None or score["timestamp"] > previous["timestamp"]
                if applied:
                    services.results[key] = score
                services.received_scores.append(ReceivedScore(item_id, score, applied))
            return Response(status=204)

        @app.get("/ags/<context_id>/lineitems/<int:number>/results")
        def results(context_id: str, number: int) -> Any:
            refused = authorized(SCOPE_RESULT, services.ags_mode)
            if refused is not None:
                return refused
            item_id = f"{services.lineitems_url(unquote(context_id))}/{number}"
            with services._lock:
                found = [(user, s) for (item, user), s in services.results.items() if item == item_id]
            return jsonify(
                [
                    {
                        "id": f"{item_id}/results/{user}",
                        "scoreOf": item_id,
                        "userId": user,
                        "resultScore": s.get("scoreGiven"),
                        "resultMaximum": s.get("scoreMaximum"),
                        "comment": s.get("comment", ""),
                    }
                    for user, s in found
                ]
            )

        @app.get("/nrps/<context_id>/memberships")
        def memberships(context_id: str) -> Any:
            context_id = unquote(context_id)
            refused = authorized(SCOPE_NRPS, services.nrps_mode)
            if refused is not None:
                return refused
            if services.nrps_mode == "garbage":
                return Response("<html>oops</html>", status=200, mimetype="text/html")
            members = services.roster(context_id)
            page = max(int(request.args.get("page", "1") or 1), 1)
            size = services.page_size
            pages = max((len(members) + size - 1) // size, 1)
            body = {
                "id": request.url,
                "context": {"id": context_id, "label": context_id, "title": context_id},
                "members": members[(page - 1) * size : page * size],
            }
            response = Response(_json_text(body), mimetype=MEMBERSHIP_TYPE)
            base = services.memberships_url(context_id)
            next_page: int | None = page + 1 if page < pages else None
            if services.nrps_mode == "loop" and page == pages:
                next_page = 1
            if services.nrps_mode == "self_loop" and page == min(2, pages):
                next_page = page
            if next_page is not None:
                response.headers["Link"] = f'<{base}?page={next_page}>; rel="next"'
            return response

    def roster(self, context_id: str) -> list[dict[str, Any]]:
        """The context's NRPS members: the ones set for it, else every platform user, all Active."""
        if context_id in self.rosters:
            return self.rosters[context_id]
        return [
            {
                "user_id": user.sub,
                "status": "Active",
                "name": user.name,
                "given_name": user.given_name,
                "family_name": user.family_name,
                "email": user.email,
                "roles": list(user.roles),
            }
            for user in self.platform.users.values()
        ]


def _oauth_error(status: int, error: str, description: str) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer error="{error}"'
    return response


def _lineitem_json(item: dict[str, Any], status: int) -> Response:
    response = jsonify({k: v for k, v in item.items() if not k.startswith("_")})
    response.status_code = status
    response.mimetype = LINEITEM_TYPE
    return response


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
