"""The competency pages over real HTTP: the framework with its definitions, a teacher's self-assessment (saved,
changed, refused beside the field), a trainer's view of the team with their own rating, and the program's targets
chosen with its plan."""

from __future__ import annotations

import html
import io
import re

import requests
from pypdf import PdfReader
from sqlalchemy import select

from models.assessments import Assessment, Phase, RaterKind
from models.catalog import competencies
from models.outbox import OutboxStatement
from models.states import ProgramState
from models.teams import Team
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_access_matrix import form_token
from tests.test_program_pages import Visit, trainer_visit
from tests.test_sessions_page import running_program_with_a_team
from xapi.vocabulary import Verb


def _csrf(page: requests.Response, action: str) -> str:
    form = page.text.split(f'action="{action}', 1)[1]
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', form)
    assert match, page.text[:500]
    return match.group(1)


def assess(teacher: Visit, phase: str, levels: dict[str, int]) -> requests.Response:
    page = teacher.get("/program/competencies")
    data = {"csrf": _csrf(page, f"/program/competencies/{phase}")}
    data |= {f"level-{code}": str(level) for code, level in levels.items()}
    return teacher.post(f"/program/competencies/{phase}", data)


def _verbs(tool: ToolServer) -> list[str]:
    with tool.database.transaction() as db:
        return [row.verb for row in db.scalars(select(OutboxStatement))]


def test_the_framework_page_gives_every_competencys_definition(tool: ToolServer, platform: TestPlatform) -> None:
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = teacher.get("/program/competencies/framework")
    assert page.status_code == 200
    for competency in competencies().values():
        assert competency.definition["th"] in page.text and competency.name["th"] in page.text
    english = html.unescape(teacher.get("/program/competencies/framework", lang="en").text)
    assert competencies()["F5"].definition["en"] in english and "PLC Bridge's own" in english


def test_a_teacher_assesses_themself_and_changes_it_until_the_phase_closes(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = teacher.get("/program/competencies")
    assert "การประเมินเมื่อเริ่มโครงการ" in page.text and 'name="level-F5"' in page.text

    saved = assess(teacher, "start", {"C3": 2, "C4": 3, "F5": 1})
    assert saved.status_code == 200 and "บันทึกการประเมินของท่านและส่งเป็นข้อมูลการเรียนรู้แล้ว" in saved.text
    assert _verbs(tool).count(Verb.ASSESSED) == 3

    changed = assess(teacher, "start", {"C3": 2, "C4": 4, "F5": 1})
    assert changed.status_code == 200
    verbs = _verbs(tool)
    assert verbs.count(Verb.ASSESSED) == 4 and verbs.count(Verb.VOIDED) == 1
    assert 'id="level-C4-4" name="level-C4" value="4" checked' in changed.text

    pdf = teacher.get("/my-data.pdf")  # the person's own data lists their levels
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert pdf.status_code == 200 and "การประเมินสมรรถนะ" in text and "C4" in text


def test_a_missing_level_is_named_beside_its_competency_and_nothing_is_saved(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    refused = assess(teacher, "start", {"C3": 2, "C4": 3})

    assert refused.status_code == 422
    assert 'id="level-F5-error" class="field-error">เลือกระดับของสมรรถนะนี้' in refused.text
    assert 'id="level-C3-2" name="level-C3" value="2" checked' in refused.text  # what was chosen stays
    with tool.database.transaction() as db:
        assert db.scalars(select(Assessment)).all() == []


def test_the_end_assessment_is_refused_while_the_program_runs(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    refused = assess_end_directly(teacher)
    assert refused.status_code == 409 and "การประเมินสมรรถนะนี้ไม่เปิด" in refused.text


def assess_end_directly(teacher: Visit) -> requests.Response:
    page = teacher.get("/program/competencies")
    token = _csrf(page, "/program/competencies/start")  # the one form on the page; same purpose for both phases
    return teacher.post("/program/competencies/end", {"csrf": token, "level-C3": "3", "level-C4": "3", "level-F5": "3"})


def test_a_trainer_sees_the_teams_levels_and_adds_a_rating(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    assess(teacher, "start", {"C3": 2, "C4": 3, "F5": 1})
    trainer = trainer_visit(tool, platform)

    team = trainer.get("/program/competencies/team", lang="th")
    assert team.status_code == 200 and "2 → —" in team.text and "สมรรถนะของกลุ่ม PLC" in team.text
    member = re.search(r"[?;]rate=(\d+)", team.text)
    assert member
    form = trainer.get("/program/competencies/team", rate=member.group(1))
    action = f"/program/competencies/team/rate/{member.group(1)}"
    rated = trainer.browser.post(
        tool.url(action),
        params={"s": trainer.token},
        data={"csrf": _csrf(form, action), "level-C3": "3", "level-C4": "3", "level-F5": "2"},
    )
    assert rated.status_code == 200 and "trainer (latest): 3 → —" in rated.text
    with tool.database.transaction() as db:
        kinds = sorted(a.rater_kind.value for a in db.scalars(select(Assessment)))
    assert kinds == ["self"] * 3 + ["trainer"] * 3


def test_a_team_of_a_cancelled_program_is_not_found_rather_than_an_error(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    with tool.database.transaction() as db:
        team = db.scalars(select(Team)).one()
        team.program.state = ProgramState.CANCELLED
        team_id = team.id
    trainer = trainer_visit(tool, platform)

    page = trainer.get("/program/competencies/team", team=str(team_id), lang="th")

    assert page.status_code == 404 and "ไม่แสดงระดับสมรรถนะ" in page.text


def test_level_zero_is_a_level_not_a_missing_rating(tool: ToolServer, platform: TestPlatform) -> None:
    """A scale replaced in configuration may start at 0: a 0 shows as 0 on the teacher's and the trainer's pages."""
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    with tool.database.transaction() as db:
        team = db.scalars(select(Team)).one()
        member = next(m for m in team.members if m.membership.person.sub == TEACHER.sub).membership_id
        for kind, code in ((RaterKind.SELF, "C3"), (RaterKind.TRAINER, "C4")):
            db.add(Assessment(program_id=team.program_id, membership_id=member, rater_id=member, rater_kind=kind,
                              phase=Phase.START, competency=code, level=0, scale_id="test"))  # fmt: skip

    own = teacher.get("/program/competencies", lang="en").text
    row = own.split('scope="row">C3 ', 1)[1].split("</tr>", 1)[0]
    assert "not assessed yet" in row.split("</td>", 1)[1] and "not assessed yet" not in row.split("</td>", 1)[0]
    cells = trainer_visit(tool, platform).get("/program/competencies/team", lang="en").text
    assert "<td>0 → —</td>" in cells and "trainer (latest): 0 → —" in cells


def test_a_teacher_may_not_open_the_teams_levels(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    assert teacher.get("/program/competencies/team").status_code == 403


def test_a_trainer_chooses_the_target_competencies_with_the_plan(tool: ToolServer, platform: TestPlatform) -> None:
    def choose(trainer: Visit) -> None:
        program = trainer.get("/program")
        assert 'id="target-competencies">C3, C4, F5' in program.text and "/program/competencies/targets" in program.text
        page = trainer.get("/program/competencies/targets")
        assert 'id="target-C3" name="targets" value="C3" checked' in page.text
        action = "/program/competencies/targets"
        empty = trainer.browser.post(tool.url(action), params={"s": trainer.token}, data={"csrf": _csrf(page, action)})
        assert empty.status_code == 422 and 'id="targets-error" class="field-error"' in empty.text
        data = [("csrf", _csrf(page, action)), ("targets", "C3"), ("targets", "F1")]
        saved = trainer.browser.post(tool.url(action), params={"s": trainer.token}, data=data)
        assert "The program's target competencies are saved." in saved.text

    running_program_with_a_team(tool, platform, before_submit=choose)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = teacher.get("/program/competencies")
    assert 'name="level-F1"' in page.text and 'name="level-F5"' not in page.text
    frozen = trainer_visit(tool, platform).get("/program/competencies/targets")
    assert frozen.status_code == 200 and 'name="targets"' not in frozen.text and "F1" in frozen.text


def test_people_of_another_course_or_role_neither_see_nor_rate_and_nothing_is_written(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    assess(teacher, "start", {"C3": 2, "C4": 3, "F5": 1})
    trainer = trainer_visit(tool, platform)
    team = trainer.get("/program/competencies/team")
    team_id = re.search(r"team=(\d+)", team.text)
    member = re.search(r"[?;]rate=(\d+)", team.text)
    assert team_id and member
    other = trainer_visit(tool, platform, course="course-99")
    with tool.database.transaction() as db:
        before = len(db.scalars(select(Assessment)).all()), len(db.scalars(select(OutboxStatement)).all())

    assert other.get("/program/competencies/team", team=team_id.group(1)).status_code in (403, 404)
    own_form = other.get("/program/competencies/team")  # the other course has no program: nothing to rate there
    assert own_form.status_code in (403, 404)
    action = f"/program/competencies/team/rate/{member.group(1)}"
    levels = {"level-C3": "5", "level-C4": "5", "level-F5": "5"}
    # Each posts with a valid form token of their own session: what refuses them is the permission check.
    by_other = other.post(action, {"csrf": form_token(tool, other, "competency-rate"), **levels})
    by_teacher = teacher.post(action, {"csrf": form_token(tool, teacher, "competency-rate"), **levels})
    targets = teacher.post("/program/competencies/targets", {"csrf": form_token(tool, teacher, "competency-targets")})
    self_by_trainer = trainer.post(
        "/program/competencies/start", {"csrf": form_token(tool, trainer, "competency-assess")}
    )
    assert self_by_trainer.status_code == 403

    assert by_other.status_code == 404 and by_teacher.status_code == 403 and targets.status_code == 403
    with tool.database.transaction() as db:
        assert (len(db.scalars(select(Assessment)).all()), len(db.scalars(select(OutboxStatement)).all())) == before
