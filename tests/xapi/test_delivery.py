"""Outbox → worker → a real Ralph LRS: every statement arrives exactly once, through outages and bad answers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import delete, func, select, update

from lti_tool.workers.loop import Loop
from models.base import utcnow
from models.database import Database
from models.migrate import upgrade
from models.outbox import Delivery, DeliveryState, OutboxStatement
from tests.conftest import TEACHER, register, start_tool
from tests.support.lrs import PASSWORD, USER, CountingProxy, RalphServer
from tests.support.lti_platform import TestPlatform, submit_auto_form
from xapi import outbox, statements
from xapi.delivery import OutboxDelivery
from xapi.lrs_client import LrsDestination
from xapi.vocabulary import ActivityType, Verb

ISSUER = "https://moodle.example.go.th"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    upgrade(database.engine)
    yield database
    with database.transaction() as session:
        session.execute(delete(Delivery))
        session.execute(delete(OutboxStatement))
    database.dispose()


def a_statement(n: int = 0) -> dict:
    course = statements.Activity(
        f"https://plc.example/xapi/activities/course/{n}", ActivityType.COURSE, {"th": "รายวิชา"}
    )
    placement = statements.Activity(
        f"https://plc.example/xapi/activities/placement/{n}", ActivityType.TOOL, {"th": "วงรอบ PLC ที่ 1"}
    )
    ctx = statements.PlcContext(course=course, language="th", platform="Test Moodle")
    actor = statements.Actor(ISSUER, f"teacher-{n}")
    return statements.launched(str(uuid.uuid4()), actor, placement, ctx, "teacher", datetime.now(UTC))


def write(db: Database, count: int, destinations: list[str]) -> list[str]:
    ids = []
    with db.transaction() as session:
        for n in range(count):
            statement = a_statement(n)
            outbox.record(session, statement, None, destinations)
            ids.append(statement["id"])
    return ids


def drain(worker: OutboxDelivery, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.run_once().handled == 0:
            return
    raise AssertionError("the worker did not drain the outbox in time")


def stored_once(ralph: RalphServer, ids: list[str]) -> bool:
    """Every id is stored in Ralph exactly once (read back through its API once)."""
    stored = ralph.stored_ids()
    return all(stored[i] == 1 for i in ids)


def states(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        return dict(session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())


def test_statements_reach_ralph_once_and_unchanged(db: Database, ralph: RalphServer) -> None:
    ids = write(db, 250, ["ralph"])

    drain(OutboxDelivery(db, [ralph.destination()], batch_size=100))

    stored = {s["id"]: s for s in ralph.statements()}
    assert all(stored.get(i) for i in ids)
    assert stored_once(ralph, ids)
    with db.transaction() as session:
        written = session.get(OutboxStatement, ids[0])
        assert written is not None
        assert stored[ids[0]]["actor"] == written.payload["actor"]
        assert stored[ids[0]]["verb"]["id"] == Verb.LAUNCHED
        assert stored[ids[0]]["context"]["contextActivities"] == written.payload["context"]["contextActivities"]
    assert states(db) == {DeliveryState.DELIVERED.value: 250}


def test_sending_again_after_a_lost_acknowledgement_stores_nothing_twice(db: Database, ralph: RalphServer) -> None:
    ids = write(db, 20, ["ralph"])
    drain(OutboxDelivery(db, [ralph.destination()]))
    with db.transaction() as session:  # as if the worker died after Ralph stored them but before the commit
        outbox.resend(session, "ralph")

    drain(OutboxDelivery(db, [ralph.destination()]))

    assert stored_once(ralph, ids)
    assert states(db) == {DeliveryState.DELIVERED.value: 20}


def test_ralph_stopped_mid_delivery_and_restarted_gets_every_statement_exactly_once(
    db: Database, ralph: RalphServer
) -> None:
    ids = write(db, 1500, ["ralph"])
    worker = OutboxDelivery(db, [ralph.destination()], batch_size=50, base_backoff_seconds=0.05, max_backoff_seconds=0.3)
    running = Loop(worker, poll_seconds=0.05).start()
    try:
        while states(db).get(DeliveryState.DELIVERED.value, 0) < 300:
            time.sleep(0.02)
        ralph.stop()  # the LRS goes down in the middle of delivery
        time.sleep(1.0)
        waiting = states(db).get(DeliveryState.PENDING.value, 0)
        ralph.start()
        deadline = time.monotonic() + 90
        while states(db).get(DeliveryState.DELIVERED.value, 0) < 1500 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        running.stop(wait_seconds=10)

    assert waiting > 0, "Ralph was stopped after everything was sent; the test proved nothing"
    stored = ralph.stored_ids()
    assert [i for i in ids if stored[i] != 1] == []
    assert states(db) == {DeliveryState.DELIVERED.value: 1500}


def test_garbage_answer_delivers_nothing_and_is_retried(db: Database, ralph: RalphServer) -> None:
    ids = write(db, 10, ["ralph"])
    proxy = CountingProxy(ralph.base_url)
    proxy.mode = "garbage"
    try:
        report = OutboxDelivery(db, [ralph.destination(endpoint=proxy.endpoint)]).run_once()
        assert (report.delivered, report.retried) == (0, 10)
        assert "not JSON" in report.errors[0]
        with db.transaction() as session:
            waiting = session.scalars(select(Delivery)).all()
            assert all(d.state == DeliveryState.PENDING.value and d.next_attempt_at > utcnow() for d in waiting)
            session.execute(update(Delivery).values(next_attempt_at=utcnow()))  # the backoff has passed
        proxy.mode = "forward"

        drain(OutboxDelivery(db, [ralph.destination(endpoint=proxy.endpoint)]))
    finally:
        proxy.stop()

    assert stored_once(ralph, ids)


def test_invalid_statement_is_parked_and_the_rest_of_its_batch_delivered(db: Database, ralph: RalphServer) -> None:
    ids = write(db, 9, ["ralph"])
    broken = a_statement(99)
    del broken["actor"]  # Ralph answers 422 for the batch that holds it
    with db.transaction() as session:
        session.add(
            OutboxStatement(
                id=broken["id"], verb=Verb.LAUNCHED, payload=broken, deliveries=[Delivery(destination="ralph")]
            )
        )

    report = OutboxDelivery(db, [ralph.destination()], batch_size=50).run_once()

    assert (report.delivered, report.dead) == (9, 1)
    assert stored_once(ralph, ids)
    assert broken["id"] not in ralph.stored_ids()
    with db.transaction() as session:
        dead = outbox.dead_letters(session)
        assert [d.statement_id for d in dead] == [broken["id"]]
        assert dead[0].last_error.startswith("HTTP 422") and "actor" in dead[0].last_error


def test_refused_credentials_are_retried_not_parked(db: Database, ralph: RalphServer) -> None:
    write(db, 3, ["ralph"])
    wrong = LrsDestination(name="ralph", endpoint=ralph.base_url + "/xAPI/", username="plc-bridge", password="wrong")

    report = OutboxDelivery(db, [wrong]).run_once()

    assert (report.retried, report.dead) == (3, 0)
    assert "HTTP 401" in report.errors[0]


def test_each_destination_keeps_its_own_delivery_state(db: Database, ralph: RalphServer) -> None:
    ids = write(db, 5, ["ralph", "backup"])
    down = LrsDestination(name="backup", endpoint="http://127.0.0.1:9/xAPI/", timeout_seconds=2)

    OutboxDelivery(db, [ralph.destination(), down]).run_once()

    with db.transaction() as session:
        rows = outbox.status(session, ["ralph", "backup"])
    by_name = {row.destination: row for row in rows}
    assert (by_name["ralph"].delivered, by_name["ralph"].pending) == (5, 0)
    assert (by_name["backup"].delivered, by_name["backup"].pending) == (0, 5)
    assert stored_once(ralph, ids)


@pytest.mark.postgres
def test_two_workers_on_postgresql_never_send_a_statement_twice(postgres_url: str, ralph: RalphServer) -> None:
    database = Database(postgres_url)
    upgrade(database.engine)
    with database.transaction() as session:
        session.execute(delete(Delivery))
        session.execute(delete(OutboxStatement))
    ids = write(database, 2000, ["ralph"])
    proxy = CountingProxy(ralph.base_url)
    proxy.delay_seconds = 0.01  # batches overlap in time, so the workers really contend
    workers = [OutboxDelivery(database, [ralph.destination(endpoint=proxy.endpoint)], batch_size=40) for _ in range(2)]
    try:
        threads = [threading.Thread(target=drain, args=(w, 120)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        proxy.stop()

    assert sorted(proxy.posted.values()) == [1] * 2000, "some statement was posted twice"
    assert set(proxy.posted) == set(ids)
    assert stored_once(ralph, ids)
    with database.transaction() as session:
        session.execute(delete(Delivery))
        session.execute(delete(OutboxStatement))
    database.dispose()


def test_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(
    database_url: str, db: Database, ralph: RalphServer, tmp_path: Path
) -> None:
    ids = write(db, 120, ["ralph"])
    proxy = CountingProxy(ralph.base_url)
    proxy.delay_seconds = 3.0  # the first batch hangs in the proxy; the worker is killed while it waits
    env = {
        **os.environ,
        "PLC_DATABASE_URL": database_url,
        "PLC_INSTANCE_PATH": str(tmp_path),
        "PLC_LRS": json.dumps([{"name": "ralph", "endpoint": proxy.endpoint, "username": USER, "password": PASSWORD}]),
        "PLC_OUTBOX_BATCH_SIZE": "50",
    }
    command = [sys.executable, "-m", "lti_tool.cli.main", "worker", "--poll", "0.1"]
    try:
        first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not proxy.posted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proxy.posted, "the worker never posted"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert states(db).get(DeliveryState.DELIVERED.value, 0) == 0  # nothing committed by the killed worker

        proxy.delay_seconds = 0.0
        second = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while states(db).get(DeliveryState.DELIVERED.value, 0) < 120 and time.monotonic() < deadline:
            time.sleep(0.1)
        second.terminate()
        second.wait(timeout=10)
    finally:
        proxy.stop()

    stored = ralph.stored_ids()
    assert [i for i in ids if stored[i] != 1] == []
    assert states(db) == {DeliveryState.DELIVERED.value: 120}


def test_a_teachers_launch_appears_in_ralph_within_seconds(
    database_url: str, ralph: RalphServer, tmp_path: Path
) -> None:
    """The embedded default: the web process's worker thread delivers the launch statement."""
    tool = start_tool(tmp_path, database_url, lrs=[ralph.destination()], worker_thread=True)
    platform = TestPlatform(client_id="client-xapi", deployment_id="dep-xapi").start()
    try:
        platform.configure_tool(tool.url("/lti/login"), tool.url("/lti/launch"), tool.url("/lti/jwks"))
        platform.add_user(TEACHER)
        register(tool, platform)
        browser = requests.Session()
        start = platform.initiation_url(sub=TEACHER.sub, context_id="course-42", context_title="PLC วิทยาศาสตร์ ม.2")
        page = submit_auto_form(browser, browser.get(start))
        assert page.status_code == 200

        deadline = time.monotonic() + 10
        mine: list[dict] = []
        while not mine and time.monotonic() < deadline:
            mine = [
                s
                for s in ralph.statements()
                if s["actor"].get("account") == {"homePage": platform.issuer, "name": TEACHER.sub}
            ]
            time.sleep(0.2)
    finally:
        platform.stop()
        assert tool.workers is not None
        tool.workers.stop()  # stop the embedded worker threads
        tool.server.shutdown()
        tool.server.server_close()
        with tool.database.transaction() as session:
            session.execute(delete(Delivery))
            session.execute(delete(OutboxStatement))

    assert len(mine) == 1
    assert mine[0]["verb"]["id"] == Verb.LAUNCHED
    assert mine[0]["context"]["extensions"]
    assert mine[0]["context"]["contextActivities"]["parent"][0]["definition"]["name"]["th-TH"] == "PLC วิทยาศาสตร์ ม.2"
