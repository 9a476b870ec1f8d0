"""Teams and the plan of roles over real HTTP launches: the rotation planner, the both-roles rule, the freeze."""

from __future__ import annotations

import re

import requests
from sqlalchemy import select

from models.programs import Program
from models.states import ProgramState
from models.teams import CycleAssignment, Team
from tests.conftest import LIS, TEACHER, ToolServer, launch
from tests.support.lti_platform import LaunchUser, TestPlatform
from tests.test_program_pages import Visit, create, programs, take_step, trainer_visit

COLLEAGUES = [
    LaunchUser(sub=f"u-teacher-{n}", name=name, given_name=name.split()[0], family_name=name.split()[1],
               email=f"t{n}@example.org", roles=[LIS + "Learner"], locale="en")
    for n, name in ((2, "ประยุทธ แก้วมณี"), (3, "วิไลวรรณ ศรีสุข"), (4, "ณัฐพล บุญมา"))
]  # fmt: skip


def members_by_name(tool: ToolServer) -> dict[str, int]:
    from models.people import Membership, Person

    with tool.database.transaction() as db:
        rows = db.execute(select(Person.name, Membership.id).join(Membership, Membership.person_id == Person.id)).all()
    return {name: membership_id for name, membership_id in rows}


def teachers_launch(platform: TestPlatform, how_many: int) -> list[str]:
    names = [TEACHER.name]
    launch(requests.Session(), platform, TEACHER)
    for colleague in COLLEAGUES[: how_many - 1]:
        platform.add_user(colleague)
        launch(requests.Session(), platform, colleague)
        names.append(colleague.name)
    return names


def teams_csrf(visit: Visit) -> str:
    """The teams form's token (bound to the session and the form, so it stays valid for the session)."""
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', visit.get("/program/teams").text)
    assert csrf, "the teams page shows no form"
    return csrf.group(1)


def form_team(
    visit: Visit, tool: ToolServer, name: str, people: list[str], csrf: str | None = None
) -> requests.Response:
    ids = members_by_name(tool)
    data = [("name", name), ("csrf", csrf or teams_csrf(visit)), *[("member", str(ids[p])) for p in people]]
    return visit.browser.post(tool.url("/program/teams"), params={"s": visit.token}, data=data)


def step(visit: Visit, action: str, **extra: str) -> requests.Response:
    return take_step(visit, action, **extra)


def test_a_team_of_three_gets_a_plan_where_everyone_plays_both_roles_and_the_program_starts(
    tool: ToolServer, platform: TestPlatform
) -> None:
    names = teachers_launch(platform, 3)
    trainer = trainer_visit(tool, platform)
    create(trainer)

    csrf = teams_csrf(trainer)
    page = form_team(trainer, tool, "กลุ่มคณิตศาสตร์", names, csrf)

    assert page.status_code == 200 and "กลุ่มคณิตศาสตร์" in page.text and "not planned" not in page.text
    with tool.database.transaction() as db:
        roles = [(a.cycle_number, a.role.value) for a in db.scalars(select(CycleAssignment))]
    assert sorted(r for r in roles if r[1] == "model") == [(1, "model"), (2, "model"), (3, "model")]
    assert len([r for r in roles if r[1] == "buddy"]) == 6
    step(trainer, "submit")
    step(trainer, "approve", approved_on="2026-11-01")
    assert step(trainer, "start").status_code == 200
    assert programs(tool)[0].state == ProgramState.RUNNING

    frozen = form_team(trainer, tool, "กลุ่มใหม่", [], csrf)

    assert frozen.status_code == 409 and "frozen" in frozen.text
    with tool.database.transaction() as db:
        assert len(db.scalars(select(Team)).all()) == 1


def test_a_team_larger_than_the_cycle_count_is_told_why_it_cannot_be_planned(
    tool: ToolServer, platform: TestPlatform
) -> None:
    names = teachers_launch(platform, 4)
    trainer = trainer_visit(tool, platform)
    create(trainer)

    page = form_team(trainer, tool, "กลุ่มใหญ่", names)

    assert page.status_code == 200 and "3 cycles are too few for a team of 4" in page.text
    step(trainer, "submit")
    step(trainer, "approve", approved_on="2026-11-01")
    assert step(trainer, "start").status_code == 409
    assert programs(tool)[0].state == ProgramState.APPROVED


def test_a_teacher_cannot_form_teams_and_nothing_is_written(tool: ToolServer, platform: TestPlatform) -> None:
    create(trainer_visit(tool, platform))
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    refused = teacher.browser.post(
        tool.url("/program/teams"), params={"s": teacher.token}, data={"name": "x", "csrf": "0"}
    )

    assert refused.status_code == 403
    with tool.database.transaction() as db:
        assert db.scalars(select(Team)).all() == []


def test_a_team_of_another_course_cannot_be_removed_by_url(tool: ToolServer, platform: TestPlatform) -> None:
    names = teachers_launch(platform, 2)
    here = trainer_visit(tool, platform)
    create(here)
    form_team(here, tool, "กลุ่ม ก", names)
    with tool.database.transaction() as db:
        team_id = db.scalars(select(Team.id)).one()
        assert db.scalars(select(Program)).one()
    elsewhere = trainer_visit(tool, platform, course="course-99")
    create(elsewhere)
    response = elsewhere.post(f"/program/teams/{team_id}/remove", {"csrf": teams_csrf(elsewhere)})

    assert response.status_code == 404
    with tool.database.transaction() as db:
        assert db.scalars(select(Team.id)).all() == [team_id]


def test_a_teacher_sees_their_team_and_their_role_in_each_cycle(tool: ToolServer, platform: TestPlatform) -> None:
    names = teachers_launch(platform, 3)
    trainer = trainer_visit(tool, platform)
    create(trainer)
    form_team(trainer, tool, "กลุ่มคณิตศาสตร์", names)

    landing = launch(requests.Session(), platform, TEACHER)

    assert "กลุ่มคณิตศาสตร์" in landing.text
    roles = re.findall(r'<th scope="row"><a [^>]+>(\d)</a></th>\s*<td>([^<]+)</td>', landing.text)
    assert sorted(role for _, role in roles) == ["ครูผู้สอน", "ครูร่วมการเรียนรู้", "ครูร่วมการเรียนรู้"]
