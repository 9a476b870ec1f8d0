"""The demo LMS's gradebook and roster: a trainer's grade reaches the demo gradebook through the real token, AGS
and worker path, and the teams page reads the six demo people from the demo's NRPS endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import select

from lti_tool.demo_lms import platform as demo
from models.people import Context, Membership, Person
from models.scores import ScorePost, ScoreState
from tests.conftest import ToolServer, start_tool
from tests.support.grading import course_of, grade, reflections
from tests.support.lti_platform import submit_auto_form
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def demo_tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolServer]:
    """The embedded default: demo LMS on, the score worker as a thread of the web process."""
    instance = tmp_path_factory.mktemp("demo-gradebook")
    server = start_tool(instance, f"sqlite:///{instance / 'demo.sqlite3'}", demo_enabled=True, worker_thread=True)
    yield server
    server.server.shutdown()
    server.server.server_close()


def demo_launch(tool: ToolServer, sub: str) -> requests.Response:
    browser = requests.Session()
    landing = submit_auto_form(browser, browser.get(tool.url(f"/demo/launch/{sub}"), timeout=10))
    assert landing.status_code == 200, landing.text[:300]
    return landing


def test_a_graded_reflection_appears_in_the_demo_gradebook(demo_tool: ToolServer) -> None:
    demo_launch(demo_tool, "demo-teacher-1")
    demo_launch(demo_tool, "demo-trainer-1")
    course = course_of(demo_tool.database, demo.COURSE.id, demo.COURSE.resource_link_id, "demo-trainer-1")
    with demo_tool.database.transaction() as db:
        teacher = db.scalars(  # in the first course: the finished example course has the same people
            select(Membership.id)
            .join(Person)
            .join(Context, Membership.context_id == Context.id)
            .where(Person.sub == "demo-teacher-1", Context.context_id == demo.COURSE.id)
        ).one()
    [reflection_id] = reflections(demo_tool.database, course, [teacher])
    assert "No grades yet" in requests.get(demo_tool.url("/demo/gradebook?lang=en"), timeout=10).text

    with demo_tool.database.transaction() as db:
        post_id = grade(db, reflection_id, course.trainer_id, total=6, comment="สะท้อนคิดได้ลึกซึ้ง").id

    def sent() -> ScorePost | None:
        with demo_tool.database.transaction() as db:
            post = db.get(ScorePost, post_id)
            assert post is not None
            return post if post.state != ScoreState.PENDING else None

    post = wait_until(sent, timeout=20, interval=0.2, message="the worker thread never sent the score")
    assert (post.state, post.last_error) == (ScoreState.DELIVERED, None)
    page = requests.get(demo_tool.url("/demo/gradebook"), timeout=10).text
    row = page.split('data-sub="demo-teacher-1"', 1)[1].split("</tr>", 1)[0]
    assert 'data-score="6"' in row and "6 / 8" in row and "สะท้อนคิดได้ลึกซึ้ง" in row and "พ.ศ. 25" in row
    assert "PLC" in page  # the line item the tool made, labelled with the activity


def test_the_demo_services_refuse_calls_without_a_token(demo_tool: ToolServer) -> None:
    for path in ("/demo/ags/lineitems", "/demo/nrps/memberships"):
        assert requests.get(demo_tool.url(path), timeout=10).status_code == 401
    assert requests.get(demo_tool.url(path), headers={"Authorization": "Bearer forged"}, timeout=10).status_code == 401
    bad = requests.post(demo_tool.url("/demo/token"), data={"grant_type": "client_credentials"}, timeout=10)
    assert bad.status_code == 400


def test_the_teams_page_reads_the_six_demo_people_from_the_demo_roster(demo_tool: ToolServer) -> None:
    landing = demo_launch(demo_tool, "demo-trainer-1")
    token = landing.url.split("s=", 1)[1]

    page = requests.get(demo_tool.url("/program/teams"), params={"s": token, "lang": "en"}, timeout=10)

    assert page.status_code == 200
    with demo_tool.database.transaction() as db:
        subs = set(db.scalars(select(Person.sub).where(Person.sub.like("demo-%"))))
    assert {p.sub for p in demo.COURSE.people} <= subs
