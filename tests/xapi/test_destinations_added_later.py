"""An LRS configured after records were written (PLC_LRS set later, or a second LRS added) gets every one of them,
once: written through the tool with no LRS, then a worker started with the new settings, against a real Ralph."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import func, select

from lti_tool.cli.main import main
from lti_tool.lti.service_tokens import ServiceClient
from lti_tool.settings import Settings
from lti_tool.workers.in_process import delivery_jobs
from models.database import Database
from models.migrate import upgrade
from models.outbox import Delivery, DeliveryState, OutboxStatement
from models.platform import Platform
from tests.conftest import TEACHER, ToolServer, delete_test_data, launch, register, start_tool
from tests.support.lrs import PASSWORD, USER, CountingProxy, RalphServer
from tests.support.lti_platform import TestPlatform
from tests.xapi.test_delivery import a_statement, drain, drain_side_by_side, stored_once, write
from tests.xapi.test_outbox_web import ADMIN
from xapi import outbox
from xapi.delivery import OutboxDelivery


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    upgrade(database.engine)
    yield database
    delete_test_data(database)
    database.dispose()


def write_for_platform(database: Database, count: int, issuer: str) -> list[str]:
    """Records of one platform's people written while no LRS is configured (the admin page shows its own platform's)."""
    with database.transaction() as db:
        platform_id = db.scalar(select(Platform.id).where(Platform.issuer == issuer))
        statements = [a_statement(n) for n in range(count)]
        for statement in statements:
            outbox.record(db, statement, platform_id, [])
    return [statement["id"] for statement in statements]


def every_statement_id(database: Database) -> list[str]:
    with database.transaction() as db:
        return list(db.scalars(select(OutboxStatement.id)))


def deliveries(database: Database) -> dict[tuple[str, str], int]:
    with database.transaction() as db:
        rows = db.execute(
            select(Delivery.destination, Delivery.state, func.count()).group_by(Delivery.destination, Delivery.state)
        )
        return {(destination, state): int(count) for destination, state, count in rows}


def settings_with(tmp_path: Path, database_url: str, *destinations: object) -> Settings:
    """The settings a restarted tool reads once PLC_LRS names these LRSs."""
    return Settings(
        instance_path=tmp_path,
        database_url=database_url,
        public_base_url="http://127.0.0.1:9",
        secret_key="test-secret-later-lrs",
        worker_thread=False,
        lrs=list(destinations),
    ).resolved()


def learning_record_job(database: Database, settings: Settings) -> OutboxDelivery:
    jobs = [job for job in delivery_jobs(database, settings, ServiceClient(database)) if job.name == "xapi-outbox"]
    assert len(jobs) == 1, "a worker with an LRS configured runs the learning-record job"
    job = jobs[0]
    assert isinstance(job, OutboxDelivery)
    return job


@pytest.fixture
def platform_for(tmp_path: Path) -> Iterator[list[TestPlatform]]:
    started: list[TestPlatform] = []
    yield started
    for platform in started:
        platform.stop()


def launch_into(tool: ToolServer, started: list[TestPlatform], *users: object) -> TestPlatform:
    platform = TestPlatform(client_id=f"client-later-{len(started)}", deployment_id="dep-later").start()
    started.append(platform)
    platform.configure_tool(tool.url("/lti/login"), tool.url("/lti/launch"), tool.url("/lti/jwks"))
    register(tool, platform)
    for user in users:
        platform.add_user(user)  # type: ignore[arg-type]
    return platform


def test_records_written_before_any_lrs_was_configured_reach_it_once_it_is(
    database: Database, database_url: str, ralph: RalphServer, tmp_path: Path, platform_for: list[TestPlatform]
) -> None:
    before = start_tool(tmp_path / "before", database_url)  # PLC_LRS unset
    try:
        platform = launch_into(before, platform_for, TEACHER)
        for _ in range(3):
            assert launch(requests.Session(), platform, TEACHER).status_code == 200
    finally:
        before.server.shutdown()
        before.server.server_close()
    write(database, 20, before.settings.lrs_names)  # as every PLC event writes its records: for no LRS at all
    ids = every_statement_id(database)
    assert len(ids) == 23 and deliveries(database) == {}

    job = learning_record_job(database, settings_with(tmp_path, database_url, ralph.destination()))
    drain(job)

    assert stored_once(ralph, ids)
    assert deliveries(database) == {("ralph", DeliveryState.DELIVERED.value): 23}


def test_a_second_lrs_added_later_gets_every_record_and_a_rerun_sends_nothing_twice(
    database: Database, database_url: str, ralph: RalphServer, tmp_path: Path
) -> None:
    early = write(database, 30, [])  # before any LRS
    drain(learning_record_job(database, settings_with(tmp_path, database_url, ralph.destination())))
    later = write(database, 15, ["ralph"])  # written while only the first LRS is configured
    proxy = CountingProxy(ralph.base_url)  # the second LRS, counted on its way in
    second = ralph.destination(name="backup", endpoint=proxy.endpoint)
    try:
        both = settings_with(tmp_path, database_url, ralph.destination(), second)
        drain(learning_record_job(database, both))
        first_pass = dict(proxy.posted)
        drain(learning_record_job(database, both))  # the worker restarted: nothing is queued or sent again
    finally:
        proxy.stop()

    assert first_pass == {i: 1 for i in early + later}, "the second LRS did not get every record exactly once"
    assert dict(proxy.posted) == first_pass
    assert stored_once(ralph, early + later)
    assert deliveries(database) == {
        ("ralph", DeliveryState.DELIVERED.value): 45,
        ("backup", DeliveryState.DELIVERED.value): 45,
    }


def test_the_cli_worker_sends_what_waited_for_an_lrs_once_plc_lrs_is_set(
    database: Database, database_url: str, ralph: RalphServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = write(database, 12, [])
    monkeypatch.setenv("PLC_DATABASE_URL", database_url)
    monkeypatch.setenv("PLC_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(
        "PLC_LRS",
        json.dumps([{"name": "ralph", "endpoint": ralph.base_url + "/xAPI/", "username": USER, "password": PASSWORD}]),
    )

    result = CliRunner().invoke(main, ["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "delivered 12" in result.output
    assert stored_once(ralph, ids)


@pytest.mark.postgres
def test_two_workers_on_postgresql_queue_and_send_a_backlog_once(postgres_url: str, ralph: RalphServer) -> None:
    database = Database(postgres_url)
    upgrade(database.engine)
    delete_test_data(database)
    ids = write(database, 1500, [])
    proxy = CountingProxy(ralph.base_url)
    proxy.delay_seconds = 0.01  # batches overlap in time, so the workers really contend
    destination = ralph.destination(endpoint=proxy.endpoint)
    # Both queue the backlog in many small steps and deliver it in small batches: they meet at every turn.
    workers = [OutboxDelivery(database, [destination], batch_size=40, queue_batch_size=100) for _ in range(2)]
    try:
        all_sent = ("ralph", DeliveryState.DELIVERED.value)
        drain_side_by_side(workers, lambda: deliveries(database).get(all_sent) == 1500)
    finally:
        proxy.stop()

    assert sorted(proxy.posted.values()) == [1] * 1500, "some record was posted twice"
    assert set(proxy.posted) == set(ids)
    assert deliveries(database) == {("ralph", DeliveryState.DELIVERED.value): 1500}
    delete_test_data(database)
    database.dispose()


def test_a_statement_written_by_a_process_without_the_lrs_after_the_backlog_was_sent_is_sent_too(
    database: Database, database_url: str, ralph: RalphServer, tmp_path: Path
) -> None:
    """During a rolling restart a web process still without PLC_LRS writes after the worker caught up."""
    job = learning_record_job(database, settings_with(tmp_path, database_url, ralph.destination()))
    first = write(database, 5, [])
    drain(job)
    straggler = a_statement(7)
    with database.transaction() as db:
        outbox.record(db, straggler, None, [])

    drain(job)

    assert stored_once(ralph, [*first, straggler["id"]])
    assert deliveries(database) == {("ralph", DeliveryState.DELIVERED.value): 6}


def test_the_admin_page_counts_what_waits_for_no_lrs_then_per_lrs_once_one_is_configured(
    database_url: str, ralph: RalphServer, tmp_path: Path, platform_for: list[TestPlatform]
) -> None:
    before = start_tool(tmp_path / "before", database_url)
    after: ToolServer | None = None
    try:
        platform = launch_into(before, platform_for, ADMIN)
        browser = requests.Session()
        launch(browser, platform, ADMIN)
        write_for_platform(before.database, 22, platform.issuer)  # with the admin's own launch: 23 records wait

        page = browser.get(before.url("/admin/outbox"), params={"lang": "en"})
        assert page.status_code == 200
        assert "No records yet" not in page.text
        assert 'data-destination="" data-waiting="23"' in page.text
        assert "23 learning records wait for a Learning Record Store" in page.text
        assert "PLC_LRS" in page.text
        thai = browser.get(before.url("/admin/outbox"), params={"lang": "th"})
        assert "บันทึกการเรียนรู้ 23 รายการรอ" in thai.text

        after = start_tool(tmp_path / "after", database_url, lrs=[ralph.destination()])
        platform.configure_tool(after.url("/lti/login"), after.url("/lti/launch"), after.url("/lti/jwks"))
        browser = requests.Session()
        launch(browser, platform, ADMIN)  # one more record, written for the LRS now configured
        page = browser.get(after.url("/admin/outbox"), params={"lang": "en"})
        assert 'data-destination="ralph" data-waiting="24"' in page.text
        assert "wait for a Learning Record Store" not in page.text

        drain(learning_record_job(after.database, after.settings))
        page = browser.get(after.url("/admin/outbox"), params={"lang": "en"})
        assert 'data-destination="ralph" data-waiting="0" data-delivered="24"' in page.text
    finally:
        for tool in (before, after):
            if tool is not None:
                tool.server.shutdown()
                tool.server.server_close()
        delete_test_data(before.database)
        before.database.dispose()


def test_cli_outbox_status_counts_what_waits_for_no_lrs_then_for_the_lrs_once_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'status.sqlite3'}"
    monkeypatch.setenv("PLC_DATABASE_URL", url)
    monkeypatch.setenv("PLC_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("PLC_LRS", raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    database = Database(url)
    write(database, 4, [])
    database.dispose()

    before = runner.invoke(main, ["outbox", "status"])
    monkeypatch.setenv("PLC_LRS", json.dumps([{"name": "district", "endpoint": "http://127.0.0.1:9/xAPI/"}]))
    after = runner.invoke(main, ["outbox", "status"])

    assert before.exit_code == 0 and "no LRS\twaiting=4\t" in before.output and "PLC_LRS" in before.output
    assert "the outbox is empty" not in before.output
    assert after.exit_code == 0 and "district\tpending=4\tdelivered=0\tdead=0\t" in after.output
    assert "not_yet_queued=4" in after.output and "no LRS" not in after.output
