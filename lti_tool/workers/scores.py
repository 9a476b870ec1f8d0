"""Delivering the score outbox: a reflection's grade becomes a score on the activity's line item.

Each score goes to the line item of the resource link (the AGS claim's `lineitem`), or to the line item found or
made by `resourceId`/`tag` in the claim's `lineitems` container (AGS §3.2), with a cached service token
(lti_tool/lti/service_tokens.py). A platform that is down or slow delays a score, backing off with jitter; a score
the platform refuses for good is parked as failed, with the reason, for an admin to resend.

Several workers may run at once on PostgreSQL: score rows are claimed with FOR UPDATE SKIP LOCKED, and the resource
link row is locked while its line item is looked for or made, so one resourceId never gets two line items. A resent
score is the same document with the same timestamp: the platform keeps one grade (AGS §3.4.7). No row is written
until a pass's HTTP calls are done (SQLite has one writer, and the token cache needs it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from lti_tool.lti import ags
from lti_tool.lti.ags import AgsResult, Outcome
from lti_tool.lti.claims import SCOPE_SCORE
from lti_tool.lti.service_tokens import ServiceClient
from models.base import utcnow
from models.database import Database
from models.people import ResourceLink
from models.platform import Platform
from models.scores import ScorePost, ScoreState
from xapi.backoff import backoff_seconds

log = logging.getLogger(__name__)


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

    def summary(self) -> str:
        return f"scores: delivered {self.delivered}, failed {self.failed}, to retry {self.retried}"


@dataclass
class _Attempt:
    post_id: int
    state: ScoreState | None  # None: stays pending, tried again later
    error: str | None = None
    lineitem: str | None = None


@dataclass
class _Pass:
    """What one pass has learnt so far, shared by its scores."""

    report: ScorePassReport
    lineitems: dict[int, str] = field(default_factory=dict)  # resource link id → line item resolved in this pass
    new_lineitems: dict[int, str] = field(default_factory=dict)  # resource link id → line item made in this pass
    down: dict[int, str] = field(default_factory=dict)  # platform id → why its calls are put off for this pass


class ScoreDelivery:
    """The grades' delivery job: each pass claims a batch of due scores and posts them."""

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

    @property
    def name(self) -> str:
        return "ags-scores"

    def run_once(self) -> ScorePassReport:
        this_pass = _Pass(ScorePassReport())
        with self.database.transaction() as db:
            posts = self._claim(db)
            if not posts:
                return this_pass.report
            attempts = [self._attempt(db, post, this_pass) for post in posts]
            self._record(db, posts, attempts, this_pass)
        return this_pass.report

    def _claim(self, db: Session) -> list[ScorePost]:
        query = (
            select(ScorePost)
            .where(ScorePost.state == ScoreState.PENDING.value, ScorePost.next_attempt_at <= utcnow())
            .order_by(ScorePost.id)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)
        )
        return list(db.scalars(query))

    def _attempt(self, db: Session, post: ScorePost, this_pass: _Pass) -> _Attempt:
        if post.platform_id in this_pass.down:
            return _Attempt(post.id, None, this_pass.down[post.platform_id])
        try:
            result = self._lineitem_for(db, post, this_pass)
            if result.outcome is Outcome.DELIVERED:
                assert result.lineitem is not None and post.resource_link is not None
                scopes = ags.granted_scopes(post.resource_link.ags_scopes)
                result = ags.post_score(self.client, post.platform_id, scopes, result.lineitem, post.score)
        except SQLAlchemyError:
            raise  # the pass cannot record anything: roll it back whole, as a database outage
        except Exception as exc:  # noqa: BLE001 - one platform's garbage must not stop the other scores
            # Anything the platform's answers or claims could still break (a malformed URL, a value out of range):
            # this score waits and is tried again later; the rest of the pass goes on. The log names the platform
            # and the score, never a token.
            issuer = db.scalar(select(Platform.issuer).where(Platform.id == post.platform_id))
            log.exception("score %s for iss=%s failed unexpectedly", post.id, issuer)
            return _Attempt(
                post.id, None, f"an unexpected error while sending ({type(exc).__name__}); tried again later"
            )
        if result.outcome is Outcome.DELIVERED:
            return _Attempt(post.id, ScoreState.DELIVERED, lineitem=result.lineitem)
        if result.outcome is Outcome.PARKED:
            return _Attempt(post.id, ScoreState.FAILED, result.reason)
        this_pass.down[post.platform_id] = result.reason  # its other scores wait too, without calling it again
        return _Attempt(post.id, None, result.reason)

    def _lineitem_for(self, db: Session, post: ScorePost, this_pass: _Pass) -> AgsResult:
        """The line item to post the score to, found or made once per link and pass."""
        if post.resource_link_id is None:
            return AgsResult(
                Outcome.PARKED, "the reflection names no LMS activity, so there is no gradebook column for it"
            )
        if post.resource_link_id in this_pass.lineitems:
            return AgsResult(Outcome.DELIVERED, lineitem=this_pass.lineitems[post.resource_link_id])
        link = db.get(ResourceLink, post.resource_link_id)
        if link is None:
            return AgsResult(Outcome.PARKED, "the LMS activity of this score is gone")
        scopes = ags.granted_scopes(link.ags_scopes)
        if SCOPE_SCORE not in scopes:
            return AgsResult(Outcome.PARKED, ags.NO_SCORE_SCOPE)
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
                return AgsResult(
                    Outcome.PARKED, "the activity's launch carried no AGS line item nor line items container"
                )
            resource_id = ags.reflection_resource_id(link.resource_link_id)
            found = ags.find_lineitem(self.client, post.platform_id, scopes, link.ags_lineitems, resource_id)
            if found.outcome is not Outcome.DELIVERED:
                return found
            target = found.lineitem
            if target is None:
                made = ags.create_lineitem(
                    self.client,
                    post.platform_id,
                    scopes,
                    link.ags_lineitems,
                    score_maximum=post.score["scoreMaximum"],
                    label=link.title or "PLC reflection",
                    resource_id=resource_id,
                    resource_link_id=link.resource_link_id,
                )
                if made.outcome is not Outcome.DELIVERED or made.lineitem is None:
                    return made
                target = made.lineitem
                this_pass.report.lineitems_created += 1
            this_pass.new_lineitems[link.id] = target
        this_pass.lineitems[link.id] = target
        post.resource_link = link
        return AgsResult(Outcome.DELIVERED, lineitem=target)

    def _record(self, db: Session, posts: list[ScorePost], attempts: list[_Attempt], this_pass: _Pass) -> None:
        now = utcnow()
        report = this_pass.report
        by_id = {post.id: post for post in posts}
        for link_id, url in this_pass.new_lineitems.items():
            link = db.get(ResourceLink, link_id)
            if link is not None:
                link.tool_lineitem = url
        for attempt in attempts:
            post = by_id[attempt.post_id]
            post.attempts += 1
            post.last_error = attempt.error
            if attempt.state is ScoreState.DELIVERED:
                post.state, post.delivered_at, post.lineitem_url = ScoreState.DELIVERED.value, now, attempt.lineitem
                report.delivered += 1
            elif attempt.state is ScoreState.FAILED:
                post.state = ScoreState.FAILED.value
                report.failed += 1
                log.warning("score %s parked: %s", post.id, attempt.error)
            else:
                post.next_attempt_at = now + timedelta(
                    seconds=backoff_seconds(post.attempts, self.base_backoff, self.max_backoff)
                )
                report.retried += 1
                report.errors.append(attempt.error or "")
                log.warning("score %s waits: %s", post.id, attempt.error)
