"""Linking a person's LINE account to the district's LINE Official Account, and what the account's webhook does.

The person's page shows a one-time code and the account's add-friend QR; they add the account and send it the code;
LINE posts the message to our webhook, signed with the channel secret (`X-Line-Signature`, an HMAC-SHA256 of the
body, Messaging API reference "Verify webhook signature"), and we link that LINE user id to the person and reply in
Thai. Sending "เลิกแจ้งเตือน", or unlinking on the page, removes the LINE user id. An event taken once is never taken
again (its `webhookEventId` is kept), and an event older than the replay window is refused, so a captured body
posted again does nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from linebot.v3.webhooks import FollowEvent, MessageEvent, TextMessageContent, UnfollowEvent, UserSource
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.channels import line as line_api
from lti_tool.channels import wording
from lti_tool.services.actor import Actor
from lti_tool.services.admin import NotAnAdministrator, administers_the_platform
from models import line, notices
from models.base import utcnow
from models.errors import InvalidInput, Problem
from models.notices import Channel, NoticeDelivery, NoticeState

REPLAY_WINDOW = timedelta(hours=1)
_ = wording._

REPLY_LINKED = _("Linked. PLC Bridge notices now reach you here. To stop them, send “เลิกแจ้งเตือน”.")
REPLY_LINKED_AS = _("Linked, %(name)s. PLC Bridge notices now reach you here. To stop them, send “เลิกแจ้งเตือน”.")
REPLY_UNLINKED = _("Unlinked. PLC Bridge no longer sends you notices here; they stay in the notice list of the tool.")
REPLY_UNKNOWN = _(
    "To receive PLC Bridge notices here, open “LINE notices” in PLC Bridge from your course and send the code shown "
    "there. To stop them, send “เลิกแจ้งเตือน”."
)
REPLY_EXPIRED = _("This code is not valid or has expired. Open “LINE notices” in PLC Bridge for a new code.")


@dataclass(frozen=True)
class LinkingPage:
    account: line.LineChannel | None
    link: line.LineLink | None
    code: line.LineLinkCode | None


def linking_page(db: Session, actor: Actor, *, new_code: bool = False, with_code: bool = True) -> LinkingPage:
    """What the person's LINE page shows: whether the platform's account is on, their link, and (when they are not
    linked, or ask for one) a live one-time code. Showing the page again shows the same live code (the one the person
    may be typing); a new one is made only when they ask for it (`new_code`, a POST) or none is live."""
    person_id, platform_id = actor.membership.person_id, actor.scope.platform_id
    account = line.channel_of(db, platform_id)
    if account is None or not account.is_on:
        return LinkingPage(None, None, None)
    link = line.link_of(db, person_id)
    code = None
    if new_code:
        code = line.new_code(db, person_id, platform_id)
    elif link is None and with_code:
        code = line.live_code(db, person_id) or line.new_code(db, person_id, platform_id)
    return LinkingPage(account, link, code)


def unlink(db: Session, actor: Actor) -> bool:
    """Remove the person's LINE user id (their notices stay in the list)."""
    return line.unlink_person(db, actor.membership.person_id)


@dataclass(frozen=True)
class Reply:
    """A reply to send once the webhook's changes have committed; `named` is the text with the person's LINE
    display name (read from their profile then: the tool does not keep it), `text` the one without."""

    token: str
    text: str
    user_id: str = ""
    named: str = ""


@dataclass
class WebhookResult:
    """What a webhook did, and the replies to send once it has committed."""

    taken: int = 0
    replayed: int = 0
    linked: list[int] = field(default_factory=list)
    unlinked: list[int] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)


def _first_time(db: Session, platform_id: int, event_id: str, when: datetime, now: datetime) -> bool:
    if not event_id or when < now - REPLAY_WINDOW or when > now + REPLAY_WINDOW:
        return False
    try:
        with db.begin_nested():
            db.add(line.LineWebhookEvent(event_id=event_id, platform_id=platform_id, received_at=now))
    except IntegrityError:
        return False
    return True


def take_webhook(
    db: Session, platform_id: int, body: str, signature: str, texts: wording.Gettext, *, now: datetime | None = None
) -> WebhookResult:
    """Check the signature with the platform's channel secret (line_api.BadSignature otherwise) and act on each event
    not seen before: a code links, "เลิกแจ้งเตือน" unlinks, an unfollow (the person blocked the account) stops
    LINE messages to them."""
    moment = now or utcnow()
    account = line.channel_of(db, platform_id)
    if account is None or not account.is_on:
        raise line_api.BadSignature("LINE is off for this platform")
    _destination, events = line_api.parse_webhook(body, signature, account.channel_secret)
    db.execute(delete(line.LineWebhookEvent).where(line.LineWebhookEvent.received_at < moment - 2 * REPLAY_WINDOW))
    result = WebhookResult()
    for event in events:
        when = datetime.fromtimestamp(int(getattr(event, "timestamp", 0) or 0) / 1000, tz=moment.tzinfo)
        if not _first_time(db, platform_id, str(getattr(event, "webhook_event_id", "") or ""), when, moment):
            result.replayed += 1
            continue
        result.taken += 1
        source = getattr(event, "source", None)
        user_id = source.user_id if isinstance(source, UserSource) else None
        if not user_id:
            continue
        reply_token = str(getattr(event, "reply_token", "") or "")
        if isinstance(event, UnfollowEvent):
            person_id = line.person_linked_as(db, platform_id, user_id)
            found = line.link_of(db, person_id) if person_id is not None else None
            if found is not None:
                found.blocked_at = moment
        elif isinstance(event, FollowEvent):  # added as a friend, or unblocked: a linked person hears from us again
            person_id = line.person_linked_as(db, platform_id, user_id)
            found = line.link_of(db, person_id) if person_id is not None else None
            if found is not None:
                found.blocked_at = None
            result.replies.append(Reply(reply_token, texts.gettext(REPLY_LINKED if found else REPLY_UNKNOWN)))
        elif isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
            text = event.message.text.strip()
            if text == line.UNLINK_WORD:
                person_id = line.person_linked_as(db, platform_id, user_id)
                if person_id is not None:
                    line.unlink_person(db, person_id)
                    result.unlinked.append(person_id)
                result.replies.append(Reply(reply_token, texts.gettext(REPLY_UNLINKED)))
                continue
            person_id = line.take_code(db, platform_id, text, moment)
            if person_id is None:
                looks_like_code = len(text) == line.CODE_LENGTH and text.upper().isalnum()
                result.replies.append(
                    Reply(reply_token, texts.gettext(REPLY_EXPIRED if looks_like_code else REPLY_UNKNOWN))
                )
                continue
            line.link(db, person_id, platform_id, user_id, moment)
            result.linked.append(person_id)
            result.replies.append(
                Reply(reply_token, texts.gettext(REPLY_LINKED), user_id, texts.gettext(REPLY_LINKED_AS))
            )
    return result


def send_replies(access_token: str, base_url: str, replies: list[Reply], timeout: float = 10.0) -> int:
    """Send the webhook's replies (after its transaction committed); a reply LINE does not take is not retried (a
    reply token lives a short while): the person's link is done whatever the reply does."""
    sent = 0
    if not replies:
        return sent
    api = line_api.LineApi(access_token, base_url=base_url, timeout_seconds=timeout)
    try:
        for reply in replies:
            name = api.display_name(reply.user_id) if reply.named and reply.user_id else None
            text = reply.named % {"name": name} if name else reply.text
            if reply.token and api.reply_text(reply.token, text).outcome is line_api.Outcome.DELIVERED:
                sent += 1
    finally:
        api.close()
    return sent


QUOTA_CACHE_SECONDS = 300.0  # the admin page asks LINE at most every 5 minutes per platform
_quotas: dict[tuple[int, str, str], tuple[float, line_api.Quota | None]] = {}
_quotas_lock = threading.Lock()


def quota_token(db: Session, actor: Actor) -> tuple[int, str] | None:
    """(platform id, access token) to ask LINE for the month's messages with, outside any transaction (None: off)."""
    platform_id = _platform_of(actor)
    account = line.channel_of(db, platform_id)
    return (platform_id, account.access_token) if account is not None and account.is_on else None


def line_quota(
    source: tuple[int, str] | None,
    base_url: str,
    timeout: float,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> line_api.Quota | None:
    """This month's LINE messages of the platform's account, as LINE counts them (None: off, or no answer), asked
    at most every QUOTA_CACHE_SECONDS per platform and token. Call it with no transaction open."""
    if source is None:
        return None
    now, key = clock(), (*source, base_url)
    with _quotas_lock:
        cached = _quotas.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    api = line_api.LineApi(source[1], base_url=base_url, timeout_seconds=timeout)
    try:
        quota = api.quota()
    finally:
        api.close()
    with _quotas_lock:
        _quotas[key] = (now + QUOTA_CACHE_SECONDS, quota)
    return quota


# The platform's account, set by its administrators.


def _platform_of(actor: Actor) -> int:
    if not administers_the_platform(actor.membership):
        raise NotAnAdministrator(actor.role)
    return actor.scope.platform_id


def line_account(db: Session, actor: Actor) -> line.LineChannel | None:
    return line.channel_of(db, _platform_of(actor))


def set_line_account(db: Session, actor: Actor, access_token: str, channel_secret: str, basic_id: str) -> None:
    """Set the platform's LINE account; a blank token or secret keeps the one set before (they are never shown
    again). InvalidInput for a malformed value."""
    platform_id = _platform_of(actor)
    problems = []
    basic_id = basic_id.strip()
    if basic_id and (not basic_id.startswith("@") or len(basic_id) > 64 or " " in basic_id):
        problems.append(Problem("basic_id", "line_basic_id", {}))
    if channel_secret.strip() and not all(c in "0123456789abcdef" for c in channel_secret.strip().lower()):
        problems.append(Problem("channel_secret", "line_channel_secret", {}))
    account = line.channel_of(db, platform_id)
    token_after = access_token.strip() or (account.access_token if account is not None else "")
    secret_after = channel_secret.strip() or (account.channel_secret if account is not None else "")
    if secret_after and not token_after:  # LINE would stay off without a word: say which one is missing
        problems.append(Problem("access_token", "line_access_token_missing", {}))
    if token_after and not secret_after:
        problems.append(Problem("channel_secret", "line_channel_secret_missing", {}))
    if problems:
        raise InvalidInput(problems)
    if account is None:
        account = line.LineChannel(platform_id=platform_id)
        db.add(account)
    if access_token.strip():
        account.access_token = access_token.strip()
    if channel_secret.strip():
        account.channel_secret = channel_secret.strip()
    account.basic_id = basic_id
    account.quota_spent_at = account.quota_reason = None  # a new setting is worth another try


def switch_line_off(db: Session, actor: Actor) -> None:
    account = line.channel_of(db, _platform_of(actor))
    if account is not None:
        account.access_token = account.channel_secret = ""


def resend_notices(db: Session, actor: Actor, delivery_id: int | None = None) -> int:
    """Queue the platform's parked notice deliveries (all, or one) again; LINE messages held for the quota go too,
    and the account's quota mark is cleared (the admin raised the quota, or the month turned)."""
    platform_id = _platform_of(actor)
    account = line.channel_of(db, platform_id)
    if account is not None and account.quota_spent_at is not None:
        account.quota_spent_at = account.quota_reason = None
        held = update(NoticeDelivery).where(
            NoticeDelivery.platform_id == platform_id,
            NoticeDelivery.channel == Channel.LINE.value,
            NoticeDelivery.state == NoticeState.PENDING.value,
        )
        if delivery_id is not None:
            held = held.where(NoticeDelivery.id == delivery_id)
        db.execute(held.values(next_attempt_at=utcnow()).execution_options(synchronize_session=False))
    return notices.resend(db, platform_id, delivery_id)


@dataclass(frozen=True)
class NoticesAdmin:
    account: line.LineChannel | None
    status: dict[str, notices.DeliveryStatus]
    parked: list[NoticeDelivery]
    linked_people: int
    retrying: list[NoticeDelivery]


def notices_admin(db: Session, actor: Actor) -> NoticesAdmin:
    platform_id = _platform_of(actor)
    linked = db.scalar(select(func.count()).select_from(line.LineLink).where(line.LineLink.platform_id == platform_id))
    return NoticesAdmin(
        line.channel_of(db, platform_id),
        notices.delivery_status(db, platform_id),
        notices.parked(db, platform_id),
        int(linked or 0),
        notices.retrying(db, platform_id),
    )
