"""Outbox → worker → a real Ralph LRS: every statement arrives exactly once, through outages and bad answers."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select, update

from lti_tool.workers.loop import Loop
from models.base import utcnow
from models.database import Database
from models.migrate import upgrade
from models.outbox import Delivery, DeliveryState, OutboxStatement
from tests.conftest import TEACHER, delete_test_data, register, start_tool
from tests.support.lrs import PASSWORD, USER, CountingProxy, RalphServer
from tests.support.lti_platform import TestPlatform, submit_auto_form
from tests.support.waiting import wait_until
from xapi import outbox, statements
from xapi.delivery import OutboxDelivery
from xapi.lrs_client import LrsDestination
from xapi.vocabulary import ActivityType, Verb

ISSUER = "https://moodle.example.go.th"


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """The session's database, migrated to head; the workers commit, so the rows are deleted after the test."""
    database = Database(database_url)
    upgrade(database.engine)
    yield database
    delete_test_data(database)
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


def write(database: Database, count: int, destinations: list[str]) -> list[str]:
    ids = []
    with database.transaction() as session:
        for n in range(count):
            statement = a_statement(n)
            outbox.record(session, statement, None, destinations)
            ids.append(statement["id"])
    return ids


def drain(worker: OutboxDelivery, timeout: float = 60) -> None:
    wait_until(lambda: worker.run_once().handled == 0, timeout, 0, "the worker did not drain the outbox in time")


def drain_side_by_side(workers: list[OutboxDelivery], done: Callable[[], bool], timeout: float = 180) -> None:
    """Run the workers in threads at once, each until a pass of its finds nothing and `done()` holds (a pass that
    finds nothing may only mean the other worker holds the rows); a failed pass in a thread fails the test."""
    failures: list[BaseException] = []

    def work(worker: OutboxDelivery) -> None:
        try:
            wait_until(lambda: worker.run_once().handled == 0 and done(), timeout, 0, "the workers did not finish")
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def stored_once(ralph: RalphServer, ids: list[str]) -> bool:
    """Every id is stored in Ralph exactly once (read back through its API once)."""
    stored = ralph.stored_ids()
    return all(stored[i] == 1 for i in ids)


def states(database: Database) -> dict[str, int]:
    with database.transaction() as session:
        return dict(session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())


def delivered(database: Database) -> int:
    return states(database).get(DeliveryState.DELIVERED.value, 0)


def test_statements_reach_ralph_once_and_unchanged(database: Database, ralph: RalphServer) -> None:
    ids = write(database, 250, ["ralph"])

    drain(OutboxDelivery(database, [ralph.destination()], batch_size=100))

    stored = {s["id"]: s for s in ralph.statements()}
    assert all(stored.get(i) for i in ids)
    assert stored_once(ralph, ids)
    with database.transaction() as session:
        written = session.get(OutboxStatement, ids[0])
        assert written is not None
        assert stored[ids[0]]["actor"] == written.payload["actor"]
        assert stored[ids[0]]["verb"]["id"] == Verb.LAUNCHED
        assert stored[ids[0]]["context"]["contextActivities"] == written.payload["context"]["contextActivities"]
    assert states(database) == {DeliveryState.DELIVERED.value: 250}


def test_sending_again_after_a_lost_acknowledgement_stores_nothing_twice(
    database: Database, ralph: RalphServer
) -> None:
    ids = write(database, 20, ["ralph"])
    drain(OutboxDelivery(database, [ralph.destination()]))
    with database.transaction() as session:  # as if the worker died after Ralph stored them but before the commit
        outbox.resend(session, "ralph")

    drain(OutboxDelivery(database, [ralph.destination()]))

    assert stored_once(ralph, ids)
    assert states(database) == {DeliveryState.DELIVERED.value: 20}


def test_ralph_stopped_mid_delivery_and_restarted_gets_every_statement_exactly_once(
    database: Database, ralph: RalphServer
) -> None:
    ids = write(database, 1500, ["ralph"])
    worker = OutboxDelivery(
        database, [ralph.destination()], batch_size=50, base_backoff_seconds=0.05, max_backoff_seconds=0.3
    )
    running = Loop(worker, poll_seconds=0.05).start()
    try:
        # pytest-timeout ended this wait at 120 s before it had a deadline of its own
        wait_until(lambda: delivered(database) >= 300, timeout=120, interval=0.02, message="300 never arrived")
        ralph.stop()  # the LRS goes down in the middle of delivery
        time.sleep(1.0)
        waiting = states(database).get(DeliveryState.PENDING.value, 0)
        ralph.start()
        wait_until(lambda: delivered(database) >= 1500, timeout=90, message="not every statement arrived")
    finally:
        running.stop(wait_seconds=10)

    assert waiting > 0, "Ralph was stopped after everything was sent; the test proved nothing"
    stored = ralph.stored_ids()
    assert [i for i in ids if stored[i] != 1] == []
    assert states(database) == {DeliveryState.DELIVERED.value: 1500}


def test_garbage_answer_delivers_nothing_and_is_retried(database: Database, ralph: RalphServer) -> None:
    ids = write(database, 10, ["ralph"])
    proxy = CountingProxy(ralph.base_url)
    proxy.mode = "garbage"
    try:
        report = OutboxDelivery(database, [ralph.destination(endpoint=proxy.endpoint)]).run_once()
        assert (report.delivered, report.retried) == (0, 10)
        assert "not JSON" in report.errors[0]
        with database.transaction() as session:
            waiting = session.scalars(select(Delivery)).all()
            assert all(d.state == DeliveryState.PENDING.value and d.next_attempt_at > utcnow() for d in waiting)
            session.execute(update(Delivery).values(next_attempt_at=utcnow()))  # the backoff has passed
        proxy.mode = "forward"

        drain(OutboxDelivery(database, [ralph.destination(endpoint=proxy.endpoint)]))
    finally:
        proxy.stop()

    assert stored_once(ralph, ids)


def test_invalid_statement_is_parked_and_the_rest_of_its_batch_delivered(
    database: Database, ralph: RalphServer
) -> None:
    ids = write(database, 9, ["ralph"])
    broken = a_statement(99)
    del broken["actor"]  # Ralph answers 422 for the batch that holds it
    with database.transaction() as session:
        session.add(
            OutboxStatement(
                id=broken["id"], verb=Verb.LAUNCHED, payload=broken, deliveries=[Delivery(destination="ralph")]
            )
        )

    report = OutboxDelivery(database, [ralph.destination()], batch_size=50).run_once()

    assert (report.delivered, report.dead) == (9, 1)
    assert stored_once(ralph, ids)
    assert broken["id"] not in ralph.stored_ids()
    with database.transaction() as session:
        dead = outbox.dead_letters(session)
        assert [d.statement_id for d in dead] == [broken["id"]]
        assert dead[0].last_error.startswith("HTTP 422") and "actor" in dead[0].last_error


def test_refused_credentials_are_retried_not_parked(database: Database, ralph: RalphServer) -> None:
    write(database, 3, ["ralph"])
    wrong = LrsDestination(name="ralph", endpoint=ralph.base_url + "/xAPI/", username="plc-bridge", password="wrong")

    report = OutboxDelivery(database, [wrong]).run_once()

    assert (report.retried, report.dead) == (3, 0)
    assert "HTTP 401" in report.errors[0]


def test_each_destination_keeps_its_own_delivery_state(database: Database, ralph: RalphServer) -> None:
    ids = write(database, 5, ["ralph", "backup"])
    down = LrsDestination(name="backup", endpoint="http://127.0.0.1:9/xAPI/", timeout_seconds=2)

    OutboxDelivery(database, [ralph.destination(), down]).run_once()

    with database.transaction() as session:
        rows = outbox.status(session, ["ralph", "backup"])
    by_name = {row.destination: row for row in rows}
    assert (by_name["ralph"].delivered, by_name["ralph"].pending) == (5, 0)
    assert (by_name["backup"].delivered, by_name["backup"].pending) == (0, 5)
    assert stored_once(ralph, ids)


@pytest.mark.postgres
def test_two_workers_on_postgresql_never_send_a_statement_twice(postgres_url: str, ralph: RalphServer) -> None:
    database = Database(postgres_url)
    upgrade(database.engine)
    delete_test_data(database)
    ids = write(database, 2000, ["ralph"])
    proxy = CountingProxy(ralph.base_url)
    proxy.delay_seconds = 0.01  # batches overlap in time, so the workers really contend
    workers = [OutboxDelivery(database, [ralph.destination(endpoint=proxy.endpoint)], batch_size=40) for _ in range(2)]
    try:
        drain_side_by_side(workers, lambda: delivered(database) == 2000, timeout=120)
    finally:
        proxy.stop()

    assert sorted(proxy.posted.values()) == [1] * 2000, "some statement was posted twice"
    assert set(proxy.posted) == set(ids)
    assert stored_once(ralph, ids)
    delete_test_data(database)
    database.dispose()


def test_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(
    database_url: str, database: Database, ralph: RalphServer, tmp_path: Path
) -> None:
    ids = write(database, 120, ["ralph"])
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
        wait_until(lambda: proxy.posted, timeout=30, interval=0.05, message="the worker never posted")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert states(database).get(DeliveryState.DELIVERED.value, 0) == 0  # nothing committed by the killed worker

        proxy.delay_seconds = 0.0
        second = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: delivered(database) >= 120, timeout=60, message="the second worker did not deliver all")
        second.terminate()
        second.wait(timeout=10)
    finally:
        proxy.stop()

    stored = ralph.stored_ids()
    assert [i for i in ids if stored[i] != 1] == []
    assert states(database) == {DeliveryState.DELIVERED.value: 120}


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

        teacher = {"homePage": platform.issuer, "name": TEACHER.sub}
        mine: list[dict] = wait_until(
            lambda: [s for s in ralph.statements() if s["actor"].get("account") == teacher],
            timeout=10,
            interval=0.2,
            message="the launch statement never reached Ralph",
        )
    finally:
        platform.stop()
        assert tool.workers is not None
        tool.workers.stop()  # stop the embedded worker threads
        tool.server.shutdown()
        tool.server.server_close()
        delete_test_data(tool.database)

    assert len(mine) == 1
    assert mine[0]["verb"]["id"] == Verb.LAUNCHED
    assert mine[0]["context"]["extensions"]
    assert mine[0]["context"]["contextActivities"]["parent"][0]["definition"]["name"]["th-TH"] == "PLC วิทยาศาสตร์ ม.2"


def test_a_pass_that_empties_the_queue_lets_what_comes_next_gather_for_one_post(
    database: Database, ralph: RalphServer
) -> None:
    """A pass whose batch was not full left nothing due: the loop waits its poll interval before the next pass (not an
    empty pass at once), and records written meanwhile go out together in one post."""
    proxy = CountingProxy(ralph.base_url)
    worker = OutboxDelivery(database, [ralph.destination(endpoint=proxy.endpoint)], batch_size=5)
    passes: list[tuple[float, float, int, bool]] = []  # (started, ended, delivered, more waiting)

    class Timed:
        name = worker.name

        def run_once(self) -> Any:
            started = time.monotonic()
            report = worker.run_once()
            passes.append((started, time.monotonic(), report.delivered, report.more_waiting))
            return report

    try:
        ids = write(database, 7, ["ralph"])
        full, rest = worker.run_once(), worker.run_once()
        assert (full.delivered, full.more_waiting) == (5, True)  # five more may be due: the next pass at once
        assert (rest.delivered, rest.more_waiting) == (2, False)  # the queue is empty: wait before the next

        running = Loop(Timed(), poll_seconds=0.6).start()
        try:
            for _ in range(6):  # a trickle: one record every 0.1 s
                ids += write(database, 1, ["ralph"])
                time.sleep(0.1)
            wait_until(lambda: delivered(database) == 13, timeout=30, message="the trickle was not delivered")
            time.sleep(0.8)  # long enough for the pass after the last delivery
        finally:
            running.stop(wait_seconds=10)
    finally:
        proxy.stop()

    pairs = itertools.pairwise(passes)
    after_work = [following[0] - ended for (_, ended, sent, more), following in pairs if sent and not more]
    assert after_work and min(after_work) >= 0.55, passes  # no pass came at once after one that emptied the queue
    assert proxy.posts <= 2 + 3, f"{proxy.posts} posts: the six records were not gathered"
    assert stored_once(ralph, ids)


def test_a_queueing_read_of_records_already_queued_does_not_hurry_the_next_pass(
    database: Database, ralph: RalphServer
) -> None:
    """While the records are younger than the settle time, every queueing pass reads them again from the mark and finds
    them queued: such a read does not make the next pass come at once (a PLC day's worker would post to the LRS on
    every pass), and a record written without a delivery row is queued and delivered by the next pass."""
    worker = OutboxDelivery(database, [ralph.destination()], queue_batch_size=3)
    delivered_first = write(database, 3, ["ralph"])
    drain(worker)
    worker = OutboxDelivery(database, [ralph.destination()], queue_batch_size=3)  # a new worker reads from the mark
    written_before = write(database, 2, [])  # no delivery row for the LRS yet

    first = worker.run_once()
    second = worker.run_once()

    assert (first.queued, first.delivered, first.more_waiting) == (0, 0, False)  # three read, none missing
    assert (second.queued, second.delivered, second.more_waiting) == (2, 2, False)
    assert stored_once(ralph, delivered_first + written_before)
