"""Who may do what on the PLC pages: role × object × action over real HTTP. Every refusal is a 403 or 404 (never a
500), and nothing changes: no row, no learning record. Each actor posts with a valid form token of their own
session, so what refuses them is the permission check, not CSRF. (Observations and evidence have their own matrix
in test_observations_page.py and test_evidence.py.)"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest
import requests
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from models.cycles import Cycle
from models.forms import FormEntry
from models.outbox import OutboxStatement
from models.reflections import Grade, Reflection
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_cycle_pages import SCHOOL_HEAD
from tests.test_program_pages import Visit, trainer_visit
from tests.test_program_teams import COLLEAGUES
from tests.test_reflections_page import ALL_THREES, reflection_id, write
from tests.test_sessions_page import running_program_with_a_team

OUTSIDER = COLLEAGUES[-1]  # a teacher of another course


def form_token(tool: ToolServer, visit: Visit, purpose: str) -> str:
    """The token the actor's own pages would carry for this form."""
    session_token = URLSafeTimedSerializer(tool.settings.secret_key, salt="plc-session-link").loads(visit.token)
    return hmac.new(
        tool.settings.secret_key.encode(), f"{session_token}:{purpose}".encode(), hashlib.sha256
    ).hexdigest()


def state(tool: ToolServer) -> tuple[int, ...]:
    with tool.database.transaction() as db:
        return tuple(
            db.scalar(select(func.count()).select_from(table)) or 0
            for table in (FormEntry, Reflection, Grade, Cycle, OutboxStatement)
        )


def actors(tool: ToolServer, platform: TestPlatform) -> dict[str, Visit]:
    for user in (SCHOOL_HEAD, OUTSIDER):
        platform.add_user(user)
    return {
        "buddy of another teacher": Visit(tool, launch(requests.Session(), platform, COLLEAGUES[0])),
        "teacher of another course": Visit(
            tool, launch(requests.Session(), platform, OUTSIDER, context_id="course-99")
        ),
        "trainer of another course": trainer_visit(tool, platform, course="course-99"),
        "school administrator": Visit(tool, launch(requests.Session(), platform, SCHOOL_HEAD)),
        "trainer": trainer_visit(tool, platform),
    }


Action = Callable[[ToolServer, Visit, int], requests.Response]


def grade_it(tool: ToolServer, visit: Visit, rid: int) -> requests.Response:
    data = {"csrf": form_token(tool, visit, "reflection-grade"), **{f"score-{c}": "4" for c in ALL_THREES}}
    return visit.post(f"/program/reflections/{rid}/grade", data)


def rewrite_reflection(tool: ToolServer, visit: Visit, rid: int) -> requests.Response:
    return visit.post(
        "/program/cycles/1/reflection", {"csrf": form_token(tool, visit, "reflection-write"), "text": "x"}
    )


def fill_form(tool: ToolServer, visit: Visit, rid: int) -> requests.Response:
    data = {"csrf": form_token(tool, visit, "cycle-form"), "summary": "x", "goal_met": "met"}
    return visit.post("/program/cycles/1/forms/results-report", data)


def set_target(tool: ToolServer, visit: Visit, rid: int) -> requests.Response:
    return visit.post("/program/cycles/1/target", {"csrf": form_token(tool, visit, "cycle-target"), "problem": "x"})


def read_reflection(tool: ToolServer, visit: Visit, rid: int) -> requests.Response:
    return visit.get(f"/program/reflections/{rid}")


# (actor, action, expected status). The buddy's own team rewrites its own reflection elsewhere; here it tries the
# trainer's part. 403: known but not allowed; 404: not in the actor's course at all.
MATRIX: list[tuple[str, Action, int]] = [
    ("buddy of another teacher", grade_it, 403),
    ("buddy of another teacher", read_reflection, 403),
    ("teacher of another course", grade_it, 403),
    ("teacher of another course", fill_form, 403),
    ("teacher of another course", set_target, 403),
    ("teacher of another course", rewrite_reflection, 403),
    ("trainer of another course", grade_it, 404),
    ("trainer of another course", read_reflection, 404),
    ("trainer of another course", fill_form, 404),
    ("school administrator", grade_it, 403),
    ("school administrator", fill_form, 403),
    ("school administrator", set_target, 403),
    ("school administrator", rewrite_reflection, 403),
    ("trainer", rewrite_reflection, 403),
]


@pytest.mark.parametrize(("actor", "action", "status"), MATRIX, ids=[f"{a}-{f.__name__}" for a, f, _ in MATRIX])
def test_the_refused_cases_of_the_matrix_change_nothing(
    tool: ToolServer, platform: TestPlatform, actor: str, action: Action, status: int
) -> None:
    running_program_with_a_team(tool, platform)
    write(Visit(tool, launch(requests.Session(), platform, TEACHER)), 1)
    rid = reflection_id(tool)
    people = actors(tool, platform)
    before = state(tool)

    refused = action(tool, people[actor], rid)

    assert refused.status_code == status
    assert state(tool) == before


def test_the_allowed_cases_of_the_matrix_succeed(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    write(Visit(tool, launch(requests.Session(), platform, TEACHER)), 1)
    rid = reflection_id(tool)
    people = actors(tool, platform)
    trainer, head, buddy = people["trainer"], people["school administrator"], people["buddy of another teacher"]

    allowed: list[Any] = [
        grade_it(tool, trainer, rid),
        fill_form(tool, trainer, rid),
        set_target(tool, buddy, rid),
        read_reflection(tool, trainer, rid),
        read_reflection(tool, head, rid),  # administrators read, without the grading form
        head.get("/program/progress"),
        head.get("/program/cycles/1"),
    ]

    assert [r.status_code for r in allowed] == [200] * len(allowed)
    assert 'name="score-evidence"' not in allowed[4].text
