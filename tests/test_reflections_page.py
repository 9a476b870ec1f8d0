"""Reflections over real HTTP: a teacher writes one per cycle; a trainer grades it with the config rubric, regrading
keeps the history; each step is a learning record; a teacher cannot grade and nothing changes when they try."""

from __future__ import annotations

import re

import requests
from sqlalchemy import event, func, select

from models.outbox import OutboxStatement
from models.people import Membership, Person, ResourceLink
from models.plan import team_plan
from models.reflections import Grade, Reflection
from models.rubrics import rubric
from models.scores import ScorePost
from models.teams import Team
from tests.conftest import TEACHER, TRAINER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_program_pages import Visit, trainer_visit
from tests.test_sessions_page import running_program_with_a_team
from xapi.profile import check_statement
from xapi.vocabulary import Verb

TEXT = "นักเรียนใช้แถบเศษส่วนแล้วอธิบายได้ ครั้งหน้าจะให้นักเรียนสร้างโจทย์เอง"


def write(teacher: Visit, number: int, text: str = TEXT) -> requests.Response:
    page = teacher.get(f"/program/cycles/{number}/reflection")
    return teacher.post(
        f"/program/cycles/{number}/reflection",
        {"csrf": teacher.csrf(page, f"/cycles/{number}/reflection"), "text": text},
    )


def reflection_id(tool: ToolServer) -> int:
    with tool.database.transaction() as db:
        return db.scalars(select(Reflection.id)).one()


def grade(trainer: Visit, rid: int, scores: dict[str, str], comment: str = "") -> requests.Response:
    page = trainer.get(f"/program/reflections/{rid}")
    data = {"csrf": trainer.csrf(page, f"/reflections/{rid}/grade"), "comment": comment}
    data.update({f"score-{criterion}": level for criterion, level in scores.items()})
    return trainer.post(f"/program/reflections/{rid}/grade", data)


ALL_THREES = {c.id: "3" for c in rubric().criteria}


def statements(tool: ToolServer, verb: str) -> list[dict]:
    with tool.database.transaction() as db:
        return [row.payload for row in db.scalars(select(OutboxStatement).where(OutboxStatement.verb == verb))]


def grades(tool: ToolServer) -> list[tuple[str, str]]:
    with tool.database.transaction() as db:
        return [(str(g.total), g.comment) for g in db.scalars(select(Grade).order_by(Grade.id))]


def test_a_teacher_submits_a_reflection_and_it_is_a_learning_record(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    page = write(teacher, 1)

    assert page.status_code == 200 and TEXT in page.text and "แก้ไขได้จนกว่าวิทยากรจะให้คะแนน" in page.text
    [submitted] = statements(tool, Verb.SUBMITTED)
    assert check_statement(submitted) == []
    with tool.database.transaction() as db:
        reflection = db.scalars(select(Reflection)).one()
        assert reflection.resource_link_id is None  # the course has no reflection activity for cycle 1 yet


def test_each_cycles_reflection_goes_to_that_cycles_reflection_activity_whichever_link_it_was_written_from(
    tool: ToolServer, platform: TestPlatform
) -> None:
    """A teacher opens cycle 1's reflection activity and, from inside the tool, writes cycles 1 and 2: only cycle 1
    gets that activity's gradebook column; cycle 2's grade must not overwrite it (it waits for cycle 2's activity)."""
    running_program_with_a_team(tool, platform)
    cycle_one = {"plc_activity": "reflection", "plc_cycle": "1"}
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER, resource_link_id="rl-refl-1", custom=cycle_one))

    write(teacher, 1)
    write(teacher, 2)

    with tool.database.transaction() as db:
        links = {
            r.cycle.number: (db.get(ResourceLink, r.resource_link_id).resource_link_id if r.resource_link_id else None)
            for r in db.scalars(select(Reflection))
        }
    assert links == {1: "rl-refl-1", 2: None}


def test_an_empty_reflection_is_refused_beside_the_field(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    page = write(teacher, 1, "   ")

    assert page.status_code == 422 and 'id="text-error"' in page.text
    assert statements(tool, Verb.SUBMITTED) == [] and grades(tool) == []


def test_a_trainer_grades_with_the_rubric_and_the_teacher_reads_the_grade_in_thai(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    write(teacher, 1)
    trainer = trainer_visit(tool, platform)
    listing = trainer.get("/program/reflections", lang="en")
    assert "to grade" in listing.text and TEACHER.name in listing.text  # the author, read by id with the page's rows

    graded = grade(trainer, reflection_id(tool), {**ALL_THREES, "evidence": "4"}, "อธิบายหลักฐานได้ชัดเจน")

    assert graded.status_code == 200 and "The grade is saved." in graded.text
    assert grades(tool) == [("16.00", "อธิบายหลักฐานได้ชัดเจน")]
    [scored] = statements(tool, Verb.SCORED)
    assert scored["result"]["score"] == {"scaled": 0.8, "raw": 16.0, "min": 0.0, "max": 20.0}
    assert check_statement(scored) == []
    mine = teacher.get("/program/cycles/1/reflection")
    assert "คะแนน 16 จาก 20" in mine.text and "ดีเยี่ยม" in mine.text and 'name="text"' not in mine.text
    assert TRAINER.name in mine.text  # the grader is named on the teacher's own page
    review = trainer.get(f"/program/reflections/{reflection_id(tool)}", lang="en")
    assert f"Reflection of {TEACHER.name}" in review.text and TRAINER.name in review.text


def test_regrading_keeps_the_earlier_grade_as_history(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    write(teacher, 1)
    trainer = trainer_visit(tool, platform)
    rid = reflection_id(tool)

    grade(trainer, rid, ALL_THREES)
    page = grade(trainer, rid, {c: "4" for c in ALL_THREES}, "ปรับหลังคุยกับครู")

    assert grades(tool) == [("15.00", ""), ("20.00", "ปรับหลังคุยกับครู")]
    assert "Earlier grades (1)" in trainer.get(f"/program/reflections/{rid}", lang="en").text
    assert page.status_code == 200 and len(statements(tool, Verb.SCORED)) == 2
    # The teacher's own page reads the grades with the reflection: both, the newest as the grade, the first folded.
    mine = teacher.get("/program/cycles/1/reflection", lang="en").text
    current, earlier = mine.split("Earlier grades (1)")
    assert "20 of 20" in current and "15 of 20" not in current and "15 of 20" in earlier


def test_a_grade_missing_a_criterion_or_off_the_scale_is_refused_and_nothing_is_written(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    write(teacher, 1)
    trainer = trainer_visit(tool, platform)
    rid = reflection_id(tool)

    missing = grade(trainer, rid, {c: "3" for c in list(ALL_THREES)[:-1]})
    off_scale = grade(trainer, rid, {**ALL_THREES, "evidence": "7"})

    assert missing.status_code == 422 and 'id="next_steps-error"' in missing.text
    assert off_scale.status_code == 422 and 'id="evidence-error"' in off_scale.text
    assert grades(tool) == [] and statements(tool, Verb.SCORED) == []


def test_a_teacher_cannot_grade_and_nothing_changes(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    write(teacher, 1)
    rid = reflection_id(tool)
    own_form = teacher.get("/program/cycles/1/reflection")
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', own_form.text)
    assert token

    posted = teacher.post(
        f"/program/reflections/{rid}/grade", {"csrf": token.group(1), **{f"score-{c}": "4" for c in ALL_THREES}}
    )

    assert posted.status_code == 403 and grades(tool) == [] and statements(tool, Verb.SCORED) == []
    assert teacher.get(f"/program/reflections/{rid}").status_code == 403
    assert teacher.get("/program/reflections").status_code == 403


def test_a_graded_reflection_is_kept_as_graded(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    write(teacher, 1)
    page = teacher.get("/program/cycles/1/reflection")
    csrf = teacher.csrf(page, "/cycles/1/reflection")
    grade(trainer_visit(tool, platform), reflection_id(tool), ALL_THREES)

    refused = teacher.post("/program/cycles/1/reflection", {"csrf": csrf, "text": "แก้ภายหลัง"})

    assert refused.status_code == 409
    with tool.database.transaction() as db:
        assert db.scalars(select(Reflection.text)).one() == TEXT
        assert (
            db.scalar(select(func.count()).select_from(OutboxStatement).where(OutboxStatement.verb == Verb.SUBMITTED))
            == 1
        )


def test_a_trainer_of_another_course_cannot_open_this_courses_reflection(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    write(teacher, 1)
    rid = reflection_id(tool)
    other = trainer_visit(tool, platform, course="course-99")

    page = other.get(f"/program/reflections/{rid}")

    assert page.status_code == 404 and TEXT not in page.text


def test_a_reflection_written_before_its_activity_was_added_is_graded_into_that_activity(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    write(Visit(tool, launch(requests.Session(), platform, TEACHER)), 1)  # from a plain link: no column yet
    cycle_one = {"plc_activity": "reflection", "plc_cycle": "1"}
    launch(requests.Session(), platform, TEACHER, resource_link_id="rl-refl-1", custom=cycle_one)  # added since

    grade(trainer_visit(tool, platform), reflection_id(tool), ALL_THREES)

    with tool.database.transaction() as db:
        post = db.scalars(select(ScorePost)).one()
        assert post.resource_link_id is not None
        assert db.get(ResourceLink, post.resource_link_id).resource_link_id == "rl-refl-1"


def test_a_grade_that_is_not_a_number_on_the_scale_is_refused_beside_the_field(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    write(Visit(tool, launch(requests.Session(), platform, TEACHER)), 1)

    page = grade(trainer_visit(tool, platform), reflection_id(tool), {**ALL_THREES, "evidence": "sNaN"})

    assert page.status_code == 422 and 'id="evidence-error"' in page.text and grades(tool) == []


def test_a_teachers_reflection_page_shows_their_text_and_role_in_one_read_of_the_cycle(
    tool: ToolServer, platform: TestPlatform
) -> None:
    """The reflection, its grades and the teacher's planned role in the cycle come in one statement: the page reads
    neither the team's members, nor its cycles, nor its whole plan. Another cycle shows its own role and an empty form;
    a trainer, who is no member of the team, has no reflection page of their own."""
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    assert write(teacher, 1).status_code == 200
    with tool.database.transaction() as db:
        mine = db.scalar(select(Membership.id).join(Person).where(Person.sub == TEACHER.sub))
        plan = team_plan(db.scalars(select(Team)).one())
    sent: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(tool.database.engine, "before_cursor_execute", seen)
    try:
        first, second = (
            teacher.get("/program/cycles/1/reflection", lang="en"),
            teacher.get("/program/cycles/2/reflection", lang="en"),
        )
    finally:
        event.remove(tool.database.engine, "before_cursor_execute", seen)

    for number, page in ((1, first), (2, second)):
        role = "Model Teacher" if plan[number][0] == mine else "Buddy Teacher"
        assert page.status_code == 200 and f"Your role in this cycle: <strong>{role}</strong>" in page.text
    assert TEXT in first.text and TEXT not in second.text
    whole_reads = [s for s in sent if re.match(r"SELECT plc_(team_members|cycles|cycle_assignments)\.id\b", s)]
    assert whole_reads == []
    # Each page: the session, the team with its program, the reflection with the role and its grades (none yet).
    one_read = [s for s in sent if "plc_cycle_assignments.role" in s and "plc_reflections" in s and "plc_grades" in s]
    assert len(one_read) == 2 and len(sent) <= 6, sent
    assert trainer_visit(tool, platform).get("/program/cycles/1/reflection").status_code == 403
