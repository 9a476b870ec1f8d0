"""A whole program over real HTTP: three teachers run three cycles; eligibility moves on their progress pages and
the trainer's program view, and each completion (element, cycle, program) is one learning record, once."""

from __future__ import annotations

import re

import requests
from sqlalchemy import select

from models.base import utcnow
from models.observations import ObservationForm, submit_observation
from models.outbox import OutboxStatement
from models.people import Membership, Person
from models.plan import team_plan
from models.teams import Team
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_cycle_pages import PROBLEM_FORM
from tests.test_program_pages import Visit, trainer_visit
from tests.test_program_teams import COLLEAGUES
from tests.test_reflections_page import write
from tests.test_sessions_page import record, running_program_with_a_team
from xapi.profile import check_statement
from xapi.vocabulary import ActivityType, Verb


def observe_every_cycle(tool: ToolServer) -> None:
    """Each Buddy observes their Model Teacher (the observation page is tested in its own file)."""
    with tool.database.transaction() as db:
        team = db.scalars(select(Team)).one()
        for number, (_model, buddies) in team_plan(team).items():
            for buddy in buddies:
                form = ObservationForm("เศษส่วน", "ใช้แถบเศษส่วน", "เปรียบเทียบเศษส่วนได้")
                submit_observation(db, team, number, buddy, form, utcnow())


def completions(tool: ToolServer) -> list[dict]:
    with tool.database.transaction() as db:
        return [r.payload for r in db.scalars(select(OutboxStatement).where(OutboxStatement.verb == Verb.COMPLETED))]


def test_eligibility_moves_as_a_team_of_three_runs_three_cycles(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teachers = [Visit(tool, launch(requests.Session(), platform, user)) for user in (TEACHER, *COLLEAGUES[:2])]
    first = teachers[0]
    assert "ยังไม่ผ่านเกณฑ์" in first.get("/program/progress").text
    observe_every_cycle(tool)

    for number in (1, 2, 3):
        for element in (1, 2, 3, 4, 5):
            assert record(first, cycle=str(number), element=str(element), held_on="2026-11-20", hours="3.5").ok
        for teacher in teachers:
            assert write(teacher, number).status_code == 200
        if number == 1:
            page = first.get("/program/progress", lang="en")
            assert "1 of the 3 complete cycles the Council requires." in page.text

    mine = first.get("/program/progress")
    assert "ผ่านเกณฑ์รับเกียรติบัตร" in mine.text and "52.5" in mine.text
    program_view = trainer_visit(tool, platform).get("/program/progress", lang="en")
    assert "3 of 3 teachers are eligible for the certificate." in program_view.text

    done = completions(tool)
    kinds = [s["object"]["definition"]["type"] for s in done]
    assert (kinds.count(ActivityType.ELEMENT), kinds.count(ActivityType.CYCLE), kinds.count(ActivityType.PROGRAM)) == (
        45,
        9,
        3,
    )
    assert all(check_statement(s) == [] for s in done)

    record(first, cycle="1", element="1", held_on="2026-11-21", hours="1")
    assert len(completions(tool)) == 57  # completed once, however often the element meets again


def test_a_teacher_lands_on_what_to_do_next_in_the_current_cycle(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    record(teacher, cycle="1", element="1", held_on="2026-11-20", hours="2")

    landing = teacher.get("/home", lang="en")

    assert "Cycle 1 of 3" in landing.text and "Model Teacher" in landing.text
    assert "Element 2: record the team's session" in landing.text and "Element 1: record" not in landing.text
    assert "Problem-reflection tracking form" in landing.text and "Write your reflection on cycle 1" in landing.text


def test_the_landing_drops_a_filled_form_from_what_to_do_next_and_names_the_role_in_every_cycle(
    tool: ToolServer, platform: TestPlatform
) -> None:
    """The landing reads the team's cycles and plan with its facts: the cycle's filled forms leave the list, and the
    role table shows what the plan gives this teacher in each cycle."""
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    record(teacher, cycle="1", element="1", held_on="2026-11-20", hours="2")
    csrf = teacher.csrf(teacher.get("/program/cycles/1"), "/cycles/1/forms/problem-reflection")
    saved = teacher.post("/program/cycles/1/forms/problem-reflection", {"csrf": csrf, **PROBLEM_FORM})
    assert saved.status_code == 200

    landing = teacher.get("/home", lang="en")

    assert "Problem-reflection tracking form" not in landing.text and "Write your reflection on cycle 1" in landing.text
    with tool.database.transaction() as db:
        mine = db.scalar(select(Membership.id).join(Person).where(Person.sub == TEACHER.sub))
        plan = team_plan(db.scalars(select(Team)).one())
    table = landing.text.split("Your role in each cycle", 1)[1].split("</table>", 1)[0]
    shown = dict(re.findall(r'<th scope="row"><a [^>]*>(\d+)</a></th>\s*<td>(.*?)</td>', table, re.S))
    expected = {str(n): "Model Teacher" if model == mine else "Buddy Teacher" for n, (model, _b) in plan.items()}
    assert shown == expected and len(shown) == 3


def test_a_trainer_opens_one_teachers_progress_but_not_someone_outside_the_program(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    trainer = trainer_visit(tool, platform)
    overview = trainer.get("/program/progress")
    member = overview.text.split("/program/progress?member=", 1)[1].split("&", 1)[0].split('"', 1)[0]

    assert trainer.get("/program/progress", member=member).status_code == 200
    assert trainer.get("/program/progress", member="999999").status_code == 404
