"""What production relies on: health and readiness, headers, request ids, metrics, rate limits, 503s, escaping,
and one platform's data kept from another's."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import requests
from sqlalchemy import delete

from lti_tool.settings import Settings
from lti_tool.web.app import create_app
from models.base import utcnow
from models.outbox import Delivery, OutboxStatement
from tests.conftest import LIS, TEACHER, ToolServer, launch, register, start_tool
from tests.support.lti_platform import LaunchUser, TestPlatform
from tests.xapi.test_outbox_web import ADMIN
from xapi.lrs_client import LrsDestination


def test_healthz_answers_while_the_process_runs(tool: ToolServer) -> None:
    response = requests.get(tool.url("/healthz"))

    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_reports_database_schema_and_outbox_lag(tool: ToolServer) -> None:
    body = requests.get(tool.url("/readyz")).json()

    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok" and body["checks"]["schema"]


def test_readyz_is_503_when_learning_records_pile_up(tool: ToolServer) -> None:
    statement_id = str(uuid.uuid4())
    with tool.database.transaction() as db:
        db.add(
            OutboxStatement(
                id=statement_id,
                verb="http://adlnet.gov/expapi/verbs/launched",
                payload={"id": statement_id},
                created_at=utcnow() - timedelta(hours=2),
                deliveries=[Delivery(destination="district", created_at=utcnow() - timedelta(hours=2))],
            )
        )
    try:
        response = requests.get(tool.url("/readyz"))
        assert response.status_code == 503
        assert "oldest waiting learning record" in response.json()["problems"][0]
    finally:
        with tool.database.transaction() as db:
            db.execute(delete(Delivery))
            db.execute(delete(OutboxStatement))


def test_pages_may_be_framed_only_by_registered_platforms(tool: ToolServer, platform: TestPlatform) -> None:
    csp = requests.get(tool.url("/setup")).headers["Content-Security-Policy"]

    ancestors = csp.split("frame-ancestors", 1)[1].split(";")[0].split()
    assert ancestors[0] == "'self'" and platform.issuer in ancestors
    assert "https://evil.example" not in ancestors
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_every_response_carries_a_request_id(tool: ToolServer) -> None:
    mine = requests.get(tool.url("/healthz"), headers={"X-Request-ID": "req-12345678"})
    theirs = requests.get(tool.url("/healthz"), headers={"X-Request-ID": "<script>"})

    assert mine.headers["X-Request-ID"] == "req-12345678"
    assert theirs.headers["X-Request-ID"] != "<script>" and len(theirs.headers["X-Request-ID"]) == 32


def test_metrics_count_launches_refusals_and_the_outbox(tool: ToolServer, platform: TestPlatform) -> None:
    launch(requests.Session(), platform, TEACHER)
    requests.get(
        tool.url("/lti/login"), params={"iss": "https://unknown.example", "login_hint": "1", "target_link_uri": "x"}
    )

    metrics = requests.get(tool.url("/metrics")).text

    assert 'plc_launches_total{role="teacher"}' in metrics
    assert 'plc_launches_rejected_total{reason="unknown_issuer"}' in metrics
    assert "plc_outbox_deliveries" in metrics


def test_login_and_launch_are_rate_limited(tmp_path: Path, database_url: str) -> None:
    limited = start_tool(tmp_path, database_url, rate_limit_lti="3 per minute")
    try:
        answers = [
            requests.get(limited.url("/lti/login"), params={"iss": "https://x.example", "login_hint": "1"})
            for _ in range(4)
        ]
        codes = [answer.status_code for answer in answers]
        metrics_answer = requests.get(limited.url("/metrics"))
        metrics = metrics_answer.text
    finally:
        limited.server.shutdown()
        limited.server.server_close()

    assert codes == [400, 400, 400, 429]
    # The limiter's headers on the limited route's answers (its hooks run only there, lti_tool/web/security.py)
    assert [answer.headers.get("X-RateLimit-Remaining") for answer in answers[:3]] == ["2", "1", "0"]
    assert answers[-1].headers.get("Retry-After")
    assert "X-RateLimit-Limit" not in metrics_answer.headers
    assert "รอสักครู่" in answers[-1].text and "Wait a minute" in answers[-1].text  # said in both languages
    assert 'plc_launches_rejected_total{reason="rate_limited"}' in metrics


def test_a_database_that_is_away_gives_503_not_500(tmp_path: Path) -> None:
    settings = Settings(
        instance_path=tmp_path,
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2",
        secret_key="s" * 32,
        worker_thread=False,
    ).resolved()
    client = create_app(settings).test_client()

    response = client.get("/setup")

    assert response.status_code == 503
    assert "ฐานข้อมูลไม่พร้อมใช้งานชั่วคราว" in response.get_data(as_text=True)
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200


def test_script_in_names_and_titles_is_shown_as_text(tool: ToolServer, platform: TestPlatform) -> None:
    attacker = LaunchUser(
        sub="u-xss",
        name='<script>alert("ครู")</script>',
        given_name="<img src=x onerror=alert(1)>",
        family_name="ใจร้าย",
        email="xss@example.org",
        roles=[LIS + "Instructor"],
    )
    platform.add_user(attacker)

    page = launch(requests.Session(), platform, attacker, context_title='วิทย์ "><svg onload=alert(2)>')

    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<svg onload" not in page.text
    assert "&lt;script&gt;alert(&#34;ครู&#34;)&lt;/script&gt;" in page.text


def test_an_admin_sees_only_their_own_platforms_learning_records(tmp_path: Path, database_url: str) -> None:
    district = LrsDestination(name="district", endpoint="http://127.0.0.1:9/xAPI/")
    tool = start_tool(tmp_path, database_url, lrs=[district])
    ours = TestPlatform(client_id="client-ours", deployment_id="dep-ours").start()
    theirs = TestPlatform(client_id="client-theirs", deployment_id="dep-theirs").start()
    try:
        for p in (ours, theirs):
            p.configure_tool(tool.url("/lti/login"), tool.url("/lti/launch"), tool.url("/lti/jwks"))
            p.add_user(TEACHER)
            p.add_user(ADMIN)
            register(tool, p)
        for _ in range(3):
            launch(requests.Session(), theirs, TEACHER)  # three records on the other platform
        browser = requests.Session()
        launch(browser, ours, ADMIN)  # one on ours: the admin's own launch

        page = browser.get(tool.url("/admin/outbox"), params={"lang": "en"}).text
    finally:
        ours.stop()
        theirs.stop()
        tool.server.shutdown()
        tool.server.server_close()
        with tool.database.transaction() as db:
            db.execute(delete(Delivery))
            db.execute(delete(OutboxStatement))

    row = page.split('data-destination="district"', 1)[1].split("</tr>", 1)[0]
    assert [cell.split("<", 1)[0] for cell in row.split("<td>")[1:4]] == ["1", "0", "0"]


def test_a_sessions_pages_may_be_framed_only_by_its_own_platform(tool: ToolServer, platform: TestPlatform) -> None:
    other = TestPlatform(client_id="client-frame", deployment_id="dep-frame", host="localhost").start()
    try:
        register(tool, other)
        page = launch(requests.Session(), platform, TEACHER)
    finally:
        other.stop()

    ancestors = page.headers["Content-Security-Policy"].split("frame-ancestors", 1)[1].split(";")[0].split()
    assert ancestors == ["'self'", platform.issuer]
