"""A team's cycle page over real HTTP: the student learning problem with its baseline and result, the five elements
as recorded, and the team's tracking forms from config/forms; who may read and who may change them."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from models.cycles import Cycle
from models.forms import FormEntry
from models.teams import Team
from tests.conftest import LIS, TEACHER, ToolServer, launch
from tests.support.lti_platform import LaunchUser, TestPlatform
from tests.test_program_pages import Visit, trainer_visit
from tests.test_program_teams import COLLEAGUES
from tests.test_sessions_page import record, running_program_with_a_team

PROBLEM_FORM = {
    "problem": "นักเรียน ม.1 แก้โจทย์ปัญหาเศษส่วนไม่ได้",
    "approaches": "ใช้แถบเศษส่วนและการเรียนรู้แบบใช้ปัญหาเป็นฐาน",
    "plan": "แผน 3 คาบ: แถบเศษส่วน โจทย์ในชีวิตจริง นำเสนอ",
    "lesson_date": "2026-11-25",
}
SCHOOL_HEAD = LaunchUser(
    sub="u-head-1", name="ประภา ผู้อำนวยการ", given_name="ประภา", family_name="ผู้อำนวยการ",
    email="head@example.org", roles=[LIS + "Administrator"], locale="th",
)  # fmt: skip


def entries(tool: ToolServer) -> list[tuple[int, str, dict[str, str]]]:
    with tool.database.transaction() as db:
        return [(e.cycle.number, e.form, e.answers) for e in db.scalars(select(FormEntry))]


def cycles(tool: ToolServer) -> list[tuple[int, str, str | None]]:
    with tool.database.transaction() as db:
        return [(c.number, c.problem, str(c.baseline_value)) for c in db.scalars(select(Cycle))]


def test_a_teacher_sees_the_cycle_with_their_role_and_the_elements_recorded(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    record(teacher, cycle="1", element="2", held_on="2026-11-20", hours="2")

    page = teacher.get("/program/cycles/1")

    assert page.status_code == 200
    assert "ครูผู้สอน" in page.text  # the first member is the Model Teacher of cycle 1
    assert "20 พฤศจิกายน 2569" in page.text and page.text.count("ยังไม่ได้บันทึก") == 4
    assert "แบบติดตามการสะท้อนปัญหา" in page.text and "แบบรายงานผลการดำเนินงาน PLC" in page.text


def test_the_team_records_the_problem_baseline_and_result_of_a_cycle(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = teacher.get("/program/cycles/2")

    saved = teacher.post(
        "/program/cycles/2/target",
        {"csrf": teacher.csrf(page, "/cycles/2/target"), "problem": "อ่านจับใจความไม่ได้", "learning_area": "ภาษาไทย",
         "grade_level": "ป.4", "target_students": "ป.4/2 จำนวน 12 คน", "baseline": "แบบทดสอบก่อนเรียน",
         "measure": "ร้อยละของนักเรียนที่อ่านจับใจความผ่านเกณฑ์", "measure_kind": "percent_reaching", "pupils": "12",
         "baseline_value": "42.5", "result": "", "result_value": ""},
    )  # fmt: skip

    assert saved.status_code == 200 and "อ่านจับใจความไม่ได้" in saved.text
    assert "ร้อยละของนักเรียนที่ถึงระดับที่กำหนด" in saved.text  # how it is measured, as the page names it
    assert cycles(tool) == [(2, "อ่านจับใจความไม่ได้", "42.500")]


@pytest.mark.parametrize(
    ("posted", "field"),
    [
        ({"baseline_value": "40"}, "measure_kind"),  # a value, but not what it is a value of
        ({"measure_kind": "mean_score", "measure_out_of": "20", "baseline_value": "25"}, "baseline_value"),
        ({"measure_kind": "mean_score", "baseline_value": "12"}, "measure_out_of"),
        ({"measure_kind": "count", "pupils": "12", "baseline_value": "13"}, "baseline_value"),
        ({"learning_area": "คณิต+วิทย์"}, "learning_area"),
    ],
)
def test_a_measure_its_values_do_not_fit_or_an_area_off_the_list_is_refused_beside_the_field(
    tool: ToolServer, platform: TestPlatform, posted: dict[str, str], field: str
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = teacher.get("/program/cycles/1")

    refused = teacher.post(
        "/program/cycles/1/target", {"csrf": teacher.csrf(page, "/cycles/1/target"), "problem": "x", **posted}
    )

    assert refused.status_code == 422 and f'id="t-{field}-error"' in refused.text
    assert cycles(tool) == []


def test_a_baseline_that_is_not_a_number_is_refused_beside_the_field_and_nothing_is_written(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = teacher.get("/program/cycles/1")

    refused = teacher.post(
        "/program/cycles/1/target",
        {"csrf": teacher.csrf(page, "/cycles/1/target"), "problem": "x", "baseline_value": "สี่สิบ"},
    )

    assert refused.status_code == 422 and 'id="t-baseline_value-error"' in refused.text
    assert cycles(tool) == []


def test_a_grade_level_longer_than_its_column_is_refused_beside_the_field(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = teacher.get("/program/cycles/1")

    refused = teacher.post(
        "/program/cycles/1/target",
        {"csrf": teacher.csrf(page, "/cycles/1/target"), "problem": "x", "grade_level": "ม." * 40},
    )

    assert refused.status_code == 422 and 'id="t-grade_level-error"' in refused.text
    assert cycles(tool) == []


def test_a_team_fills_a_tracking_form_and_a_missing_required_answer_is_shown_beside_its_field(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = teacher.get("/program/cycles/1")
    csrf = teacher.csrf(page, "/cycles/1/forms/problem-reflection")

    refused = teacher.post("/program/cycles/1/forms/problem-reflection", {"csrf": csrf, "problem": "x"})
    assert refused.status_code == 422 and 'id="problem-reflection-approaches-error"' in refused.text
    assert entries(tool) == []

    saved = teacher.post("/program/cycles/1/forms/problem-reflection", {"csrf": csrf, **PROBLEM_FORM})
    assert saved.status_code == 200 and "แถบเศษส่วน" in saved.text
    [(number, form, answers)] = entries(tool)
    assert (number, form, answers["lesson_date"], answers["causes"]) == (1, "problem-reflection", "2026-11-25", "")


def test_a_form_posted_without_its_token_changes_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    refused = teacher.post("/program/cycles/1/forms/problem-reflection", {"csrf": "0" * 64, **PROBLEM_FORM})

    assert refused.status_code == 400 and entries(tool) == []


def test_a_cycle_beyond_the_plan_is_not_found(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    assert teacher.get("/program/cycles/4").status_code == 404


def test_nothing_is_written_in_a_cycle_before_the_program_runs(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform, start=False)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = teacher.get("/program/cycles/1")

    assert page.status_code == 200 and "/forms/problem-reflection" not in page.text  # read-only until it runs


def test_a_trainer_picks_any_team_of_the_course_and_may_fill_its_forms(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    trainer = trainer_visit(tool, platform)
    page = trainer.get("/program/cycles/3")

    saved = trainer.post(
        "/program/cycles/3/forms/results-report",
        {"csrf": trainer.csrf(page, "/cycles/3/forms/results-report"), "summary": "สรุป", "goal_met": "met"},
    )

    assert saved.status_code == 200 and [(n, f) for n, f, _ in entries(tool)] == [(3, "results-report")]


def test_a_school_administrator_reads_the_cycle_but_cannot_change_it(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    platform.add_user(SCHOOL_HEAD)
    head = Visit(tool, launch(requests.Session(), platform, SCHOOL_HEAD))
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    csrf_of_teacher = teacher.csrf(teacher.get("/program/cycles/1"), "/cycles/1/forms/problem-reflection")

    page = head.get("/program/cycles/1")
    refused = head.post("/program/cycles/1/forms/problem-reflection", {"csrf": csrf_of_teacher, **PROBLEM_FORM})

    assert page.status_code == 200 and "/forms/problem-reflection" not in page.text
    assert refused.status_code == 403 and entries(tool) == []


def test_a_teacher_of_another_course_sees_no_team_here(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    stranger = COLLEAGUES[-1]
    platform.add_user(stranger)
    outsider = Visit(tool, launch(requests.Session(), platform, stranger, context_id="course-99"))

    assert outsider.get("/program/cycles/1").status_code == 403


def test_a_trainer_of_another_course_cannot_open_this_courses_team_by_id(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    with tool.database.transaction() as db:
        team_id = db.scalar(select(func.min(Team.id)))
    other = trainer_visit(tool, platform, course="course-99")

    page = other.get("/program/cycles/1", team=str(team_id))

    assert page.status_code == 404 and "กลุ่มคณิตศาสตร์" not in page.text
