"""The Moodle-like platform's LTI Advantage services over HTTP: its token endpoint, AGS line items, scores and
results, NRPS memberships with paging, and the bookkeeping a test or a benchmark reads afterwards.

The token endpoint is lti1p3platform's (see lti_platform.token_answer): it verifies the tool's client assertion
against the tool's JWKS and issues a bearer JWT signed by the platform with the granted scopes. Every service
checks the bearer token's signature, expiry and scope the way Moodle's services do (401 without a valid token,
403 without the scope). `_fault` and `_next_page` are where the tests' subclass fails on demand.

    platform.services.received_scores          # every score POST the platform accepted
    platform.services.rosters["course-1"] = [lti_platform.member(...), ...]
    platform.services.suspend("course-1", "u-2")   # Moodle's NRPS then leaves u-2 out (active enrolments only)
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

import jwt
from flask import Flask, Response, jsonify, request

from lti_tool.demo_lms.lti_platform import (
    AGS_SCOPES,
    bearer_refusal,
    matching_lineitems,
    member,
    result,
    service_claims,
    supersedes,
)
from lti_tool.lti.claims import AGS_ENDPOINT as AGS_CLAIM
from lti_tool.lti.claims import LINEITEM_TYPE, SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_SCORE, SCORE_TYPE
from lti_tool.lti.claims import MEMBERSHIP_CONTAINER_TYPE as MEMBERSHIP_TYPE
from lti_tool.lti.claims import NAMES_ROLES_SERVICE as NRPS_CLAIM
from lti_tool.lti.claims import SCOPE_MEMBERSHIPS as SCOPE_NRPS
from lti_tool.lti.claims import SCOPE_RESULT_READONLY as SCOPE_RESULT

if TYPE_CHECKING:
    from lti_tool.demo_lms.moodle_like import MoodleLikePlatform

# Moodle's defaults for outgoing HTTP (Site administration > General > Security > HTTP security): lib/setuplib.php and
# admin/settings/security.php of Moodle 4.5.
MOODLE_BLOCKED_HOSTS = (
    "127.0.0.0/8",
    "192.168.0.0/16",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "0.0.0.0",
    "localhost",
    "169.254.169.254",
    "0000::1",
)
MOODLE_ALLOWED_PORTS = (443, 80)
# What Moodle 4.5's token.php answers when it cannot fetch the tool's keyset: the TypeError escapes its catch
# (Exception only), and Moodle's exception handler answers its error page as HTTP 404 (seen with Moodle 4.5.6).
KEYSET_EXCEPTION_PAGE = """<!DOCTYPE html>
<html dir="ltr" lang="en" xml:lang="en">
<head><title>Error | District LMS</title></head>
<body id="page-mod-lti-token">
<div role="main"><div class="box errorbox alert alert-danger">
<p class="errormessage">Exception - mod_lti\\local\\ltiopenid\\jwks_helper::fix_jwks_alg(): Argument #1 ($jwks) must be
of type array, null given, called in [dirroot]/mod/lti/locallib.php</p>
</div></div>
</body>
</html>
"""


def curl_blocks(url: str, blocked_hosts: tuple[str, ...], allowed_ports: tuple[int, ...]) -> bool:
    """Whether Moodle's curl security (core\\files\\curl_security_helper) refuses an outgoing call to `url`: its
    host is in the blocked list (a name, an address or a CIDR range), or its port is not allowed (empty: any)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if allowed_ports and port not in allowed_ports:
        return True
    for entry in blocked_hosts:
        if host == entry.lower():
            return True
        try:
            if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


@dataclass
class ReceivedScore:
    lineitem_id: str
    score: dict[str, Any]
    applied: bool  # False when the platform kept a newer (or the same) score it already had


@dataclass
class AdvantageServices:
    """The services' state; `reset()` puts it back between tests."""

    platform: MoodleLikePlatform
    page_size: int = 50
    ags_scopes: list[str] = field(default_factory=lambda: list(AGS_SCOPES))
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
    # context id → user ids whose enrolment is suspended, or who were unenrolled (Moodle: enrolment removed).
    suspended: dict[str, set[str]] = field(default_factory=dict)
    unenrolled: dict[str, set[str]] = field(default_factory=dict)
    # Moodle's NRPS lists active enrolments only: a suspended member (or a roster entry with status Inactive) is
    # left out, never sent as Inactive. True: listed with status Inactive, as NRPS §2.3 allows other platforms to.
    lists_suspended: bool = False
    service_requests: int = 0
    # Moodle's HTTP security for the calls it makes (fetching the tool's keyset): empty, as the tests' Moodle is set up
    # (../shared/moodle/README.md); `moodle_default_http_security()` puts back Moodle's defaults.
    curl_blocked_hosts: tuple[str, ...] = ()
    curl_allowed_ports: tuple[int, ...] = ()
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _next_id: int = 1

    def reset(self) -> None:
        with self._lock:
            self.page_size, self.token_lifetime = 50, 3600
            self.ags_scopes = list(AGS_SCOPES)
            self.offer_ags = self.offer_nrps = True
            self.token_requests, self.service_requests, self.lineitem_creations = 0, 0, 0
            self.token_scopes = []
            self.issued_tokens, self.revoked = [], set()
            self.lineitems, self.received_scores, self.results = {}, [], {}
            self.link_lineitems, self.rosters = {}, {}
            self.curl_blocked_hosts, self.curl_allowed_ports = (), ()
            self.suspended, self.unenrolled, self.lists_suspended = {}, {}, False

    def moodle_default_http_security(self) -> None:
        """Moodle's default curlsecurityblockedhosts and curlsecurityallowedport: a tool on 127.0.0.1 or on a port
        other than 80/443 cannot have its keyset fetched, so the token endpoint answers its exception page."""
        self.curl_blocked_hosts, self.curl_allowed_ports = MOODLE_BLOCKED_HOSTS, MOODLE_ALLOWED_PORTS

    # --- what launches carry -------------------------------------------------------------------------------

    def lineitems_url(self, context_id: str) -> str:
        return f"{self.platform.issuer}/ags/{quote(context_id, safe='')}/lineitems"

    def memberships_url(self, context_id: str) -> str:
        return f"{self.platform.issuer}/nrps/{quote(context_id, safe='')}/memberships"

    def launch_claims(self, context_id: str, resource_link_id: str) -> dict[str, Any]:
        """The AGS and NRPS claims Moodle 4.x adds to a resource link launch of a tool with both services on."""
        claims = service_claims(
            self.lineitems_url(context_id),
            self.memberships_url(context_id),
            self.ags_scopes,
            self.link_lineitems.get(resource_link_id),
        )
        offered = {AGS_CLAIM: self.offer_ags, NRPS_CLAIM: self.offer_nrps}
        return {name: claim for name, claim in claims.items() if offered[name]}

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

    def add_deep_linked_activity(
        self, context_id: str, resource_link_id: str, content_item: dict[str, Any]
    ) -> str | None:
        """What Moodle does when a trainer saves a tool's Deep Linking `ltiResourceLink`: the activity (a resource link
        its launches will name) and, when the item carries a `lineItem`, its gradebook column with the tool's
        `resourceId` and `tag` kept (mod/lti/service/gradebookservices). Returns the line item's URL, if any; no
        launch of the new activity is needed for the line items service to list it."""
        declared = content_item.get("lineItem")
        if not isinstance(declared, dict):
            return None
        item_id = self.add_lineitem(
            context_id,
            label=str(declared.get("label") or content_item.get("title") or ""),
            scoreMaximum=declared.get("scoreMaximum", 100),
            resourceId=str(declared.get("resourceId") or ""),
            tag=str(declared.get("tag") or ""),
            resourceLinkId=resource_link_id,
        )
        with self._lock:
            self.link_lineitems[resource_link_id] = item_id
        return item_id

    def revoke_tokens(self) -> None:
        """Every token issued so far answers 401 from now on (Moodle drops tokens when a tool is re-registered)."""
        with self._lock:
            self.revoked.update(self.issued_tokens)

    def scores_for(self, user_id: str) -> list[ReceivedScore]:
        return [s for s in self.received_scores if s.score.get("userId") == user_id]

    def suspend(self, context_id: str, user_id: str) -> None:
        """Suspend the member's enrolment in the course (Moodle: Participants → Edit enrolment → Suspended)."""
        with self._lock:
            self.suspended.setdefault(context_id, set()).add(user_id)

    def unenrol(self, context_id: str, user_id: str) -> None:
        with self._lock:
            self.unenrolled.setdefault(context_id, set()).add(user_id)

    def reenrol(self, context_id: str, user_id: str) -> None:
        """Active again: the suspension lifted, the enrolment made again."""
        with self._lock:
            self.suspended.get(context_id, set()).discard(user_id)
            self.unenrolled.get(context_id, set()).discard(user_id)

    def roster(self, context_id: str) -> list[dict[str, Any]]:
        """The context's NRPS members: the ones set for it, else every platform user; without the unenrolled, and
        without the suspended as Moodle does (mod/lti/services/memberships asks for active enrolments only)."""
        if context_id in self.rosters:
            everyone = self.rosters[context_id]
        else:
            everyone = [
                member(user.sub, user.name, user.given_name, user.family_name, user.email, user.roles)
                for user in self.platform.users.values()
            ]
        gone, suspended = self.unenrolled.get(context_id, set()), self.suspended.get(context_id, set())
        listed = []
        for entry in everyone:
            inactive = entry.get("status", "Active") != "Active" or entry["user_id"] in suspended
            if entry["user_id"] in gone or (inactive and not self.lists_suspended):
                continue
            listed.append({**entry, "status": "Inactive"} if inactive else entry)
        return listed

    # --- where the tests' subclass fails on demand -----------------------------------------------------------

    def _fault(self, service: str, stage: str, endpoint: str) -> Response | None:
        """An answer instead of the service's own: `service` is "token", "ags" or "nrps"; `stage` is "before" or
        "after" the bearer token's check. The platform itself never fails."""
        return None

    def _next_page(self, page: int, pages: int) -> int | None:
        """The page the NRPS Link header names as next."""
        return page + 1 if page < pages else None

    # --- HTTP ---------------------------------------------------------------------------------------------

    def install(self, app: Flask) -> None:
        services = self

        @app.post("/token")
        def token() -> Any:
            with services._lock:
                services.token_requests += 1
            failed = services._fault("token", "before", "token")
            if failed is not None:
                return failed
            if curl_blocks(services.platform.tool_jwks_url, services.curl_blocked_hosts, services.curl_allowed_ports):
                return Response(KEYSET_EXCEPTION_PAGE, status=404, mimetype="text/html")
            granted, status = services.platform._token(request.form.to_dict())
            if status != 200:
                return jsonify(granted), status
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

        def authorized(scopes: tuple[str, ...], service: str, endpoint: str) -> Response | None:
            with services._lock:
                services.service_requests += 1
            failed = services._fault(service, "before", endpoint)
            if failed is not None:
                return failed
            refused = bearer_refusal(
                request.headers.get("Authorization", ""),
                services.platform.signing_key.public_key(),
                services.platform.issuer,
                scopes,
                services.revoked,
            )
            return refused if refused is not None else services._fault(service, "after", endpoint)

        @app.route("/ags/<context_id>/lineitems", methods=["GET", "POST"])
        def lineitems(context_id: str) -> Any:
            context_id = unquote(context_id)
            scopes = (SCOPE_LINEITEM,) if request.method == "POST" else (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
            refused = authorized(scopes, "ags", "lineitems")
            if refused is not None:
                return refused
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
            items = matching_lineitems(items, request.args)
            return jsonify([{k: v for k, v in i.items() if not k.startswith("_")} for i in items])

        @app.get("/ags/<context_id>/lineitems/<int:number>")
        def lineitem(context_id: str, number: int) -> Any:
            refused = authorized((SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY), "ags", "lineitem")
            if refused is not None:
                return refused
            item = services.lineitems.get(f"{services.lineitems_url(unquote(context_id))}/{number}")
            return _lineitem_json(item, 200) if item else Response("no such line item", status=404)

        @app.post("/ags/<context_id>/lineitems/<int:number>/scores")
        def scores(context_id: str, number: int) -> Any:
            refused = authorized((SCOPE_SCORE,), "ags", "scores")
            if refused is not None:
                return refused
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
                applied = supersedes(score, services.results.get(key))
                if applied:
                    services.results[key] = score
                services.received_scores.append(ReceivedScore(item_id, score, applied))
            return Response(status=204)

        @app.get("/ags/<context_id>/lineitems/<int:number>/results")
        def results(context_id: str, number: int) -> Any:
            refused = authorized((SCOPE_RESULT,), "ags", "results")
            if refused is not None:
                return refused
            item_id = f"{services.lineitems_url(unquote(context_id))}/{number}"
            with services._lock:
                found = [(user, s) for (item, user), s in services.results.items() if item == item_id]
            return jsonify([result(item_id, user, s) for user, s in found])

        @app.get("/nrps/<context_id>/memberships")
        def memberships(context_id: str) -> Any:
            context_id = unquote(context_id)
            refused = authorized((SCOPE_NRPS,), "nrps", "memberships")
            if refused is not None:
                return refused
            members = services.roster(context_id)
            page = max(int(request.args.get("page", "1") or 1), 1)
            size = services.page_size
            pages = max((len(members) + size - 1) // size, 1)
            body = {
                "id": request.url,
                "context": {"id": context_id, "label": context_id, "title": context_id},
                "members": members[(page - 1) * size : page * size],
            }
            response = Response(json.dumps(body, ensure_ascii=False), mimetype=MEMBERSHIP_TYPE)
            next_page = services._next_page(page, pages)
            if next_page is not None:
                response.headers["Link"] = f'<{services.memberships_url(context_id)}?page={next_page}>; rel="next"'
            return response


def _lineitem_json(item: dict[str, Any], status: int) -> Response:
    response = jsonify({k: v for k, v in item.items() if not k.startswith("_")})
    response.status_code = status
    response.mimetype = LINEITEM_TYPE
    return response
