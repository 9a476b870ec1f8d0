"""The outbox seen from the web and the command line: the launch statement, the profile, the admin page."""

from __future__ import annotations

import json

import requests
from click.testing import CliRunner
from sqlalchemy import select

from lti_tool.cli.main import main
from models.outbox import Delivery, OutboxStatement
from tests.conftest import LIS, TEACHER, ToolServer, launch
from tests.support.lti_platform import LaunchUser, TestPlatform
from xapi.vocabulary import PROFILE, Verb

ADMIN = LaunchUser(
    sub="u-admin-1",
    name="ธีรวัฒน์ พงษ์ไทย",
    given_name="ธีรวัฒน์",
    family_name="พงษ์ไทย",
    email="teerawat@example.org",
    # The LMS's site administrator, with the roles Moodle sends for one.
    roles=[
        "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
        LIS + "Instructor",
    ],
)


def test_a_launch_writes_one_launched_statement_in_its_transaction(tool: ToolServer, platform: TestPlatform) -> None:
    launch(requests.Session(), platform, TEACHER)

    with tool.database.transaction() as db:
        rows = db.scalars(select(OutboxStatement)).all()
        assert [row.verb for row in rows] == [Verb.LAUNCHED]
        statement = rows[0].payload
        assert statement["actor"] == {
            "objectType": "Agent",
            "account": {"homePage": platform.issuer, "name": TEACHER.sub},
        }
        assert statement["context"]["language"] == "th"
        assert statement["context"]["contextActivities"]["category"][0]["id"].startswith(PROFILE)
        # No LRS is configured for this tool: the statement waits with no delivery rows, until a worker with an LRS
        # configured queues it (tests/xapi/test_destinations_added_later.py).
        assert db.scalars(select(Delivery)).all() == []
    with tool.database.transaction() as db:
        for row in db.scalars(select(OutboxStatement)):
            db.delete(row)


def test_profile_document_is_served_as_json_ld(tool: ToolServer) -> None:
    response = requests.get(tool.url("/xapi/profile"))

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/ld+json")
    assert response.json()["id"] == PROFILE


def test_teacher_cannot_open_the_outbox_admin_page(tool: ToolServer, platform: TestPlatform) -> None:
    page = launch(requests.Session(), platform, TEACHER)
    token = page.url.split("s=")[1]

    response = requests.get(tool.url("/admin/outbox"), params={"s": token})

    assert response.status_code == 403


def test_admin_sees_the_outbox_of_their_platform_and_can_requeue_with_a_valid_form(
    tool: ToolServer, platform: TestPlatform
) -> None:
    platform.add_user(ADMIN)
    browser = requests.Session()
    page = launch(browser, platform, ADMIN)
    assert 'data-role="admin"' in page.text

    outbox_page = browser.get(tool.url("/admin/outbox"), params={"lang": "en"})
    assert outbox_page.status_code == 200
    assert "No Learning Record Store is configured" in outbox_page.text

    forged = browser.post(tool.url("/admin/outbox/retry"), data={"csrf": "forged"})
    assert forged.status_code == 400


def test_outbox_page_without_a_session_is_refused(tool: ToolServer) -> None:
    assert requests.get(tool.url("/admin/outbox")).status_code == 401


def test_cli_outbox_status_retry_and_resend(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PLC_DATABASE_URL", f"sqlite:///{tmp_path / 'o.sqlite3'}")
    monkeypatch.setenv("PLC_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PLC_LRS", json.dumps([{"name": "district", "endpoint": "http://127.0.0.1:9/xAPI/"}]))
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0

    status = runner.invoke(main, ["outbox", "status"])
    assert status.exit_code == 0 and "district\tpending=0\tdelivered=0\tdead=0" in status.output

    unknown = runner.invoke(main, ["outbox", "resend", "--destination", "nowhere"])
    assert unknown.exit_code == 1 and "not a configured LRS" in unknown.output
    assert (
        "0 records queued for district" in runner.invoke(main, ["outbox", "resend", "--destination", "district"]).output
    )
    assert "0 refused records queued again" in runner.invoke(main, ["outbox", "retry"]).output


def test_cli_worker_without_an_lrs_says_how_to_configure_one_and_still_delivers_grades(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PLC_DATABASE_URL", f"sqlite:///{tmp_path / 'w.sqlite3'}")
    monkeypatch.setenv("PLC_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("PLC_LRS", raising=False)
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0

    result = CliRunner().invoke(main, ["worker", "--once"])

    assert result.exit_code == 0 and "PLC_LRS" in result.output and "scores: delivered 0" in result.output
