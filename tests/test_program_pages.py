"""The PLC program page over real HTTP launches: a trainer sets it up and moves it through the Council's states;
teachers read it; nothing is changed by the wrong person, a forged form or bad input."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from models.programs import Program
from models.states import ProgramState
from tests.conftest import TEACHER, TRAINER, ToolServer, launch
from tests.support.lti_platform import TestPlatform

GOOD = {
    "name": "PLC คณิตศาสตร์ ม.1 โรงเรียนบ้านหนองบัว",
    "agency": "สำนักงานเขตพื้นที่การศึกษาประถมศึกษานครปฐม เขต 2",
    "school_or_network": "เครือข่ายพุทธมณฑล",
    "planned_cycles": "3",
    "min_hours": "50",
    "learning_area": "คณิตศาสตร์",
    "grade_level": "ม.1",
}


class Visit:
    """A person in the tool after a launch: every request names the session, as the page's links do."""

    def __init__(self, tool: ToolServer, page: requests.Response) -> None:
        self.tool = tool
        self.browser = requests.Session()
        self.token = page.url.split("s=", 1)[1]

    def get(self, path: str, **params: str) -> requests.Response:
        return self.browser.get(self.tool.url(path), params={"s": self.token, **params})

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        return self.browser.post(self.tool.url(path), params={"s": self.token}, data=data, allow_redirects=True)

    def csrf(self, page: requests.Response, action: str) -> str:
        form = page.text.split(f'action="/program{action}', 1)[1]
        match = re.search(r'name="csrf" value="([0-9a-f]+)"', form)
        assert match, "no CSRF token in the form"
        return match.group(1)


CONFIRMED = ("approve", "withdraw", "end", "cancel", "reopen", "correct_approval")
LETTER = "ศธ 0000/ทดสอบ (synthetic)"


def take_step(visit: Visit, action: str, **extra: str) -> requests.Response:
    """A step through the Council's states as the trainer takes it; a weighty one through its confirmation page (the
    approval with a synthetic letter number unless the test gives one)."""
    if action in CONFIRMED:
        page = visit.get(f"/program/confirm/{action}")
        who = {"cancelled_by": "agency"} if action == "cancel" else {}  # the agency cancels its own program
        fields = {"reason": "เหตุผลทดสอบ (synthetic)", "council_letter_number": LETTER, **who, **extra}
        return visit.post(f"/program/confirm/{action}", {"csrf": visit.csrf(page, f"/confirm/{action}"), **fields})
    page = visit.get("/program")
    return visit.post("/program/state", {"action": action, "csrf": visit.csrf(page, "/state"), **extra})


def programs(tool: ToolServer) -> list[Program]:
    with tool.database.transaction() as db:
        return list(db.scalars(select(Program)))


def trainer_visit(tool: ToolServer, platform: TestPlatform, course: str = "course-42") -> Visit:
    return Visit(tool, launch(requests.Session(), platform, TRAINER, context_id=course))


def create(visit: Visit, **changes: str) -> requests.Response:
    page = visit.get("/program")
    return visit.post("/program", {**GOOD, **changes, "csrf": visit.csrf(page, "?")})


def test_trainer_sets_up_a_program_that_starts_as_a_draft(tool: ToolServer, platform: TestPlatform) -> None:
    visit = trainer_visit(tool, platform)
    assert "Set up the course" in visit.get("/program", lang="en").text

    page = create(visit)

    assert page.status_code == 200 and GOOD["name"] in page.text
    [program] = programs(tool)
    assert (program.state, program.planned_cycles, str(program.min_hours)) == (ProgramState.DRAFT, 3, "50.00")


def test_bad_input_is_explained_beside_each_field_and_nothing_is_written(
    tool: ToolServer, platform: TestPlatform
) -> None:
    visit = trainer_visit(tool, platform)

    page = create(visit, name="  ", planned_cycles="2", min_hours="-1")

    assert page.status_code == 422
    assert (
        'id="name-error"' in page.text
        and 'id="planned_cycles-error"' in page.text
        and 'id="min_hours-error"' in page.text
    )
    assert "at least 3 cycles" in page.text  # this trainer's platform launches in English
    assert programs(tool) == []


@pytest.mark.parametrize("cycles", ["13", "3000000000"])
def test_more_cycles_than_fit_in_a_year_are_refused_beside_the_field(
    tool: ToolServer, platform: TestPlatform, cycles: str
) -> None:
    page = create(trainer_visit(tool, platform), planned_cycles=cycles)

    assert page.status_code == 422 and 'id="planned_cycles-error"' in page.text
    assert "At most 12 cycles" in page.text and programs(tool) == []


def test_a_teacher_reads_the_program_but_cannot_create_or_change_it(tool: ToolServer, platform: TestPlatform) -> None:
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    assert "ยังไม่มีโครงการ PLC" in teacher.get("/program").text  # the teacher launched in Thai

    refused = teacher.post("/program", {**GOOD, "csrf": "0" * 64})

    assert refused.status_code == 403 and programs(tool) == []
    create(trainer_visit(tool, platform))
    assert teacher.post("/program/state", {"action": "submit", "csrf": "0" * 64}).status_code == 403
    assert programs(tool)[0].state == ProgramState.DRAFT
    assert GOOD["name"] in teacher.get("/program").text


def test_a_form_without_its_csrf_token_changes_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    visit = trainer_visit(tool, platform)

    assert visit.post("/program", GOOD).status_code == 400
    assert programs(tool) == []


def test_the_council_states_in_order_and_a_start_refused_without_a_plan(
    tool: ToolServer, platform: TestPlatform
) -> None:
    visit = trainer_visit(tool, platform)
    create(visit)

    def step(action: str, **extra: str) -> requests.Response:
        return take_step(visit, action, **extra)

    assert step("submit").status_code == 200 and programs(tool)[0].state == ProgramState.SUBMITTED
    assert step("approve", approved_on="not a date").status_code == 422
    assert step("approve", approved_on="2026-11-01").status_code == 200
    assert (
        programs(tool)[0].state == ProgramState.APPROVED and "1 พฤศจิกายน 2569" in visit.get("/program", lang="th").text
    )

    refused = step("start")

    assert refused.status_code == 409 and "form the teams" in refused.text
    assert programs(tool)[0].state == ProgramState.APPROVED
    assert step("cancel").status_code == 200 and programs(tool)[0].state == ProgramState.CANCELLED


def test_another_courses_trainer_does_not_see_this_courses_program(tool: ToolServer, platform: TestPlatform) -> None:
    create(trainer_visit(tool, platform, course="course-42"))

    elsewhere = trainer_visit(tool, platform, course="course-99")

    page = elsewhere.get("/program", lang="en")
    assert GOOD["name"] not in page.text and "Set up the course" in page.text
