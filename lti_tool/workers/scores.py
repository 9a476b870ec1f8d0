"""Delivering the score outbox: a reflection's grade becomes a score on its cycle's line item.

Each score goes to the line item of the cycle's reflection activity (the AGS claim's `lineitem` of its resource link),
or to the line item found in the course's line-items container (kept from any launch in the course) by the
`resourceId` and `tag` the tool put in the Deep Linking content item (AGS §3.2.4; Moodle keeps them on the line item it
makes, so no launch of the new activity is needed); one is made only for an activity the tool knows that has none. A
grade whose cycle has no reflection activity yet waits for it. A platform that is down or slow delays a score, backing
off with jitter; a score the platform refuses for good is parked as failed, with the reason, for an admin to resend or
dismiss; once a newer grade of the same reflection is delivered, the older waiting or failed ones are closed as
superseded.

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
from lti_tool.lti.activities import reflection_link
from lti_tool.lti.ags import AgsResult, Outcome
from lti_tool.lti.claims import SCOPE_SCORE
from lti_tool.lti.service_tokens import ServiceClient
from models.base import utcnow
from models.database import Database
from models.people import Context, Membership, ResourceLink
from models.platform import Platform
from models.reflections import Grade
from models.scores import ScorePost, ScoreProblem, ScoreState, close_superseded
from xapi.backoff import backoff_seconds

log = logging.getLogger(__name__)

Link = ResourceLink | None


@dataclass
class ScorePassReport:
    delivered: int = 0
    failed: int = 0
    retried: int = 0
    lineitems_created: int = 0
    superseded: int = 0  # older waiting or failed scores closed because a newer grade arrived
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
    problem: ScoreProblem | None = None
    link_id: int | None = None  # the reflection's LMS activity, when the tool knows it


@dataclass
class _Pass:
    """What one pass has learnt so far, shared by its scores."""

    report: ScorePassReport
    lineitems: dict[tuple[int, int], str] = field(default_factory=dict)  # (course, cycle) → line item of this pass
    new_lineitems: dict[int, str] = field(default_factory=dict)  # resource link id → line item noted in this pass
    # platform id → why its calls are put off for this pass
    down: dict[int, tuple[str, ScoreProblem | None]] = field(default_factory=dict)


class ScoreDelivery:
    """The grades' delivery job: each pass claims a batch of due scores and posts them."""

    def __init__(
        self,
        database: Database,
        client: ServiceClient,
        batch_size: int = 50,
        max_backoff_seconds: float = 600.0,
        base_backoff_seconds: float = 2.0,
        keyset_url: str = "the tool's /lti/jwks",
    ) -> None:
        self.database = database
        self.client = client
        self.keyset_url = keyset_url  # named when a platform cannot fetch it (Moodle's HTTP security)
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
            reason, problem = this_pass.down[post.platform_id]
            return _Attempt(post.id, None, reason, problem=problem)
        try:
            result, scopes, link = self._lineitem_for(db, post, this_pass)
            if result.outcome is Outcome.DELIVERED:
                assert result.lineitem is not None
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
                post.id,
                None,
                f"an unexpected error while sending ({type(exc).__name__}); tried again later",
                problem=ScoreProblem.PLATFORM_DOWN,
            )
        link_id = link.id if link is not None else None
        if result.outcome is Outcome.DELIVERED:
            return _Attempt(post.id, ScoreState.DELIVERED, lineitem=result.lineitem, link_id=link_id)
        reason = result.reason
        if result.problem is ScoreProblem.KEYSET_UNREACHABLE:
            reason = ags.keyset_advice(reason, self.keyset_url)
        if result.outcome is Outcome.PARKED:
            return _Attempt(post.id, ScoreState.FAILED, reason, problem=result.problem, link_id=link_id)
        if result.problem is not ScoreProblem.NO_ACTIVITY:  # the platform itself: its other scores wait too
            this_pass.down[post.platform_id] = (reason, result.problem)
        return _Attempt(post.id, None, reason, problem=result.problem, link_id=link_id)

    def _lineitem_for(self, db: Session, post: ScorePost, this_pass: _Pass) -> tuple[AgsResult, list[str], Link]:
        """The line item to post the score to, with the scopes to ask for and the reflection's LMS activity (if the
        tool knows it): the activity's own line item (the AGS claim's `lineitem`), else the one found in the course's
        line items by the cycle's resourceId and tag (AGS §3.2.4; Moodle keeps them from the Deep Linking content
        item, so no launch of the new activity is needed), else one made for the activity. Once per pass and cycle."""
        grade = db.get(Grade, post.grade_id)
        assert grade is not None  # a score post's grade is a foreign key
        reflection = grade.reflection
        cycle = reflection.cycle.number
        context = db.scalars(
            select(Context).join(Membership, Membership.context_id == Context.id)
            .where(Membership.id == reflection.membership_id)
        ).one()  # fmt: skip
        link = db.get(ResourceLink, post.resource_link_id) if post.resource_link_id is not None else None
        if link is None:  # the cycle's reflection activity may have been launched since the grade
            link = reflection_link(db, context.id, cycle)
        scopes = ags.granted_scopes(link.ags_scopes if link is not None and link.ags_scopes else context.ags_scopes)
        if SCOPE_SCORE not in scopes:
            return AgsResult(Outcome.PARKED, ags.NO_SCORE_SCOPE, problem=ScoreProblem.NO_GRADEBOOK), scopes, link
        key = (context.id, cycle)
        if key in this_pass.lineitems:
            return AgsResult(Outcome.DELIVERED, lineitem=this_pass.lineitems[key]), scopes, link
        target = (link.ags_lineitem or link.tool_lineitem) if link is not None else None
        if target is None and link is not None:
            # Locked until this pass commits, once in a link's life: a second worker waits here, then finds the line
            # item made by the first instead of making another.
            link = db.scalars(
                select(ResourceLink)
                .where(ResourceLink.id == link.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).one()
            target = link.ags_lineitem or link.tool_lineitem
        if target is None:
            container = (link.ags_lineitems if link is not None else None) or context.ags_lineitems
            if not container:
                reason = "no launch in this course carried the LMS's line items service (AGS), so there is no gradebook"
                return AgsResult(Outcome.PARKED, reason, problem=ScoreProblem.NO_GRADEBOOK), scopes, link
            found = self._find(post.platform_id, scopes, container, cycle, link)
            if found.outcome is not Outcome.DELIVERED:
                return found, scopes, link
            target = found.lineitem
            if target is None and link is None:
                reason = (
                    f"the course has no reflection activity for cycle {cycle} yet: add it with Select content (Deep"
                    " Linking); the grade goes to its gradebook column as soon as it is there"
                )
                return AgsResult(Outcome.LATER, reason, problem=ScoreProblem.NO_ACTIVITY), scopes, link
            if target is None:
                assert link is not None
                made = ags.create_lineitem(
                    self.client,
                    post.platform_id,
                    scopes,
                    container,
                    score_maximum=post.score["scoreMaximum"],
                    label=link.title or f"PLC reflection, cycle {cycle}",
                    resource_id=ags.reflection_resource_id(cycle),
                    resource_link_id=link.resource_link_id,
                )
                if made.outcome is not Outcome.DELIVERED or made.lineitem is None:
                    return made, scopes, link
                target = made.lineitem
                this_pass.report.lineitems_created += 1
            if link is not None:
                this_pass.new_lineitems[link.id] = target
        this_pass.lineitems[key] = target
        return AgsResult(Outcome.DELIVERED, lineitem=target), scopes, link

    def _find(self, platform_id: int, scopes: list[str], container: str, cycle: int, link: Link) -> AgsResult:
        """The cycle's line item in the course's container, or (for an activity the tool knows) one it made before
        under the earlier resourceId; DELIVERED without a line item when there is none."""
        found = ags.find_lineitem(self.client, platform_id, scopes, container, ags.reflection_resource_id(cycle))
        if found.outcome is Outcome.DELIVERED and found.lineitem is None and link is not None:
            found = ags.find_lineitem(
                self.client, platform_id, scopes, container, ags.earlier_resource_id(link.resource_link_id)
            )
        return found

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
            post.reason_code = attempt.problem.value if attempt.problem is not None else None
            if attempt.link_id is not None and post.resource_link_id is None:
                post.resource_link_id = attempt.link_id
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
        if report.delivered:
            report.superseded += close_superseded(db)
