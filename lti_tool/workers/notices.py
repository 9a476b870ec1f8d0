"""Delivering notices by LINE and e-mail: one pass claims a batch of due deliveries, sends them, and records what each
channel answered.

A pass claims its rows with FOR UPDATE SKIP LOCKED, marks those it will send "sending" (with a lease) and commits
before anything leaves: no transaction is open while LINE or the SMTP server answers, and two workers never send the
same notice. Each answer is then committed on its own as it comes. A worker that dies mid-send leaves rows "sending":
once their lease is over, a LINE message is sent again (LINE takes it once: each delivery's own `X-Line-Retry-Key`,
409 for a push it accepted before), but an e-mail whose outcome is unknown is not (it may have arrived): it is
parked with that reason for an admin to resend. Nothing goes out in the quiet hours (20:00-07:00 Thai time): a pass
then does nothing, and the notices wait until morning. A channel that is down or rate-limited is tried again with
backoff and jitter; a refusal for good (an unknown LINE user, an e-mail address the server refuses, a person who
blocked the account or unlinked) is parked with its reason for an admin to resend. When LINE says the month's quota
is spent, the platform's LINE messages wait until the next month (or until an admin resends); the notices are in the
tool's list all the same.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from lti_tool.channels import email as mail
from lti_tool.channels import line as line_api
from lti_tool.channels import wording
from lti_tool.settings import Settings, SmtpSettings
from models.base import utcnow
from models.calendar import THAI_TIME
from models.database import Database
from models.line import LineChannel, LineLink
from models.notices import Channel, NoticeDelivery, NoticeState, in_quiet_hours
from models.people import Person
from xapi.backoff import backoff_seconds

log = logging.getLogger(__name__)


@dataclass
class NoticePassReport:
    delivered: int = 0
    parked: int = 0
    retried: int = 0
    held: int = 0  # LINE messages of an account whose month's quota is spent
    quiet: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.delivered + self.parked + self.retried + self.held

    def summary(self) -> str:
        if self.quiet:
            return "notices: quiet hours, nothing sent"
        return f"notices: delivered {self.delivered}, parked {self.parked}, to retry {self.retried}, held {self.held}"


@dataclass
class _Item:
    delivery: NoticeDelivery
    channel: str
    outcome: str = ""  # "delivered", "retry", "parked", "quota", "token"
    reason: str = ""
    delivery_id: int = 0

    def __post_init__(self) -> None:
        self.delivery_id = self.delivery.id


SWEEP_EVERY = timedelta(seconds=15)  # at most this late past a lease: 3 times LINE's timeout, 10 minutes for e-mail
UNKNOWN_OUTCOME = (
    "sending stopped before the mail server answered (the worker stopped): it may have arrived; resend it if not"
)


class RateLimit:
    """At most `per_second` calls a second across the threads of this process (LINE's push allows 2,000 a second
    per channel; the reference asks for room below the limit)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self.next_at = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_at)
            self.next_at = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


def start_of_next_month(moment: datetime) -> datetime:
    """07:00 Thai time on the first day of the next month: when LINE's monthly quota starts again."""
    local = moment.astimezone(THAI_TIME)
    first = local.replace(day=1, hour=7, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


def quota_spent_now(spent_at: datetime | None, now: datetime) -> bool:
    """Whether a quota marked spent at `spent_at` is still spent at `now`: LINE's quota month (Thai time) is the same.
    A mark from an earlier month means nothing any more (the quota started again)."""
    return spent_at is not None and start_of_next_month(spent_at) > now


class NoticeDeliveryJob:
    """The notices' delivery job: each pass claims a batch of due deliveries on the channels that are set up."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        batch_size: int = 200,
        base_backoff_seconds: float = 2.0,
        max_backoff_seconds: float = 600.0,
        rate_per_second: float = 1000.0,
        lease_seconds: float = 600.0,
        line_lease_seconds: float | None = None,
        record_every: int = 50,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.settings = settings
        self.batch_size = batch_size
        self.base_backoff = base_backoff_seconds
        self.max_backoff = max_backoff_seconds
        self.rate = RateLimit(rate_per_second)
        # How long a "sending" row is the sender's before a sweep takes it: an e-mail's outcome must be known before
        # it is given up (it is then parked, not sent again); a LINE push is safe to send again (its retry key) once
        # the call has surely ended (three times its timeout), so a worker that died holds them back for that only.
        self.lease_seconds = lease_seconds
        self.line_lease_seconds = line_lease_seconds or 3 * settings.line_timeout_seconds
        self.record_every = record_every  # answers recorded per transaction, as they come
        # The sweep for rows past their lease runs on a job's first pass, then at most every SWEEP_EVERY (again at
        # once after a pass that failed, or when the clock went back): two UPDATEs on every pass of an idle worker,
        # once a second, found nothing nearly always.
        self._next_sweep: datetime | None = None
        self.now = clock  # the tests' clock decides the quiet hours
        self.pool = ThreadPoolExecutor(max_workers=settings.line_concurrency, thread_name_prefix="notices")
        self._apis: dict[str, line_api.LineApi] = {}

    @property
    def name(self) -> str:
        return "notices"

    def channels(self) -> list[str]:
        on = [Channel.LINE.value]
        if self.settings.smtp is not None:
            on.append(Channel.EMAIL.value)
        return on

    def run_once(self) -> NoticePassReport:
        report = NoticePassReport()
        now = self.now()
        if in_quiet_hours(now):
            report.quiet = True
            return report
        try:
            with self.database.transaction() as db:
                due = self._next_sweep
                if due is None or not due - SWEEP_EVERY <= now < due:
                    self._sweep(db, now, report)
                    self._next_sweep = now + SWEEP_EVERY
                items = self._claim(db, now)
                if not items:
                    return report
                jobs = self._prepare(db, items, now)
                self._record(db, [item for item in items if item.outcome], now, report)
                for item, _call in jobs:  # committed before anything leaves: a crash mid-send is seen, not repeated
                    lease = self.line_lease_seconds if item.channel == Channel.LINE.value else self.lease_seconds
                    item.delivery.state = NoticeState.SENDING.value
                    item.delivery.next_attempt_at = now + timedelta(seconds=lease)
        except BaseException:
            self._next_sweep = None  # its sweep, if it swept, was rolled back with it
            raise
        answered: list[_Item] = []
        for item in self._send(jobs):  # no transaction open while the channels answer
            answered.append(item)
            if len(answered) >= self.record_every:
                self._record_answers(answered, now, report)
                answered = []
        self._record_answers(answered, now, report)
        return report

    def _record_answers(self, items: list[_Item], now: datetime, report: NoticePassReport) -> None:
        """The answers that came, in one short transaction (a few dozen per commit, not one commit per message)."""
        if items:
            with self.database.transaction() as db:
                self._record(db, items, now, report)

    def _sweep(self, db: Session, now: datetime, report: NoticePassReport) -> None:
        """Rows left "sending" past their lease by a worker that stopped: LINE messages are sent again (LINE takes a
        retry key once); an e-mail may have left, so it is parked for an admin to resend, not sent twice."""
        stale = (NoticeDelivery.state == NoticeState.SENDING.value, NoticeDelivery.next_attempt_at <= now)
        db.execute(
            update(NoticeDelivery)
            .where(*stale, NoticeDelivery.channel == Channel.LINE.value)
            .values(state=NoticeState.PENDING.value)
            .execution_options(synchronize_session=False)
        )
        parked = db.execute(
            update(NoticeDelivery)
            .where(*stale, NoticeDelivery.channel == Channel.EMAIL.value)
            .values(state=NoticeState.PARKED.value, last_error=UNKNOWN_OUTCOME)
            .execution_options(synchronize_session=False)
        )
        count = int(parked.rowcount or 0)  # type: ignore[attr-defined]
        if count:
            report.parked += count
            log.warning("%s e-mail notice(s) parked: %s", count, UNKNOWN_OUTCOME)

    def _claim(self, db: Session, now: datetime) -> list[_Item]:
        query = (
            select(NoticeDelivery)
            .where(
                NoticeDelivery.state == NoticeState.PENDING.value,
                NoticeDelivery.next_attempt_at <= now,
                NoticeDelivery.channel.in_(self.channels()),
            )
            .order_by(NoticeDelivery.id)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)
            .options(selectinload(NoticeDelivery.notice))  # a second query, which locks nothing more
        )
        return [_Item(delivery, delivery.channel) for delivery in db.scalars(query)]

    def _locale(self, person: Person) -> str:
        return "en" if (person.locale or self.settings.default_locale).lower().startswith("en") else "th"

    def _link(self, notice_id: int) -> str:
        return f"{self.settings.public_base_url}/notices/{notice_id}"

    def _prepare(
        self, db: Session, items: list[_Item], now: datetime
    ) -> list[tuple[_Item, Callable[[], tuple[str, str]]]]:
        """Word every message in the claiming transaction; the items that need no channel get their outcome now."""
        jobs: list[tuple[_Item, Callable[[], tuple[str, str]]]] = []
        accounts: dict[int, LineChannel | None] = {}
        person_ids = {item.delivery.notice.person_id for item in items}
        people = {p.id: p for p in db.scalars(select(Person).where(Person.id.in_(person_ids)))}
        links = {k.person_id: k for k in db.scalars(select(LineLink).where(LineLink.person_id.in_(person_ids)))}
        for item in items:
            notice = item.delivery.notice
            person = people[notice.person_id]
            locale = self._locale(person)
            texts = wording.translations(locale)
            verify_url = f"{self.settings.public_base_url}/verify/{notice.params.get('code', '')}"
            words = wording.word(notice.kind, notice.params, texts, verify_url=verify_url, locale=locale)
            link = self._link(notice.id)
            if person.erased_at is not None:
                item.outcome, item.reason = "parked", "the person's data was erased"
            elif item.channel == Channel.LINE.value:
                platform_id = item.delivery.platform_id
                if platform_id not in accounts:
                    accounts[platform_id] = db.get(LineChannel, platform_id)
                    stale = accounts[platform_id]
                    if stale is not None and stale.quota_spent_at is not None:
                        if not quota_spent_now(stale.quota_spent_at, now):  # the month turned: the quota is back
                            stale.quota_spent_at = stale.quota_reason = None
                account = accounts[platform_id]
                linked = links.get(person.id)
                if account is None or not account.is_on:
                    item.outcome, item.reason = "retry", "LINE is not set up for this platform"
                elif account.quota_spent_at is not None:
                    item.outcome, item.reason = "quota", account.quota_reason or "the month's LINE quota is spent"
                elif linked is None:
                    item.outcome, item.reason = "parked", "the person unlinked their LINE account"
                elif linked.blocked_at is not None:
                    item.outcome, item.reason = "parked", "the person blocked the LINE account (unfollow)"
                else:
                    text = f"{words.title}\n{words.text}\n\n{texts.gettext(wording.OPEN_LINK)}\n{link}"
                    api = self._api(account.access_token)
                    key = line_api.retry_key(item.delivery.id)
                    jobs.append((item, partial(self._push, api, linked.line_user_id, text, key)))
            else:
                smtp = self.settings.smtp
                if not person.email or smtp is None:
                    item.outcome, item.reason = "parked", "no e-mail address (the LMS does not share it)"
                else:
                    letter = mail.Mail(
                        to=person.email,
                        subject=words.title,
                        text=words.text,
                        link=link,
                        link_label=texts.gettext(wording.OPEN_LINK),
                        footer=texts.gettext(wording.EMAIL_FOOTER),
                    )
                    try:
                        message = mail.compose(smtp, letter, message_key=f"notice-{item.delivery.id}")
                    except ValueError as exc:  # an address the LMS sent that no header can carry (a line break)
                        item.outcome, item.reason = (
                            "parked",
                            "the e-mail address cannot be used (" + (mail.without_addresses(str(exc)) + ")"),
                        )
                        continue
                    jobs.append((item, partial(self._mail, smtp, message)))
        return jobs

    def _send(self, jobs: list[tuple[_Item, Callable[[], tuple[str, str]]]]) -> Iterator[_Item]:
        """Send in parallel (LINE and the SMTP server answer in their own time), each item as its answer comes."""
        futures = {self.pool.submit(call): item for item, call in jobs}
        for future in as_completed(futures):
            item = futures[future]
            try:
                item.outcome, item.reason = future.result()
            except Exception as exc:  # noqa: BLE001 - one message's surprise must not stop the others, nor the pass
                log.exception("notice delivery %s (%s) failed unexpectedly", item.delivery_id, item.channel)
                item.outcome, item.reason = "retry", f"an unexpected error while sending ({type(exc).__name__})"
            yield item

    def _api(self, token: str) -> line_api.LineApi:
        if token not in self._apis:
            self._apis[token] = line_api.LineApi(
                token,
                base_url=self.settings.line_api_base_url,
                timeout_seconds=self.settings.line_timeout_seconds,
                pool_size=self.settings.line_concurrency,
            )
        return self._apis[token]

    def _push(self, api: line_api.LineApi, to: str, text: str, key: str) -> tuple[str, str]:
        self.rate.wait()
        result = api.push_text(to, text, key)
        return {
            line_api.Outcome.DELIVERED: "delivered",
            line_api.Outcome.RETRY: "retry",
            line_api.Outcome.PARKED: "parked",
            line_api.Outcome.QUOTA_SPENT: "quota",
            line_api.Outcome.TOKEN_REFUSED: "token",
        }[result.outcome], result.reason

    def _mail(self, smtp: SmtpSettings, message: EmailMessage) -> tuple[str, str]:
        result = mail.send(smtp, message)
        return {mail.Outcome.DELIVERED: "delivered", mail.Outcome.RETRY: "retry", mail.Outcome.PARKED: "parked"}[
            result.outcome
        ], result.reason

    def _record(self, db: Session, items: list[_Item], now: datetime, report: NoticePassReport) -> None:
        quota_spent: dict[int, str] = {}
        for item in items:
            delivery = db.get(NoticeDelivery, item.delivery_id)
            if delivery is None or delivery.state not in (NoticeState.PENDING.value, NoticeState.SENDING.value):
                continue  # erased meanwhile, or parked by a sweep after its lease: that answer comes too late
            delivery.state = NoticeState.PENDING.value
            delivery.attempts += 1
            if item.outcome == "delivered":
                delivery.state, delivery.delivered_at, delivery.last_error = NoticeState.DELIVERED.value, now, None
                report.delivered += 1
            elif item.outcome == "parked":
                delivery.state, delivery.last_error = NoticeState.PARKED.value, item.reason
                report.parked += 1
                log.warning("notice delivery %s (%s) parked: %s", delivery.id, item.channel, item.reason)
            elif item.outcome == "quota":
                delivery.attempts -= 1  # not an attempt: LINE took nothing
                delivery.last_error, delivery.next_attempt_at = item.reason, start_of_next_month(now)
                quota_spent[delivery.platform_id] = item.reason
                report.held += 1
            else:
                wait = self.max_backoff if item.outcome == "token" else self._backoff(delivery.attempts)
                delivery.last_error, delivery.next_attempt_at = item.reason, now + timedelta(seconds=wait)
                report.retried += 1
                report.errors.append(f"{item.channel}: {item.reason}")
        for platform_id, reason in quota_spent.items():
            account = db.get(LineChannel, platform_id)
            if account is not None and not quota_spent_now(account.quota_spent_at, now):
                account.quota_spent_at, account.quota_reason = now, reason
                log.warning("LINE quota spent for platform %s: %s", platform_id, reason)
            # The account's other LINE messages wait for the next month too, instead of being tried pass after pass.
            db.execute(
                update(NoticeDelivery)
                .where(
                    NoticeDelivery.platform_id == platform_id,
                    NoticeDelivery.channel == Channel.LINE.value,
                    NoticeDelivery.state == NoticeState.PENDING.value,
                    NoticeDelivery.next_attempt_at < start_of_next_month(now),
                )
                .values(next_attempt_at=start_of_next_month(now), last_error=reason)
                .execution_options(synchronize_session=False)
            )

    def _backoff(self, attempts: int) -> float:
        return backoff_seconds(attempts, self.base_backoff, self.max_backoff)
