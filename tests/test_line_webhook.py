"""Linking LINE through the local Messaging API over real HTTP: the site administrator sets the district's account;
a teacher's page shows a one-time code and the add-friend QR; the teacher sends the code in LINE; the signed webhook
links them and the account replies in Thai; "เลิกแจ้งเตือน" unlinks; a bad signature, a replayed event and an
oversized body are refused; an `unfollow` marks the link blocked; the admin page says when the quota is spent."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.channels import wording
from lti_tool.services import line_linking
from models import line
from models.base import utcnow
from models.notices import Channel, Kind, NoticeDelivery, Target, write_notice
from models.people import Membership, Person
from tests.conftest import TEACHER, ToolServer, launch
from tests.factories import make_course
from tests.support.line_server import LineServer, line_server
from tests.support.lti_platform import TestPlatform
from tests.support.waiting import wait_until
from tests.test_notices_pages import csrf_of
from tests.test_program_pages import Visit
from tests.test_scores_admin import admin_visit

BASIC_ID = "@plcdistrict"


def set_up_account(tool: ToolServer, platform: TestPlatform, server: LineServer) -> Visit:
    admin = admin_visit(tool, platform)
    page = admin.get("/admin/notices")
    assert page.status_code == 200 and "LINE" in page.text
    data = {
        "csrf": csrf_of(page, "/admin/notices/line"),
        "access_token": server.access_token,
        "channel_secret": server.channel_secret,
        "basic_id": BASIC_ID,
    }
    saved = admin.post("/admin/notices/line", data)
    assert saved.status_code == 200 and 'id="saved"' in saved.text
    return admin


def link_teacher(tool: ToolServer, platform: TestPlatform, server: LineServer) -> tuple[Visit, str]:
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = teacher.get("/notices/line")
    code = re.search(r'id="link-code">([A-Z0-9]+)<', page.text)
    assert page.status_code == 200 and code
    user = server.add_friend(TEACHER.name)
    replied = len(server.replies)
    assert server.send_text(user, code.group(1)).status_code == 200
    server.reply_after(replied)
    return teacher, user


def test_a_teacher_links_line_with_the_code_and_the_account_replies_in_thai(
    tool: ToolServer, platform: TestPlatform, line_api: LineServer, tmp_path
) -> None:
    set_up_account(tool, platform, line_api)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = teacher.get("/notices/line")
    qr = re.search(r'<img class="qr" alt="QR" src="data:image/svg\+xml[^"]*"', page.text)
    assert qr and f"https://line.me/R/ti/p/{BASIC_ID}" in page.text

    teacher_again, user = link_teacher(tool, platform, line_api)

    line_api.reply_after(0)
    [(replied_to, [reply])] = line_api.replies
    assert replied_to == user and reply.startswith("เชื่อมบัญชีแล้ว") and TEACHER.name in reply  # the profile's name
    with tool.database.transaction() as db:
        person = db.scalars(select(Person).where(Person.sub == TEACHER.sub)).one()
        found = line.link_of(db, person.id)
        assert found is not None and found.line_user_id == user
    assert 'id="line-linked"' in teacher_again.get("/notices/line").text


def test_the_webhook_answers_before_it_replies_when_line_is_slow(
    tool: ToolServer, platform: TestPlatform, line_api: LineServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up_account(tool, platform, line_api)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    code = re.search(r'id="link-code">([A-Z0-9]+)<', teacher.get("/notices/line").text)
    assert code
    user = line_api.add_friend(TEACHER.name)
    monkeypatch.setattr(tool.settings, "line_timeout_seconds", 30.0)  # longer than the webhook's client waits
    line_api.hold()
    try:
        answered = line_api.send_text(user, code.group(1))  # the client gives up after 10 s
    finally:
        line_api.release()

    assert answered.status_code == 200
    wait_until(lambda: line_api.replies, 10, message="the reply never came")
    with tool.database.transaction() as db:
        assert len(db.scalars(select(line.LineLink)).all()) == 1


def test_sending_the_stop_word_unlinks_and_forgets_the_line_id(
    tool: ToolServer, platform: TestPlatform, line_api: LineServer
) -> None:
    set_up_account(tool, platform, line_api)
    _teacher, user = link_teacher(tool, platform, line_api)

    replied = len(line_api.replies)
    assert line_api.send_text(user, "เลิกแจ้งเตือน").status_code == 200

    assert "เลิกเชื่อมแล้ว" in line_api.reply_after(replied)
    with tool.database.transaction() as db:
        assert db.scalars(select(line.LineLink)).all() == []


def test_unlinking_from_the_tool_forgets_the_line_id(
    tool: ToolServer, platform: TestPlatform, line_api: LineServer
) -> None:
    set_up_account(tool, platform, line_api)
    teacher, _user = link_teacher(tool, platform, line_api)
    page = teacher.get("/notices/line")
    assert 'action="/notices/line/unlink' not in page.text  # no button that unlinks without asking
    asked = teacher.get("/notices/line/unlink")
    assert asked.status_code == 200 and 'id="confirm-follows"' in asked.text
    with tool.database.transaction() as db:
        assert len(db.scalars(select(line.LineLink)).all()) == 1  # asking changes nothing

    done = teacher.post("/notices/line/unlink", {"csrf": csrf_of(asked, "/notices/line/unlink")})

    assert done.status_code == 200 and 'id="unlinked"' in done.text
    with tool.database.transaction() as db:
        assert db.scalars(select(line.LineLink)).all() == []


def test_a_wrong_signature_a_replay_and_an_oversized_body_are_refused(
    tool: ToolServer, platform: TestPlatform, line_api: LineServer
) -> None:
    set_up_account(tool, platform, line_api)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    code = re.search(r'id="link-code">([A-Z0-9]+)<', teacher.get("/notices/line").text)
    assert code
    user = line_api.add_friend("ผู้อื่น")
    event = line_api.event(
        "message", user, message={"id": "1", "type": "text", "text": code.group(1), "quoteToken": "q"}
    )
    body = json.dumps({"destination": "Ubot", "events": [event]}).encode()

    assert line_api.post_events([], body=body, signature="bm90IHRoZSBzaWduYXR1cmU=").status_code == 400
    assert requests.post(line_api.webhook_url, data=body, timeout=10).status_code == 400  # no signature at all
    with tool.database.transaction() as db:
        assert db.scalars(select(line.LineLink)).all() == []
    assert line_api.post_events([], body=body).status_code == 200  # signed: taken
    stop = line_api.event(
        "message", user, message={"id": "2", "type": "text", "text": line.UNLINK_WORD, "quoteToken": "q"}
    )
    stop_body = json.dumps({"destination": "Ubot", "events": [stop]}).encode()
    assert line_api.post_events([], body=stop_body).status_code == 200  # unlinked
    with tool.database.transaction() as db:
        assert db.scalars(select(line.LineLink)).all() == []
    code = re.search(r'id="link-code">([A-Z0-9]+)<', teacher.get("/notices/line").text)
    assert code and line_api.send_text(user, code.group(1)).status_code == 200  # linked again
    assert line_api.post_events([], body=stop_body).status_code == 200  # the stop word again: acknowledged, not taken
    with tool.database.transaction() as db:
        assert len(db.scalars(select(line.LineLink)).all()) == 1  # taken again, it would have unlinked them
    huge = json.dumps({"destination": "U", "events": [], "pad": "x" * 100_000}).encode()
    assert line_api.post_events([], body=huge).status_code == 413


def test_blocking_the_account_marks_the_link_blocked_and_unblocking_clears_it(
    tool: ToolServer, platform: TestPlatform, line_api: LineServer
) -> None:
    set_up_account(tool, platform, line_api)
    _teacher, user = link_teacher(tool, platform, line_api)

    assert line_api.block(user).status_code == 200

    with tool.database.transaction() as db:
        [found] = db.scalars(select(line.LineLink)).all()
        assert found.blocked_at is not None
    replied = len(line_api.replies)
    assert line_api.unblock(user).status_code == 200

    with tool.database.transaction() as db:
        [found] = db.scalars(select(line.LineLink)).all()
        assert found.blocked_at is None
    assert line_api.reply_after(replied).startswith("เชื่อมบัญชีแล้ว")


def test_the_admin_page_says_when_the_months_quota_is_spent(
    tool: ToolServer, platform: TestPlatform, line_api: LineServer
) -> None:
    line_api.quota = 500  # as LINE counts it when the page first asks (then kept for 5 minutes)
    admin = set_up_account(tool, platform, line_api)
    with tool.database.transaction() as db:
        [account] = db.scalars(select(line.LineChannel)).all()
        account.quota_spent_at = account.updated_at
        account.quota_reason = "LINE 429: You have reached your monthly limit."

    page = admin.get("/admin/notices")

    assert 'id="quota-spent"' in page.text and "ข้อความ LINE" in page.text
    assert "PLC_SMTP" not in page.text  # no setting names on pages: said in words
    assert "ส่งข้อความไปแล้ว 0 จาก 500 ข้อความ" in page.text  # LINE's own count (quota and consumption)


def test_the_admin_page_lists_what_waits_after_a_failure_and_what_was_parked(
    tool: ToolServer, platform: TestPlatform, line_api: LineServer
) -> None:
    admin = set_up_account(tool, platform, line_api)
    _teacher, user = link_teacher(tool, platform, line_api)
    with tool.database.transaction() as db:
        person = db.scalars(select(Person).where(Person.sub == TEACHER.sub)).one()
        for reason, state in (
            ("LINE 500: Internal server error", "pending"),
            ("LINE 400: Failed to send messages", "parked"),
        ):
            notice = write_notice(db, person, Kind.YEAR_ENDING, {}, Target(), [Channel.LINE])
            assert notice is not None
            db.flush()
            notice.deliveries[0].last_error, notice.deliveries[0].state = reason, state

    page = admin.get("/admin/notices")

    assert 'id="retrying"' in page.text and "LINE 500: Internal server error" in page.text
    assert 'id="parked"' in page.text and "LINE 400: Failed to send messages" in page.text
    unasked = admin.post("/admin/notices/resend", {"csrf": csrf_of(page, "/admin/notices/resend")})
    assert 'id="confirm-follows"' in unasked.text  # all of them again: asked first, nothing changed yet
    with tool.database.transaction() as db:
        assert db.scalars(select(NoticeDelivery.state).order_by(NoticeDelivery.id)).all() == ["pending", "parked"]
    asked = admin.get("/admin/notices/resend-all")
    resent = admin.post("/admin/notices/resend-all", {"csrf": csrf_of(asked, "/admin/notices/resend-all")})
    assert 'id="resent"' in resent.text
    with tool.database.transaction() as db:
        assert db.scalars(select(NoticeDelivery.state).order_by(NoticeDelivery.id)).all() == ["pending", "pending"]


def test_switching_line_off_asks_first_then_says_it_is_off(
    tool: ToolServer, platform: TestPlatform, line_api: LineServer
) -> None:
    admin = set_up_account(tool, platform, line_api)
    page = admin.get("/admin/notices")
    assert 'name="switch_off"' not in page.text and 'id="line-off"' in page.text
    asked = admin.get("/admin/notices/line/off")
    assert asked.status_code == 200 and 'id="confirm-follows"' in asked.text
    with tool.database.transaction() as db:
        [account] = db.scalars(select(line.LineChannel)).all()
        assert account.is_on  # asking changes nothing

    done = admin.post("/admin/notices/line/off", {"csrf": csrf_of(asked, "/admin/notices/line/off")})

    assert done.status_code == 200 and 'id="line-switched-off"' in done.text
    with tool.database.transaction() as db:
        [account] = db.scalars(select(line.LineChannel)).all()
        assert not account.is_on and account.access_token == account.channel_secret == ""


def test_a_malformed_secret_is_explained_beside_its_field(
    tool: ToolServer, platform: TestPlatform, line_api: LineServer
) -> None:
    admin = admin_visit(tool, platform)
    page = admin.get("/admin/notices")
    data = {
        "csrf": csrf_of(page, "/admin/notices/line"),
        "access_token": "t",
        "channel_secret": "not hex!",
        "basic_id": "x",
    }

    refused = admin.post("/admin/notices/line", data)

    assert (
        refused.status_code == 422
        and 'id="channel_secret-error"' in refused.text
        and 'id="basic_id-error"' in refused.text
    )
    with tool.database.transaction() as db:
        assert db.scalars(select(line.LineChannel)).all() == []


# The replay window, function by function: an event whose effect can repeat, and one older than the window.

SECRET = "0123456789abcdef0123456789abcdef"
LINE_USER = "U" + "1" * 32


def signed(*events: dict[str, Any]) -> tuple[str, str]:
    body = json.dumps({"destination": "Ubot" + "0" * 28, "events": list(events)})
    return body, base64.b64encode(hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).digest()).decode()


def text_event(user_id: str, text: str, when: datetime) -> dict[str, Any]:
    return {
        "type": "message",
        "mode": "active",
        "timestamp": int(when.timestamp() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": "01" + uuid.uuid4().hex[:24].upper(),
        "deliveryContext": {"isRedelivery": False},
        "replyToken": uuid.uuid4().hex,
        "message": {"id": "1", "type": "text", "text": text, "quoteToken": "q"},
    }


def a_linkable_teacher(db: Session) -> Membership:
    teacher = make_course(db, "webhook-" + uuid.uuid4().hex[:6], teachers=1).teachers[0]
    db.add(line.LineChannel(platform_id=teacher.person.platform_id, access_token="token", channel_secret=SECRET))
    db.flush()
    return teacher


def test_the_stop_word_replayed_after_relinking_does_not_unlink_again(db: Session) -> None:
    teacher = a_linkable_teacher(db)
    person_id, platform_id, now = teacher.person_id, teacher.person.platform_id, utcnow()
    texts = wording.translations("th")
    line.link(db, person_id, platform_id, LINE_USER, now)
    stop = signed(text_event(LINE_USER, line.UNLINK_WORD, now))

    first = line_linking.take_webhook(db, platform_id, *stop, texts, now=now)
    line.link(db, person_id, platform_id, LINE_USER, now)  # the teacher links again
    again = line_linking.take_webhook(db, platform_id, *stop, texts, now=now + timedelta(minutes=5))

    assert first.unlinked == [person_id] and len(first.replies) == 1
    assert (again.taken, again.replayed, again.unlinked, again.replies) == (0, 1, [], [])
    assert line.link_of(db, person_id) is not None


def test_an_event_older_than_the_replay_window_is_not_taken(db: Session) -> None:
    teacher = a_linkable_teacher(db)
    person_id, platform_id, now = teacher.person_id, teacher.person.platform_id, utcnow()
    code = line.new_code(db, person_id, platform_id, now).code
    old = now - line_linking.REPLAY_WINDOW - timedelta(minutes=1)

    result = line_linking.take_webhook(
        db, platform_id, *signed(text_event(LINE_USER, code, old)), wording.translations("th"), now=now
    )

    assert (result.taken, result.replayed, result.linked, result.replies) == (0, 1, [], [])
    assert line.link_of(db, person_id) is None
    assert line.live_code(db, person_id, now) is not None  # the code was not used up by the old event


def test_the_months_quota_is_asked_of_line_at_most_every_five_minutes() -> None:
    clock = [1000.0]
    with line_server(quota=500) as server:
        source = (-1, server.access_token)  # a platform of its own in the cache
        first = line_linking.line_quota(source, server.base_url, 2.0, clock=lambda: clock[0])
        asked = server.requests_seen
        clock[0] += line_linking.QUOTA_CACHE_SECONDS - 1
        again = line_linking.line_quota(source, server.base_url, 2.0, clock=lambda: clock[0])
        assert server.requests_seen == asked  # from the cache
        clock[0] += 2
        later = line_linking.line_quota(source, server.base_url, 2.0, clock=lambda: clock[0])

    assert first is not None and first.limit == 500 and again == first and later == first
    assert server.requests_seen == 2 * asked
