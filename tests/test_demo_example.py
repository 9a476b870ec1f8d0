"""The demo LMS's second course: a finished example program built once at start-up from synthetic data, through the
domain functions, with dates from today's clock (lti_tool/demo_lms/example_course.py). SQLite, as the demo runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from lti_tool.demo_lms import advantage as demo_advantage
from lti_tool.demo_lms import example_course
from lti_tool.demo_lms import platform as demo
from lti_tool.lti.service_tokens import ServiceClient
from lti_tool.settings import Settings
from lti_tool.web.app import create_app
from lti_tool.workers.scores import ScoreDelivery
from models.base import utcnow
from models.calendar import last_day_of_program, program_day
from models.cycles import ElementSession
from models.database import Database
from models.facts import program_eligibility
from models.migrate import prepare
from models.observations import Observation
from models.outbox import OutboxStatement
from models.people import Context, Membership, Person
from models.platform import Deployment, Platform
from models.programs import Program
from models.reflections import Reflection
from models.scores import ScorePost, ScoreState, status
from models.states import ProgramState
from tests.conftest import ToolServer, start_tool


def _stop(server: ToolServer) -> None:
    server.server.shutdown()
    server.server.server_close()
    server.database.dispose()


@pytest.fixture(scope="module")
def demo_tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolServer]:
    instance = tmp_path_factory.mktemp("demo-example")
    server = start_tool(instance, f"sqlite:///{instance / 'demo.sqlite3'}", demo_enabled=True)
    yield server
    _stop(server)


def _example_program(server: ToolServer) -> tuple[Program, dict[str, int]]:
    """The example course's one program (detached) and the membership ids of its people by sub."""
    with server.database.transaction() as db:
        context = db.scalars(select(Context).where(Context.context_id == demo.EXAMPLE.id)).one()
        programs = list(db.scalars(select(Program).where(Program.context_id == context.id)))
        assert len(programs) == 1
        members = {
            m.person.sub: m.id for m in db.scalars(select(Membership).where(Membership.context_id == context.id))
        }
        db.expunge(programs[0])
        return programs[0], members


def test_the_demo_starts_with_a_finished_example_program_in_a_second_course(demo_tool: ToolServer) -> None:
    program, members = _example_program(demo_tool)
    today = program_day(utcnow())

    assert program.state is ProgramState.ENDED
    assert program.ended_on == today - timedelta(days=5)  # the Council's 30-day window is open for 25 more days
    assert program.approved_on is not None and program.approved_on < program.started_on  # type: ignore[operator]
    assert (today - program.approved_on).days == 300
    assert program.ended_on <= last_day_of_program(program.approved_on)
    assert "ข้อมูลสมมติ" in program.name and "synthetic" in program.name
    assert set(members) == {p.sub for p in demo.COURSE.people}


def test_three_example_teachers_are_eligible_and_the_fourth_is_not_with_the_reasons(demo_tool: ToolServer) -> None:
    program, members = _example_program(demo_tool)
    with demo_tool.database.transaction() as db:
        result = program_eligibility(db, db.get(Program, program.id))  # type: ignore[arg-type]

    eligible = sorted(sub for sub, mid in members.items() if mid in result and result[mid].eligible)
    assert eligible == ["demo-teacher-1", "demo-teacher-2", "demo-teacher-3"]
    away = result[members["demo-teacher-4"]]
    assert not away.eligible
    assert [r.code for r in away.reasons] == ["too_few_cycles", "too_few_hours"]
    assert away.reasons[0].params == {"have": 2, "need": 3}
    assert away.total_hours < program.min_hours <= result[members["demo-teacher-1"]].total_hours


def test_every_example_record_lies_inside_the_program_year_and_before_its_end(demo_tool: ToolServer) -> None:
    program, _ = _example_program(demo_tool)
    assert program.approved_on is not None and program.ended_on is not None
    with demo_tool.database.transaction() as db:
        sessions = list(db.scalars(select(ElementSession)))
        reflections = list(db.scalars(select(Reflection)))
        observations = list(db.scalars(select(Observation)))
        statements = db.scalar(select(func.count()).select_from(OutboxStatement))
    assert len(sessions) == 20 and len(reflections) == 15 and len(observations) == 10
    assert all(program.started_on <= s.held_on < program.ended_on for s in sessions)  # type: ignore[operator]
    for moment in [r.submitted_at for r in reflections] + [o.submitted_at for o in observations]:
        assert program.approved_on <= program_day(moment) < program.ended_on
    assert all(s.hours > Decimal(0) for s in sessions)
    assert statements and statements > 100  # the learning records wait in the outbox for an LRS


def test_the_example_leaves_no_score_failing_for_the_site_administrator(demo_tool: ToolServer) -> None:
    """The demo LMS keeps a gradebook for its first course only: the example's grades' scores are closed unsent by the
    site administrator with the reason, and a pass of the score worker parks none of them as failed."""
    with demo_tool.database.transaction() as db:
        admin = db.scalars(select(Person).where(Person.sub == example_course.SITE_ADMIN)).one()
        posts = list(db.scalars(select(ScorePost)))
        admin_id = admin.id
    assert len(posts) == 15  # every graded reflection: four teachers, four cycles, one away for the third
    assert {p.state for p in posts} == {ScoreState.DISMISSED.value}
    assert {(p.closed_by_id, p.close_reason) for p in posts} == {(admin_id, example_course.NO_GRADEBOOK)}
    assert all(p.closed_at is not None and p.attempts == 0 for p in posts)

    report = ScoreDelivery(demo_tool.database, ServiceClient(demo_tool.database, timeout=5.0)).run_once()

    assert (report.delivered, report.failed) == (0, 0)
    with demo_tool.database.transaction() as db:
        counts = status(db)
    assert (counts.pending, counts.failed, counts.dismissed) == (0, 0, 15)


def test_starting_the_demo_again_on_the_same_instance_builds_nothing_twice(tmp_path: Path) -> None:
    settings = Settings(
        instance_path=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        public_base_url="http://127.0.0.1:5000",
        secret_key="test-secret-" + "x" * 32,
        demo_enabled=True,
        worker_thread=False,
    ).resolved()
    tables = (Program, Person, Membership, ElementSession, OutboxStatement)
    counts = []
    for _ in range(2):
        database = Database(settings.database_url)
        prepare(database)
        app = create_app(settings, database)
        with database.transaction() as db:
            counts.append([db.scalar(select(func.count()).select_from(t)) for t in tables])
        with app.test_client() as client:
            ready = client.get("/readyz")
        assert ready.status_code == 200, ready.get_json()  # no LRS configured: no delivery waits
        database.dispose()
    assert counts[0] == counts[1]
    assert counts[0][:2] == [1, len(demo.EXAMPLE.people)]


def test_the_first_demo_course_still_starts_empty(demo_tool: ToolServer) -> None:
    with demo_tool.database.transaction() as db:
        first = db.scalars(select(Context).where(Context.context_id == demo.COURSE.id)).first()
        assert first is None or db.scalar(select(func.count()).where(Program.context_id == first.id)) == 0


def test_the_demo_page_offers_the_example_course_with_a_launch_for_each_person(demo_tool: ToolServer) -> None:
    page = requests.get(demo_tool.url("/demo/"), timeout=10).text
    card = page.split('id="example-course"', 1)[1]
    assert demo.EXAMPLE.title in card
    for person in demo.EXAMPLE.people:
        assert f"/demo/launch/{person.sub}?course=example" in card


@pytest.mark.parametrize(
    "query",
    ["?course=nope", "?course=example&activity=demo-link-plc-cycle", "?course=../example"],
)
def test_a_launch_into_an_unknown_course_or_an_activity_of_the_other_course_is_not_found(
    demo_tool: ToolServer, query: str
) -> None:
    answer = requests.get(demo_tool.url(f"/demo/launch/demo-trainer-1{query}"), allow_redirects=False, timeout=10)
    assert answer.status_code == 404


def test_an_unknown_person_cannot_launch_into_the_example_course(demo_tool: ToolServer) -> None:
    answer = requests.get(demo_tool.url("/demo/launch/demo-nobody?course=example"), allow_redirects=False, timeout=10)
    assert answer.status_code == 404


def test_a_tool_registered_later_by_dynamic_registration_gets_its_own_example_on_first_launch(
    tmp_path: Path,
) -> None:
    server = start_tool(tmp_path, f"sqlite:///{tmp_path / 'demo.sqlite3'}", demo_enabled=True)
    try:
        iss = demo.issuer(server.settings)
        with server.database.transaction() as db:  # what Dynamic Registration leaves on the tool's side
            db.add(
                Platform(
                    issuer=iss,
                    client_id="dynamic-client",
                    name="demo LMS, registered again",
                    auth_login_url=iss + "/auth",
                    auth_token_url=iss + "/token",
                    key_set_url=iss + "/jwks",
                    deployments=[Deployment(deployment_id="dynamic-deployment")],
                )
            )
        base = server.settings.public_base_url
        registration = demo_advantage.ToolRegistration(
            "dynamic-client",
            "dynamic-deployment",
            "PLC Bridge",
            base + "/lti/login",
            base + "/lti/launch",
            base + "/lti/jwks",
        )
        (tmp_path / demo_advantage.STATE_FILE).write_text(
            json.dumps({"registrations": [asdict(registration)], "activities": [], "used_tokens": []})
        )

        def programs() -> list[str]:
            with server.database.transaction() as db:
                return list(db.scalars(select(Platform.client_id).join(Program, Program.platform_id == Platform.id)))

        assert programs() == [demo.CLIENT_ID]
        for _ in range(2):
            answer = requests.get(
                server.url("/demo/launch/demo-teacher-1?course=example"), allow_redirects=False, timeout=10
            )
            assert answer.status_code == 302 and "client_id=dynamic-client" in answer.headers["Location"]
        assert sorted(programs()) == sorted([demo.CLIENT_ID, "dynamic-client"])
    finally:
        _stop(server)
