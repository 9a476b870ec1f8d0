"""Notices leave by e-mail (to a real aiosmtpd process) and LINE (the official SDK against the local Messaging API of
tests/support/line_server.py), delivered by the worker's job: in Thai with the link that opens the tool, never in the
quiet hours, once even when LINE was down or a push is resent, parked with LINE's or the server's reason when refused
for good, held when the month's LINE quota is spent."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select, update

from lti_tool.channels import line as line_api
from lti_tool.settings import Settings, SmtpSettings
from lti_tool.workers.notices import NoticeDeliveryJob
from models import line
from models.calendar import THAI_TIME
from models.notices import Channel, Kind, NoticeDelivery, NoticeState, Target, write_notice
from models.people import Person
from tests.conftest import ToolServer
from tests.factories import make_course
from tests.support.https import self_signed_context
from tests.support.line_server import LineServer, line_server
from tests.support.smtp_server import NO_SUCH_USER, SmtpServer, smtp_server

TITLE = "มีผลการสังเกตชั้นเรียนของคุณเข้ามา"


def morning(days: int = 1, hour: int = 10) -> datetime:
    """`hour` o'clock Thai time `days` days from now: after every row written in the test, outside the quiet hours."""
    today = datetime.now(THAI_TIME).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days)


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path_factory.mktemp("smtp")) as server:
        yield server


@pytest.fixture
def line_api_server() -> Iterator[LineServer]:
    with line_server() as server:
        yield server


def job_for(tool: ToolServer, smtp: SmtpServer | None, server: LineServer, when: datetime) -> NoticeDeliveryJob:
    changes: dict[str, object] = {"line_api_base_url": server.base_url, "line_timeout_seconds": 1.0}
    if smtp is not None:
        changes["smtp"] = SmtpSettings(host="127.0.0.1", port=smtp.port, starttls=False, sender="plc@district.example")
    settings: Settings = tool.settings.model_copy(update=changes)
    return NoticeDeliveryJob(tool.database, settings, base_backoff_seconds=60, clock=lambda: when)


def a_notice(
    tool: ToolServer, server: LineServer, *, email: str | None = None, line_user: str | None = None
) -> tuple[int, int]:
    """(notice id, person id) of an observation notice to a teacher of a course of its own."""
    with tool.database.transaction() as db:
        course = make_course(db, "n-" + uuid.uuid4().hex[:8], teachers=1)
        teacher = course.teachers[0]
        person = teacher.person
        person.email = email
        db.add(
            line.LineChannel(
                platform_id=person.platform_id, access_token=server.access_token, channel_secret=server.channel_secret
            )
        )
        if line_user:
            line.link(db, person.id, person.platform_id, line_user)
        channels = ([Channel.EMAIL] if email else []) + ([Channel.LINE] if line_user else [])
        target = Target("observations.for_cycle", {"number": 1})
        notice = write_notice(db, person, Kind.OBSERVATION_SUBMITTED, {"cycle": 1}, target, channels)
        assert notice is not None
        db.flush()
        return notice.id, person.id


def deliveries(tool: ToolServer, notice_id: int) -> dict[str, NoticeDelivery]:
    with tool.database.transaction() as db:
        rows = db.scalars(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice_id))
        return {row.channel: row for row in rows}


def test_an_email_arrives_in_thai_with_plain_text_html_and_the_link(
    tool: ToolServer, smtp: SmtpServer, line_api_server: LineServer
) -> None:
    smtp.clear()
    notice_id, _ = a_notice(tool, line_api_server, email="kru.somsri@school.example")

    report = job_for(tool, smtp, line_api_server, morning()).run_once()

    assert report.delivered == 1
    [raw] = smtp.raw_messages()
    subject_line = next(line for line in raw.split(b"\n") if line.startswith(b"Subject:"))
    assert b"=?utf-8?" in subject_line.lower()  # RFC 2047: the Thai subject travels as encoded words
    [message] = smtp.messages()
    assert str(make_header(decode_header(message["Subject"]))) == TITLE
    assert message["To"] == "kru.somsri@school.example"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    link = f"{tool.base_url}/notices/{notice_id}"
    assert "วงรอบที่ 1" in plain.get_content() and link in plain.get_content()
    assert f'href="{link}"' in html.get_content() and "วงรอบที่ 1" in html.get_content()
    assert deliveries(tool, notice_id)["email"].state == NoticeState.DELIVERED


def test_nothing_leaves_in_the_quiet_hours_and_it_goes_in_the_morning(
    tool: ToolServer, smtp: SmtpServer, line_api_server: LineServer
) -> None:
    smtp.clear()
    user = line_api_server.add_friend("สมศรี")
    notice_id, _ = a_notice(tool, line_api_server, email="kru@school.example", line_user=user)

    night = job_for(tool, smtp, line_api_server, morning(hour=21)).run_once()
    before_seven = job_for(tool, smtp, line_api_server, morning(days=2, hour=6)).run_once()

    assert night.quiet and before_seven.quiet and night.handled == 0
    assert smtp.raw_messages() == [] and line_api_server.received == []
    assert job_for(tool, smtp, line_api_server, morning(days=2, hour=7)).run_once().delivered == 2
    assert len(smtp.raw_messages()) == 1 and len(line_api_server.delivered_to(user)) == 1


def test_a_line_message_in_thai_carries_the_link_and_a_retry_key(tool: ToolServer, line_api_server: LineServer) -> None:
    user = line_api_server.add_friend("สมศรี")
    notice_id, _ = a_notice(tool, line_api_server, line_user=user)

    assert job_for(tool, None, line_api_server, morning()).run_once().delivered == 1

    [push] = line_api_server.received
    [text] = push.texts
    assert push.to == user and text.startswith(TITLE) and f"{tool.base_url}/notices/{notice_id}" in text
    assert push.retry_key == line_api.retry_key(deliveries(tool, notice_id)["line"].id)


def test_line_down_for_a_while_then_the_message_goes_once(tool: ToolServer, line_api_server: LineServer) -> None:
    user = line_api_server.add_friend("สมศรี")
    notice_id, _ = a_notice(tool, line_api_server, line_user=user)
    line_api_server.fail_next(500)
    line_api_server.fail_next(429)
    line_api_server.fail_next("timeout")

    first = job_for(tool, None, line_api_server, morning()).run_once()
    row = deliveries(tool, notice_id)["line"]
    assert first.retried == 1 and row.state == NoticeState.PENDING and "500" in (row.last_error or "")
    assert row.next_attempt_at > morning() + timedelta(seconds=29)  # backed off (60 s, with jitter)
    later = morning()
    for _ in range(3):
        later += timedelta(hours=1)
        job_for(tool, None, line_api_server, later).run_once()

    assert len(line_api_server.delivered_to(user)) == 1
    assert deliveries(tool, notice_id)["line"].state == NoticeState.DELIVERED


def test_a_push_line_took_before_is_not_sent_again(tool: ToolServer, line_api_server: LineServer) -> None:
    """A worker killed after LINE took the push but before it committed: the next one pushes with the same retry
    key, LINE answers 409 with the accepted request, and the person has one message."""
    user = line_api_server.add_friend("สมศรี")
    notice_id, _ = a_notice(tool, line_api_server, line_user=user)
    key = line_api.retry_key(deliveries(tool, notice_id)["line"].id)
    api = line_api.LineApi(line_api_server.access_token, base_url=line_api_server.base_url)
    assert api.push_text(user, "ข้อความที่ส่งไปก่อนหน้า", key).outcome is line_api.Outcome.DELIVERED

    assert job_for(tool, None, line_api_server, morning()).run_once().delivered == 1
    assert len(line_api_server.received) == 1


def test_an_unknown_line_user_is_parked_with_lines_reason(tool: ToolServer, line_api_server: LineServer) -> None:
    notice_id, _ = a_notice(tool, line_api_server, line_user="U" + "0" * 32)

    assert job_for(tool, None, line_api_server, morning()).run_once().parked == 1

    row = deliveries(tool, notice_id)["line"]
    assert row.state == NoticeState.PARKED and row.last_error == "LINE 400: Failed to send messages"


def test_a_person_who_blocked_the_account_is_parked_not_pushed(tool: ToolServer, line_api_server: LineServer) -> None:
    user = line_api_server.add_friend("สมศรี")
    notice_id, person_id = a_notice(tool, line_api_server, line_user=user)
    with tool.database.transaction() as db:
        found = line.link_of(db, person_id)
        assert found is not None
        found.blocked_at = morning(days=0)  # what the `unfollow` event records (tests/test_line_webhook.py)

    assert job_for(tool, None, line_api_server, morning()).run_once().parked == 1

    assert line_api_server.received == []
    assert "blocked" in (deliveries(tool, notice_id)["line"].last_error or "")


def test_the_months_quota_spent_holds_line_messages_and_says_so(tool: ToolServer, line_api_server: LineServer) -> None:
    line_api_server.quota = 0
    user = line_api_server.add_friend("สมศรี")
    notice_id, person_id = a_notice(tool, line_api_server, line_user=user)

    report = job_for(tool, None, line_api_server, morning()).run_once()

    assert report.held == 1 and line_api_server.received == []
    with tool.database.transaction() as db:
        person = db.get(Person, person_id)
        assert person is not None
        account = line.channel_of(db, person.platform_id)
        assert account is not None and account.quota_spent_at is not None
        assert "monthly limit" in (account.quota_reason or "")
    row = deliveries(tool, notice_id)["line"]
    assert row.state == NoticeState.PENDING and row.next_attempt_at.astimezone(THAI_TIME).day == 1


def test_an_address_the_server_refuses_for_good_is_parked_with_its_answer(
    tool: ToolServer, smtp: SmtpServer, line_api_server: LineServer, caplog: pytest.LogCaptureFixture
) -> None:
    notice_id, _ = a_notice(tool, line_api_server, email="left.the.school" + NO_SUCH_USER)

    with caplog.at_level(logging.INFO):
        assert job_for(tool, smtp, line_api_server, morning()).run_once().parked == 1

    row = deliveries(tool, notice_id)["email"]
    assert row.state == NoticeState.PARKED
    assert row.last_error == "550 5.1.1 (the address): Recipient address rejected: No such user here"
    assert "left.the.school" not in caplog.text and "No such user" in caplog.text  # the reason, not the address


def test_a_mail_server_that_does_not_answer_is_tried_again_later(tool: ToolServer, line_api_server: LineServer) -> None:
    notice_id, _ = a_notice(tool, line_api_server, email="kru@school.example")
    closed = SmtpSettings(host="127.0.0.1", port=1, starttls=False, sender="plc@district.example", timeout_seconds=2)
    settings = tool.settings.model_copy(update={"smtp": closed})
    job = NoticeDeliveryJob(tool.database, settings, base_backoff_seconds=60, clock=lambda: morning())

    assert job.run_once().retried == 1  # no server there: tried again later, not parked
    assert deliveries(tool, notice_id)["email"].state == NoticeState.PENDING


def test_email_waits_while_no_smtp_server_is_set(tool: ToolServer, line_api_server: LineServer, tmp_path: Path) -> None:
    notice_id, _ = a_notice(tool, line_api_server, email="kru@school.example")
    assert job_for(tool, None, line_api_server, morning()).run_once().handled == 0
    assert deliveries(tool, notice_id)["email"].state == NoticeState.PENDING


def test_an_email_goes_over_starttls_to_a_server_with_a_private_ca(
    tool: ToolServer, line_api_server: LineServer, tmp_path: Path
) -> None:
    self_signed_context(tmp_path)  # writes cert.pem and key.pem, naming 127.0.0.1
    cert = tmp_path / "cert.pem"
    notice_id, _ = a_notice(tool, line_api_server, email="kru@school.example")
    with smtp_server(tmp_path, tls=(cert, tmp_path / "key.pem")) as server:
        tls = SmtpSettings(
            host="127.0.0.1", port=server.port, starttls=True, sender="plc@district.example", ca_file=cert
        )
        settings = tool.settings.model_copy(update={"smtp": tls})
        job = NoticeDeliveryJob(tool.database, settings, clock=lambda: morning())

        assert job.run_once().delivered == 1

        [message] = server.messages()
    assert str(make_header(decode_header(message["Subject"]))) == TITLE
    assert deliveries(tool, notice_id)["email"].state == NoticeState.DELIVERED


def test_an_address_no_header_can_carry_is_parked_and_the_others_go(
    tool: ToolServer, smtp: SmtpServer, line_api_server: LineServer
) -> None:
    smtp.clear()
    bad_id, _ = a_notice(tool, line_api_server, email="kru@school.example\nBcc: everyone@school.example")
    good_id, _ = a_notice(tool, line_api_server, email="kru@school.example")

    report = job_for(tool, smtp, line_api_server, morning()).run_once()

    assert (report.parked, report.delivered) == (1, 1)
    assert "cannot be used" in (deliveries(tool, bad_id)["email"].last_error or "")
    assert [m["To"] for m in smtp.messages()] == ["kru@school.example"]
    assert deliveries(tool, good_id)["email"].state == NoticeState.DELIVERED


def test_a_quota_spent_last_month_holds_nothing_this_month(tool: ToolServer, line_api_server: LineServer) -> None:
    user = line_api_server.add_friend("สมศรี")
    notice_id, person_id = a_notice(tool, line_api_server, line_user=user)
    with tool.database.transaction() as db:
        person = db.get(Person, person_id)
        assert person is not None
        account = line.channel_of(db, person.platform_id)
        assert account is not None
        account.quota_spent_at, account.quota_reason = morning(days=-40), "You have reached your monthly limit."

    report = job_for(tool, None, line_api_server, morning()).run_once()

    assert report.delivered == 1 and report.held == 0
    assert len(line_api_server.received) == 1
    with tool.database.transaction() as db:
        person = db.get(Person, person_id)
        assert person is not None
        account = line.channel_of(db, person.platform_id)
        assert account is not None and account.quota_spent_at is None
    assert deliveries(tool, notice_id)["line"].state == NoticeState.DELIVERED


def test_an_email_is_marked_sending_and_committed_before_it_leaves(
    tool: ToolServer, smtp: SmtpServer, line_api_server: LineServer
) -> None:
    smtp.clear()
    notice_id, _ = a_notice(tool, line_api_server, email="kru.sending@school.example")
    job = job_for(tool, smtp, line_api_server, morning())
    seen: list[str] = []
    send = job._mail

    def looking(settings: SmtpSettings, message: object) -> tuple[str, str]:
        seen.append(deliveries(tool, notice_id)["email"].state)  # what another connection sees while it is sent
        return send(settings, message)  # type: ignore[arg-type]

    job._mail = looking  # type: ignore[method-assign]
    assert job.run_once().delivered == 1

    assert seen == [NoticeState.SENDING]
    assert deliveries(tool, notice_id)["email"].state == NoticeState.DELIVERED


def test_an_email_whose_sending_was_cut_short_is_parked_not_sent_again(
    tool: ToolServer, smtp: SmtpServer, line_api_server: LineServer
) -> None:
    smtp.clear()
    user = line_api_server.add_friend("สมศรี")
    notice_id, _ = a_notice(tool, line_api_server, email="kru.cut@school.example", line_user=user)
    with tool.database.transaction() as db:  # a worker died after committing "sending", before the answer
        for row in db.scalars(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice_id)):
            row.state, row.next_attempt_at = NoticeState.SENDING.value, morning(days=-1)

    report = job_for(tool, smtp, line_api_server, morning()).run_once()

    assert smtp.raw_messages() == []
    email = deliveries(tool, notice_id)["email"]
    assert email.state == NoticeState.PARKED and "may have arrived" in (email.last_error or "")
    assert "kru.cut" not in (email.last_error or "")
    assert report.parked == 1 and report.delivered == 1  # LINE takes its retry key once: that one goes again
    assert len(line_api_server.delivered_to(user)) == 1


def test_an_idle_worker_sweeps_for_rows_past_their_lease_at_most_every_15_seconds(
    tool: ToolServer, smtp: SmtpServer, line_api_server: LineServer
) -> None:
    smtp.clear()
    clock = [morning()]
    job = job_for(tool, smtp, line_api_server, clock[0])
    job.now = lambda: clock[0]
    job.run_once()  # its first pass sweeps
    notice_id, _ = a_notice(tool, line_api_server, email="kru.sweep@school.example")
    row = deliveries(tool, notice_id)["email"]
    with tool.database.transaction() as db:  # another worker died after committing "sending"
        db.execute(
            update(NoticeDelivery)
            .where(NoticeDelivery.id == row.id)
            .values(state=NoticeState.SENDING.value, next_attempt_at=morning(days=-1))
        )

    clock[0] += timedelta(seconds=14)
    job.run_once()
    assert deliveries(tool, notice_id)["email"].state == NoticeState.SENDING  # no sweep yet
    clock[0] += timedelta(seconds=1)
    assert job.run_once().parked >= 1

    assert deliveries(tool, notice_id)["email"].state == NoticeState.PARKED
    assert not any(b"kru.sweep" in message for message in smtp.raw_messages())


def test_a_line_message_is_leased_for_three_times_lines_timeout_an_email_for_ten_minutes(
    tool: ToolServer, smtp: SmtpServer, line_api_server: LineServer
) -> None:
    """A worker that dies mid-send holds its LINE messages back only until their call has surely ended (safe to send
    again: the retry key), while an e-mail's lease gives its outcome time to be known."""
    smtp.clear()
    user = line_api_server.add_friend("สมศรี")
    notice_id, _ = a_notice(tool, line_api_server, email="kru.lease@school.example", line_user=user)
    job = job_for(tool, smtp, line_api_server, morning())
    leases: dict[str, timedelta] = {}
    send = job._send

    def looking(jobs: list[Any]) -> Iterator[Any]:
        for channel, row in deliveries(tool, notice_id).items():
            leases[channel] = row.next_attempt_at - morning()
        yield from send(jobs)

    job._send = looking  # type: ignore[method-assign]
    assert job.run_once().delivered == 2
    assert leases == {"line": timedelta(seconds=3 * job.settings.line_timeout_seconds), "email": timedelta(minutes=10)}


def test_an_email_goes_over_implicit_tls(tool: ToolServer, line_api_server: LineServer, tmp_path: Path) -> None:
    self_signed_context(tmp_path)
    cert = tmp_path / "cert.pem"
    notice_id, _ = a_notice(tool, line_api_server, email="kru.smtps@school.example")
    with smtp_server(tmp_path, tls=(cert, tmp_path / "key.pem"), implicit_tls=True) as server:
        smtps = SmtpSettings(
            host="127.0.0.1", port=server.port, starttls=False, implicit_tls=True, sender="plc@district.example",
            ca_file=cert,
        )  # fmt: skip
        settings = tool.settings.model_copy(update={"smtp": smtps})

        assert NoticeDeliveryJob(tool.database, settings, clock=lambda: morning()).run_once().delivered == 1

        assert len(server.messages()) == 1
    assert deliveries(tool, notice_id)["email"].state == NoticeState.DELIVERED


def test_a_password_is_not_sent_to_a_mail_server_elsewhere_without_tls() -> None:
    plain = {"port": 25, "starttls": False, "user": "plc", "password": "secret", "sender": "plc@district.example"}

    with pytest.raises(ValidationError, match="only over TLS"):
        SmtpSettings(host="mail.district.example", **plain)  # type: ignore[arg-type]

    assert SmtpSettings(host="127.0.0.1", **plain).user == "plc"  # type: ignore[arg-type]
    assert SmtpSettings(host="mail.district.example", **{**plain, "implicit_tls": True}).implicit_tls  # type: ignore[arg-type]
    assert not SmtpSettings(host="mail.district.example", port=25, starttls=False, sender="plc@d.example").user
