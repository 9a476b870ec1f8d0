"""LTI Assignment and Grade Services 2.0: a reflection's grade becomes a score on the activity's line item.

`queue_grade` writes the score into the outbox (models/scores.py) in the grading transaction. `ScoreWorker` sends
it: to the line item of the resource link (the AGS claim's `lineitem`), or to the line item it finds or creates
by `resourceId`/`tag` in the claim's `lineitems` container (AGS §3.2), with a cached service token
(lti_tool/lti/service_tokens.py). A platform that is down or slow delays a score, backing off with jitter; a score the
platform refuses for good is parked as failed, with the reason, for an admin to resend.

Several workers may run at once on PostgreSQL: score rows are claimed with FOR UPDATE SKIP LOCKED, and the
resource link row is locked while its line item is looked for or made, so one resourceId never gets two line
items. A resent score is the same document with the same timestamp: the platform keeps one grade (AGS §3.4.7).
No row is written until a pass's HTTP calls are done (SQLite has one writer, and the token cache needs it).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from lti_tool.lti.activities import reflection_link
from lti_tool.lti.service_tokens import ServiceClient, ServiceError, TokenRefused
from models.base import utcnow
from models.database import Database
from models.people import Membership, Person, ResourceLink
from models.platform import Platform
from models.reflections import Grade, Reflection
from models.scores import ScorePost, ScoreState
from xapi.worker import backoff_seconds

log = logging.getLogger(__name__)

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
AGS_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
REFLECTION_TAG = "plc-reflection"

# Answers worth trying again later; any other 4xx will not change by itself (AGS §3.4, RFC 9110).
_TRANSIENT_STATUSES = {408, 425, 429}


# --- What a launch says ------------------------------------------------------------------------------------


def store_endpoint_claim(resource_link: ResourceLink, body: dict[str, Any]) -> None:
    """Keep the launch's AGS endpoint claim on its resource link (the newest launch's claim wins)."""
    claim = body.get(AGS_CLAIM)
    if not isinstance(claim, dict):
        return
    lineitems, lineitem, scopes = claim.get("lineitems"), claim.get("lineitem"), claim.get("scope")
    resource_link.ags_lineitems = lineitems[:1024] if isinstance(lineitems, str) and lineitems else None
    resource_link.ags_lineitem = lineitem[:1024] if isinstance(lineitem, str) and lineitem else None
    resource_link.ags_scopes = [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else []


# --- Writing a score into the outbox -------------------------------------------------------------------------


def score_timestamp(moment: datetime) -> str:
    """ISO 8601 with milliseconds and the zone, as AGS §3.4.7 asks; fixed once, so a resend is the same score."""
    return moment.isoformat(timespec="milliseconds")


def queue_grade(db: Session, grade: Grade) -> ScorePost:
    """Add the grade's score for the LMS gradebook to the caller's unit of work (commit it with the grade)."""
    reflection: Reflection = grade.reflection
    author = db.get(Membership, reflection.membership_id)
    assert author is not None  # a reflection's author is a membership row (foreign key)
    person = db.get(Person, author.person_id)
    assert person is not None
    score = {
        "userId": person.sub,
        "scoreGiven": _number(grade.total),
        "scoreMaximum": _number(grade.max_score),
        "comment": grade.comment,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": score_timestamp(grade.graded_at),
    }
    if reflection.resource_link_id is None:
        # Written before its cycle's reflection activity was added to the course: the column may exist by now.
        link = reflection_link(db, author.context_id, reflection.cycle.number)
        reflection.resource_link_id = link.id if link is not None else None
    post = ScorePost(
        platform_id=person.platform_id,
        grade_id=grade.id,
        resource_link_id=reflection.resource_link_id,
        user_id=person.sub,
        score=score,
        state=ScoreState.PENDING.value,
        next_attempt_at=utcnow(),
    )
    db.add(post)
    db.flush()
    return post


def _number(value: Any) -> int | float:
    as_float = float(value)
    return int(as_float) if as_float.is_integer() else as_float


# --- Delivering ---------------------------------------------------------------------------------------------


class _Parked(Exception):
    """This score will not go through as it is: park it as failed with the reason."""


class _Later(Exception):
    """Not now (the platform is down, slow or confused): try again after a backoff."""


@dataclass
class ScorePassReport:
    delivered: int = 0
    failed: int = 0
    retried: int = 0
    lineitems_created: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.delivered + self.failed + self.retried


@dataclass
class _Outcome:
    post_id: int
    state: ScoreState | None  # None: stays pending, tried again later
    error: str | None = None
    lineitem: str | None = None


def scores_url(lineitem_url: str) -> str:
    """The line item's scores endpoint: `/scores` appended to the path, the query string kept (AGS §3.4)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


class ScoreWorker:
    def __init__(
        self,
        database: Database,
        client: ServiceClient,
        batch_size: int = 50,
        max_backoff_seconds: float = 600.0,
        base_backoff_seconds: float = 2.0,
    ) -> None:
        self.database = database
        self.client = client
        self.batch_size = batch_size
        self.max_backoff = max_backoff_seconds
        self.base_backoff = base_backoff_seconds

    def run_once(self) -> ScorePassReport:
        report = ScorePassReport()
        with self.database.transaction() as db:
            posts = self._claim(db)
            if not posts:
                return report
            outcomes: list[_Outcome] = []
            lineitems: dict[int, str] = {}  # resource link id → line item resolved in this pass
            new_lineitems: dict[int, str] = {}
            down: dict[int, str] = {}  # platform id → why its calls are put off for the rest of this pass
            for post in posts:
                if post.platform_id in down:
                    outcomes.append(_Outcome(post.id, None, down[post.platform_id]))
                    continue
                try:
                    target = self._lineitem_for(db, post, lineitems, new_lineitems, report)
                    self._post_score(post, target)
                    outcomes.append(_Outcome(post.id, ScoreState.DELIVERED, lineitem=target))
                except _Parked as parked:
                    outcomes.append(_Outcome(post.id, ScoreState.FAILED, str(parked)))
                except (_Later, ServiceError) as later:
                    reason = later.reason if isinstance(later, ServiceError) else str(later)
                    # A refused assertion stays pending too: once the platform's admin fixes the registration, the
                    # scores go through by themselves; the reason shows on the admin page meanwhile.
                    if isinstance(later, ServiceError) and not later.transient and not isinstance(later, TokenRefused):
                        outcomes.append(_Outcome(post.id, ScoreState.FAILED, reason))
                        continue
                    down[post.platform_id] = reason
                    outcomes.append(_Outcome(post.id, None, reason))
                except SQLAlchemyError:
                    raise  # the pass cannot record anything: roll it back whole, as a database outage
                except Exception as exc:  # noqa: BLE001 - one platform's garbage must not stop the other scores
                    # Anything the platform's answers or claims could still break (a malformed URL, a value out of
                    # range): this score waits and is tried again later; the rest of the pass goes on. The log
                    # names the platform and the score, never a token.
                    issuer = db.scalar(select(Platform.issuer).where(Platform.id == post.platform_id))
                    log.exception("score %s for iss=%s failed unexpectedly", post.id, issuer)
                    outcomes.append(
                        _Outcome(
                            post.id,
                            None,
                            f"an unexpected error while sending ({type(exc).__name__}); tried again later",
                        )
                    )
            self._record(db, posts, outcomes, new_lineitems, report)
        return report

    def run(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Deliver until `stop` is set; sleep only when a pass found nothing to do."""
        while not stop.is_set():
            try:
                report = self.run_once()
            except Exception:  # a database outage must not end the worker; log and try again
                log.exception("score outbox pass failed")
                report = ScorePassReport()
            if report.handled == 0:
                stop.wait(poll_seconds)

    def _claim(self, db: Session) -> list[ScorePost]:
        query = (
            select(ScorePost)
            .where(ScorePost.state == ScoreState.PENDING.value, ScorePost.next_attempt_at <= utcnow())
            .order_by(ScorePost.id)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)
        )
        return list(db.scalars(query))

    def _scopes(self, link: ResourceLink) -> list[str]:
        granted = [s for s in (link.ags_scopes or []) if s in AGS_SCOPES]
        if SCOPE_SCORE not in granted:
            raise _Parked("the platform does not accept scores for this activity (no score scope in its AGS claim)")
        return granted

    def _lineitem_for(
        self,
        db: Session,
        post: ScorePost,
        resolved: dict[int, str],
        created: dict[int, str],
        report: ScorePassReport,
    ) -> str:
        if post.resource_link_id is None:
            raise _Parked("the reflection names no LMS activity, so there is no gradebook column for it")
        if post.resource_link_id in resolved:
            return resolved[post.resource_link_id]
        link = db.get(ResourceLink, post.resource_link_id)
        if link is None:
            raise _Parked("the LMS activity of this score is gone")
        scopes = self._scopes(link)
        target = link.ags_lineitem or link.tool_lineitem
        if target is None:
            # Locked until this pass commits, once in a link's life: a second worker waits here, then finds the line
            # item made by the first instead of making another.
            link = db.scalars(
                select(ResourceLink)
                .where(ResourceLink.id == post.resource_link_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).one()
            target = link.ags_lineitem or link.tool_lineitem
        if target is None:
            if not link.ags_lineitems:
                raise _Parked("the activity's launch carried no AGS line item nor line items container")
            target = self._find_lineitem(post.platform_id, scopes, link)
            if target is None:
                target = self._create_lineitem(post, scopes, link)
                report.lineitems_created += 1
            created[link.id] = target
        resolved[link.id] = target
        post.resource_link = link
        return target

    @staticmethod
    def resource_id(link: ResourceLink) -> str:
        return f"reflection:{link.resource_link_id}"

    def _find_lineitem(self, platform_id: int, scopes: list[str], link: ResourceLink) -> str | None:
        """The line item this tool made before for the link's reflection, if any (AGS §3.2.4 filters)."""
        assert link.ags_lineitems is not None
        if SCOPE_LINEITEM not in scopes and SCOPE_LINEITEM_READONLY not in scopes:
            raise _Parked("the platform lets the tool neither read nor create line items for this activity")
        response = self.client.request(
            platform_id,
            scopes,
            "GET",
            link.ags_lineitems,
            accept=LINEITEM_CONTAINER_TYPE,
            params={"resource_id": self.resource_id(link), "tag": REFLECTION_TAG},
        )
        _raise_for_status(response, "the line items container")
        items = _json(response)
        if not isinstance(items, list):
            raise _Later("the line items container answered something that is not a JSON list of line items")
        for item in items:
            # Filter again: a platform may ignore the query parameters.
            if (
                isinstance(item, dict)
                and item.get("resourceId") == self.resource_id(link)
                and item.get("tag", REFLECTION_TAG) == REFLECTION_TAG
                and isinstance(item.get("id"), str)
            ):
                return str(item["id"])
        return None

    def _create_lineitem(self, post: ScorePost, scopes: list[str], link: ResourceLink) -> str:
        assert link.ags_lineitems is not None
        if SCOPE_LINEITEM not in scopes:
            raise _Parked("the platform does not let the tool create a line item for this activity")
        document = {
            "scoreMaximum": post.score["scoreMaximum"],
            "label": (link.title or "PLC reflection")[:255],
            "resourceId": self.resource_id(link),
            "tag": REFLECTION_TAG,
            "resourceLinkId": link.resource_link_id,
        }
        response = self.client.request(
            post.platform_id,
            scopes,
            "POST",
            link.ags_lineitems,
            accept=LINEITEM_TYPE,
            json_body=document,
            content_type=LINEITEM_TYPE,
        )
        _raise_for_status(response, "creating the line item")
        created = _json(response)
        if not isinstance(created, dict) or not isinstance(created.get("id"), str) or not created["id"]:
            raise _Later("the platform answered the new line item without its id (not AGS JSON)")
        log.info("line item created resource_id=%s url=%s", document["resourceId"], created["id"])
        return str(created["id"])

    def _post_score(self, post: ScorePost, lineitem: str) -> None:
        assert post.resource_link is not None
        response = self.client.request(
            post.platform_id,
            self._scopes(post.resource_link),
            "POST",
            scores_url(lineitem),
            accept="application/json",
            json_body=post.score,
            content_type=SCORE_TYPE,
        )
        _raise_for_status(response, "the score")

    def _record(
        self,
        db: Session,
        posts: list[ScorePost],
        outcomes: list[_Outcome],
        new_lineitems: dict[int, str],
        report: ScorePassReport,
    ) -> None:
        now = utcnow()
        by_id = {post.id: post for post in posts}
        for link_id, url in new_lineitems.items():
            link = db.get(ResourceLink, link_id)
            if link is not None:
                link.tool_lineitem = url
        for outcome in outcomes:
            post = by_id[outcome.post_id]
            post.attempts += 1
            post.last_error = outcome.error
            if outcome.state is ScoreState.DELIVERED:
                post.state, post.delivered_at, post.lineitem_url = ScoreState.DELIVERED.value, now, outcome.lineitem
                report.delivered += 1
            elif outcome.state is ScoreState.FAILED:
                post.state = ScoreState.FAILED.value
                report.failed += 1
                log.warning("score %s parked: %s", post.id, outcome.error)
            else:
                post.next_attempt_at = now + timedelta(
                    seconds=backoff_seconds(post.attempts, self.base_backoff, self.max_backoff)
                )
                report.retried += 1
                report.errors.append(outcome.error or "")
                log.warning("score %s waits: %s", post.id, outcome.error)


def _raise_for_status(response: Any, what: str) -> None:
    status = int(response.status_code)
    if 200 <= status < 300:
        return
    detail = response.text[:200].strip() if response.text else ""
    reason = f"{what}: the platform answered HTTP {status}" + (f" ({detail})" if detail else "")
    if status >= 500 or status in _TRANSIENT_STATUSES:
        raise _Later(reason)
    raise _Parked(reason)


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def start_thread(worker: ScoreWorker, poll_seconds: float = 1.0) -> tuple[threading.Thread, threading.Event]:
    """The embedded default: the score worker as a daemon thread of the web process."""
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop, poll_seconds), name="ags-score-worker", daemon=True)
    thread.start()
    return thread, stop
