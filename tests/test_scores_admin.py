"""Scores on their way to the gradebook, as an LTI administrator and an operator see them: the admin page and
`plc-bridge scores status|resend`."""

from __future__ import annotations

import re

import requests
from click.testing import CliRunner
from sqlalchemy import select

from lti_tool.cli.main import main
from lti_tool.lti.service_tokens import ServiceClient
from lti_tool.workers.scores import ScoreDelivery
from models.scores import ScorePost, ScoreState
from tests.conftest import TEACHER, TRAINER, ToolServer, launch
from tests.support.grading import Course, add_teachers, course_of, grade, reflections
from tests.support.lti_platform import TestPlatform
from tests.test_program_pages import Visit
from tests.xapi.test_outbox_web import ADMIN


def graded_course(tool: ToolServer, platform: TestPlatform, how_many: int) -> Course:
    launch(requests.Session(), platform, TRAINER)
    course = course_of(tool.database, "course-42", "rl-7", TRAINER.sub)
    ids = reflections(tool.database, course, add_teachers(tool.database, course, how_many, prefix="adm"))
    with tool.database.transaction() as db:
        for reflection_id in ids:
            grade(db, reflection_id, course.trainer_id)
    return course


def admin_visit(tool: ToolServer, platform: TestPlatform) -> Visit:
    platform.add_user(ADMIN)
    return Visit(tool, launch(requests.Session(), platform, ADMIN))


def states(tool: ToolServer) -> list[str]:
    with tool.database.transaction() as db:
        return [p.state for p in db.scalars(select(ScorePost).order_by(ScorePost.id))]


def test_the_admin_sees_waiting_and_failed_scores_with_the_reason_and_resends_the_failed_ones(
    tool: ToolServer, platform: TestPlatform
) -> None:
    graded_course(tool, platform, 2)
    platform.services.ags_mode = "forbidden"
    worker = ScoreDelivery(tool.database, ServiceClient(tool.database), base_backoff_seconds=0.0)
    worker.run_once()
    admin = admin_visit(tool, platform)

    page = admin.get("/admin/scores", lang="en")

    assert page.status_code == 200
    assert page.text.count('data-state="failed"') == 2 and "HTTP 403" in page.text and "Teacher 0" in page.text
    platform.services.ags_mode = "ok"
    csrf = _csrf(page.text)
    resent = admin.browser.post(tool.url("/admin/scores/resend"), params={"s": admin.token}, data={"csrf": csrf})
    assert resent.status_code == 200 and states(tool) == [ScoreState.PENDING, ScoreState.PENDING]
    worker.run_once()
    assert states(tool) == [ScoreState.DELIVERED, ScoreState.DELIVERED]
    assert "every score has reached the gradebook" in admin.get("/admin/scores", lang="en").text


def test_each_waiting_or_closed_score_names_its_course(tool: ToolServer, platform: TestPlatform) -> None:
    """A site administrator's list covers every course of the platform, whose activities are often named alike."""
    graded_course(tool, platform, 1)
    launch(requests.Session(), platform, TRAINER, context_id="course-43", context_title="PLC คณิตศาสตร์ ม.1")
    other = course_of(tool.database, "course-43", "rl-7", TRAINER.sub)
    ids = reflections(tool.database, other, add_teachers(tool.database, other, 1, prefix="oth"))
    with tool.database.transaction() as db:
        grade(db, ids[0], other.trainer_id)
        first, second = db.scalars(select(ScorePost).order_by(ScorePost.id)).all()
        second.state = ScoreState.SUPERSEDED.value  # closed: listed in the second table

    page = admin_visit(tool, platform).get("/admin/scores", lang="en").text

    waiting = page.split(f'data-score-post="{first.id}"', 1)[1].split("</tr>", 1)[0]
    closed = page.split(f'data-score-post="{second.id}"', 1)[1].split("</tr>", 1)[0]
    assert "PLC วิทยาศาสตร์ ม.2" in waiting and "PLC คณิตศาสตร์ ม.1" not in waiting
    assert "PLC คณิตศาสตร์ ม.1" in closed and "PLC วิทยาศาสตร์ ม.2" not in closed


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert match, "no resend form"
    return match.group(1)


def test_a_resend_without_the_forms_token_changes_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    graded_course(tool, platform, 1)
    platform.services.ags_mode = "bad_request"
    ScoreDelivery(tool.database, ServiceClient(tool.database)).run_once()
    admin = admin_visit(tool, platform)

    refused = admin.browser.post(tool.url("/admin/scores/resend"), params={"s": admin.token}, data={"csrf": "0" * 64})

    assert refused.status_code == 400 and states(tool) == [ScoreState.FAILED]


def test_teachers_and_trainers_cannot_see_or_resend_scores(tool: ToolServer, platform: TestPlatform) -> None:
    graded_course(tool, platform, 1)
    for user in (TEACHER, TRAINER):
        visit = Visit(tool, launch(requests.Session(), platform, user))
        assert visit.get("/admin/scores").status_code == 403
        assert visit.browser.post(tool.url("/admin/scores/resend"), params={"s": visit.token}).status_code == 403
    assert requests.get(tool.url("/admin/scores"), timeout=10).status_code == 401


def test_the_cli_shows_the_score_outbox_and_resends_failed_scores(
    tool: ToolServer, platform: TestPlatform, monkeypatch
) -> None:
    graded_course(tool, platform, 2)
    platform.services.ags_mode = "forbidden"
    ScoreDelivery(tool.database, ServiceClient(tool.database)).run_once()
    monkeypatch.setenv("PLC_DATABASE_URL", tool.settings.database_url)
    monkeypatch.setenv("PLC_INSTANCE_PATH", str(tool.settings.instance_path))
    runner = CliRunner()

    status = runner.invoke(main, ["scores", "status"])

    assert status.exit_code == 0, status.output
    assert "pending=0\tdelivered=0\tfailed=2" in status.output and "HTTP 403" in status.output
    with tool.database.transaction() as db:
        first = db.scalars(select(ScorePost.id).order_by(ScorePost.id)).first()
    assert "1 failed scores queued again" in runner.invoke(main, ["scores", "resend", "--id", str(first)]).output
    assert states(tool) == [ScoreState.PENDING, ScoreState.FAILED]
    assert "1 failed scores queued again" in runner.invoke(main, ["scores", "resend"]).output
    assert "0 failed scores queued again" in runner.invoke(main, ["scores", "resend"]).output
