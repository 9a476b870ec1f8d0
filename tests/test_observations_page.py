"""Buddy observations over real HTTP launches: a Buddy fills the form for their own Model Teacher's lesson; the
Buddy, the Model Teacher and the course's trainers read it, nobody else; its learning records commit with it."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from sqlalchemy import select

from models.observations import Observation
from models.outbox import OutboxStatement
from models.people import Membership, Person
from models.plan import PlcRole
from models.teams import CycleAssignment, Team
from tests.conftest import LIS, TEACHER, ToolServer, launch, register
from tests.support.lti_platform import LaunchUser, TestPlatform
from tests.test_program_pages import Visit, create, trainer_visit
from tests.test_program_teams import COLLEAGUES, form_team, step, teachers_launch
from xapi.profile import check_statement
from xapi.vocabulary import ActivityType, Extension, Verb

FIFTH = LaunchUser(sub="u-teacher-5", name="อรุณี พรหมมา", given_name="อรุณี", family_name="พรหมมา",
                   email="t5@example.org", roles=[LIS + "Learner"], locale="th")  # fmt: skip
USERS = {user.name: user for user in (TEACHER, *COLLEAGUES, FIFTH)}
TEAM_A, TEAM_B = "กลุ่มคณิตศาสตร์ ป.4", "กลุ่มวิทยาศาสตร์ ป.5"

GOOD = {
    "lesson": "เศษส่วนอย่างง่าย ป.4/2 วันที่ 20 พ.ย. 2569",
    "students_did": "ทำงานกลุ่มละ 4 คน ใช้แถบกระดาษพับแสดงเศษส่วน และนำเสนอหน้าชั้น",
    "students_learned": "24 จาก 30 คนเปรียบเทียบเศษส่วนที่ตัวส่วนเท่ากันได้ถูกต้อง",
    "evidence": "ใบงานที่ 3 ทั้งชั้น และภาพถ่ายแถบกระดาษของแต่ละกลุ่ม",
    "suggestions": "ให้เวลานำเสนอมากขึ้น และเพิ่มตัวอย่างเศษส่วนที่ตัวส่วนไม่เท่ากัน",
}
NOTES = [("ด.ช. ก้อง (เลขที่ 7)", "ตอบคำถามได้เมื่อครูใช้แถบกระดาษช่วย"), ("ด.ญ. ฝน (เลขที่ 12)", "ยังสับสนตัวเศษกับตัวส่วน")]


def png(width: int = 8, height: int = 6) -> bytes:
    """A real (small) PNG picture: what a phone photo is to the type check."""
    raw = b"".join(b"\x00" + b"\x1f\x8a\x6d" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# --- a running program: team A of three, team B of two -----------------------------------------------------------


def running_program(tool: ToolServer, platform: TestPlatform, start: bool = True) -> dict[tuple[str, int], Any]:
    """Team A (three teachers) and team B (two), planned by the rotation planner; the plan by (team, cycle)."""
    names = teachers_launch(platform, 4)
    platform.add_user(FIFTH)
    launch(requests.Session(), platform, FIFTH)
    trainer = trainer_visit(tool, platform)
    create(trainer)
    form_team(trainer, tool, TEAM_A, names[:3])
    form_team(trainer, tool, TEAM_B, [names[3], FIFTH.name])
    step(trainer, "submit")
    step(trainer, "approve", approved_on="2026-11-01")
    if start:
        assert step(trainer, "start").status_code == 200
    return plan(tool)


def plan(tool: ToolServer) -> dict[tuple[str, int], tuple[str, list[str]]]:
    """(team, cycle) → (the Model Teacher's name, the Buddies' names)."""
    found: dict[tuple[str, int], tuple[str, list[str]]] = {}
    with tool.database.transaction() as db:
        rows = db.execute(
            select(Team.name, CycleAssignment.cycle_number, CycleAssignment.role, Person.name)
            .join(CycleAssignment, CycleAssignment.team_id == Team.id)
            .join(Membership, Membership.id == CycleAssignment.membership_id)
            .join(Person, Person.id == Membership.person_id)
            .order_by(CycleAssignment.id)
        ).all()
    for team, number, role, name in rows:
        model, buddies = found.get((team, number), ("", []))
        found[(team, number)] = (name, buddies) if role == PlcRole.MODEL else (model, [*buddies, name])
    return found


def visit_as(tool: ToolServer, platform: TestPlatform, name: str, **initiation: str) -> Visit:
    return Visit(tool, launch(requests.Session(), platform, USERS[name], **initiation))


def form_token(visit: Visit, number: int) -> str:
    page = visit.get(f"/program/cycles/{number}/observation")
    assert page.status_code == 200, page.text[:400]
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert match
    return match.group(1)


def observe(
    visit: Visit,
    number: int = 1,
    files: list[tuple[str, bytes]] | None = None,
    notes: list[tuple[str, str]] | None = None,
    csrf: str | None = None,
    **changes: str,
) -> requests.Response:
    """Post the observation form as a browser does: multipart, five student rows, a file input (maybe empty)."""
    rows = list(NOTES if notes is None else notes)
    rows += [("", "")] * (5 - len(rows))
    data = [("csrf", csrf if csrf is not None else form_token(visit, number)), *{**GOOD, **changes}.items()]
    data += [pair for student, note in rows for pair in (("student", student), ("note", note))]
    parts = [("evidence", (name, content, "application/octet-stream")) for name, content in (files or [])]
    parts = parts or [("evidence", ("", b"", "application/octet-stream"))]  # a file input left empty
    return visit.browser.post(
        visit.tool.url(f"/program/cycles/{number}/observation"), params={"s": visit.token}, data=data, files=parts
    )


def observations(tool: ToolServer) -> list[Observation]:
    with tool.database.transaction() as db:
        return list(db.scalars(select(Observation).order_by(Observation.id)))


def statements(tool: ToolServer, verb: str) -> list[dict[str, Any]]:
    with tool.database.transaction() as db:
        return [r.payload for r in db.scalars(select(OutboxStatement).where(OutboxStatement.verb == verb))]


@contextmanager
def another_platform(tool: ToolServer, user: LaunchUser = TEACHER) -> Iterator[TestPlatform]:
    """A second platform registered with the tool for the test, with `user` (the same `sub` may live on both)."""
    other = TestPlatform(client_id="client-elsewhere", deployment_id="dep-elsewhere").start()
    try:
        other.configure_tool(tool.url("/lti/login"), tool.url("/lti/launch"), tool.url("/lti/jwks"))
        other.add_user(user)
        register(tool, other)
        yield other
    finally:
        other.stop()


# --- submitting -------------------------------------------------------------------------------------------------


def test_a_buddy_submits_an_observation_of_their_model_teacher_with_its_learning_records(
    tool: ToolServer, platform: TestPlatform
) -> None:
    model, buddies = running_program(tool, platform)[(TEAM_A, 1)]
    buddy = visit_as(tool, platform, buddies[0])

    page = observe(buddy)

    assert page.status_code == 200 and GOOD["lesson"] in page.text and model in page.text
    assert NOTES[1][1] in page.text
    [row] = observations(tool)
    assert (row.lesson, row.suggestions, row.student_notes) == (
        GOOD["lesson"],
        GOOD["suggestions"],
        [{"student": s, "note": n} for s, n in NOTES],
    )
    [observed] = statements(tool, Verb.OBSERVED)
    assert observed["actor"]["account"]["name"] == USERS[buddies[0]].sub
    assert observed["context"]["team"]["member"][0]["account"]["name"] == USERS[model].sub
    assert observed["object"]["definition"]["type"] == ActivityType.OBSERVATION
    assert observed["context"]["extensions"][Extension.PLC_ROLE] == "buddy"
    [taught] = statements(tool, Verb.TAUGHT)  # the first observation of the cycle: the lesson was taught
    assert taught["actor"]["account"]["name"] == USERS[model].sub
    assert taught["context"]["extensions"][Extension.PLC_ROLE] == "model"
    assert check_statement(observed) == [] and check_statement(taught) == []


def test_the_form_names_the_model_teacher_and_asks_in_thai(tool: ToolServer, platform: TestPlatform) -> None:
    model, buddies = running_program(tool, platform)[(TEAM_A, 1)]
    buddy = visit_as(tool, platform, buddies[0])

    page = buddy.get("/program/cycles/1/observation", lang="th")

    assert page.status_code == 200
    assert model in page.text and "บทเรียนที่สังเกต" in page.text and "ข้อเสนอแนะสำหรับครูผู้สอน" in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert page.text.count('name="student"') == 5 and page.text.count('name="note"') == 5


def test_resubmitting_unchanged_text_records_nothing_more_and_a_change_records_one_statement(
    tool: ToolServer, platform: TestPlatform
) -> None:
    _, buddies = running_program(tool, platform)[(TEAM_A, 1)]
    buddy = visit_as(tool, platform, buddies[0])
    observe(buddy)

    assert observe(buddy).status_code == 200
    assert len(statements(tool, Verb.OBSERVED)) == 1
    assert len(statements(tool, Verb.TAUGHT)) == 1

    assert observe(buddy, suggestions="ลองให้นักเรียนอธิบายด้วยคำพูดของตนเอง").status_code == 200
    assert len(statements(tool, Verb.OBSERVED)) == 2
    assert len(statements(tool, Verb.TAUGHT)) == 1
    assert [o.suggestions for o in observations(tool)] == ["ลองให้นักเรียนอธิบายด้วยคำพูดของตนเอง"]
    form = buddy.get("/program/cycles/1/observation").text
    assert "ลองให้นักเรียนอธิบายด้วยคำพูดของตนเอง" in form and NOTES[0][0] in form  # the form shows what was saved


def test_a_second_buddys_observation_does_not_record_the_lesson_as_taught_again(
    tool: ToolServer, platform: TestPlatform
) -> None:
    _, buddies = running_program(tool, platform)[(TEAM_A, 1)]
    observe(visit_as(tool, platform, buddies[0]))

    assert observe(visit_as(tool, platform, buddies[1]), lesson="เศษส่วน ป.4/2").status_code == 200

    assert len(observations(tool)) == 2
    assert len(statements(tool, Verb.OBSERVED)) == 2
    assert len(statements(tool, Verb.TAUGHT)) == 1


@pytest.mark.parametrize("who", ["the model teacher observed", "a trainer"])
def test_someone_who_is_not_a_buddy_of_the_cycle_gets_403_and_nothing_is_written(
    tool: ToolServer, platform: TestPlatform, who: str
) -> None:
    model, _ = running_program(tool, platform)[(TEAM_A, 1)]
    visit = visit_as(tool, platform, model) if who != "a trainer" else trainer_visit(tool, platform)

    page = visit.get("/program/cycles/1/observation", lang="en")
    posted = observe_without_form(visit, 1)

    assert page.status_code == 403 and "Only a Buddy Teacher of cycle 1" in page.text
    assert posted.status_code == 403
    assert observations(tool) == [] and statements(tool, Verb.OBSERVED) == []


def observe_without_form(visit: Visit, number: int) -> requests.Response:
    """A post by someone who never got the form (no valid token): refused before the token is even checked."""
    return visit.browser.post(
        visit.tool.url(f"/program/cycles/{number}/observation"),
        params={"s": visit.token},
        data={**GOOD, "csrf": "0" * 64},
    )


def test_a_cycle_beyond_the_plan_has_no_form(tool: ToolServer, platform: TestPlatform) -> None:
    _, buddies = running_program(tool, platform)[(TEAM_A, 1)]

    assert visit_as(tool, platform, buddies[0]).get("/program/cycles/9/observation").status_code == 403


def test_missing_answers_are_explained_beside_each_field_and_nothing_is_written(
    tool: ToolServer, platform: TestPlatform
) -> None:
    _, buddies = running_program(tool, platform)[(TEAM_A, 1)]
    buddy = visit_as(tool, platform, buddies[0])

    page = observe(buddy, lesson="  ", students_learned="")

    assert page.status_code == 422
    assert 'id="lesson-error"' in page.text and 'id="students_learned-error"' in page.text
    assert 'id="students_did-error"' not in page.text and GOOD["students_did"] in page.text  # kept for the retry
    assert observations(tool) == [] and statements(tool, Verb.OBSERVED) == [] and statements(tool, Verb.TAUGHT) == []


def test_a_note_without_its_student_is_explained_in_its_row(tool: ToolServer, platform: TestPlatform) -> None:
    _, buddies = running_program(tool, platform)[(TEAM_A, 1)]
    buddy = visit_as(tool, platform, buddies[0])

    page = observe(buddy, notes=[NOTES[0], ("", "ทำใบงานเสร็จก่อนเพื่อน")])

    assert page.status_code == 422 and 'id="student-1-error"' in page.text
    assert "ทำใบงานเสร็จก่อนเพื่อน" in page.text
    assert observations(tool) == []


def test_a_form_without_its_token_changes_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    _, buddies = running_program(tool, platform)[(TEAM_A, 1)]
    buddy = visit_as(tool, platform, buddies[0])

    assert observe(buddy, csrf="0" * 64).status_code == 400
    assert observations(tool) == []


def test_no_observation_is_submitted_before_the_program_runs(tool: ToolServer, platform: TestPlatform) -> None:
    _, buddies = running_program(tool, platform, start=False)[(TEAM_A, 1)]
    buddy = visit_as(tool, platform, buddies[0])
    assert 'role="status"' in buddy.get("/program/cycles/1/observation").text  # the form says so before posting

    page = observe(buddy, files=[("แผน.pdf", PDF)])

    assert page.status_code == 409 and 'role="status"' in page.text
    assert observations(tool) == [] and statements(tool, Verb.OBSERVED) == []


# --- who reads what ---------------------------------------------------------------------------------------------


def test_who_may_read_an_observation(tool: ToolServer, platform: TestPlatform) -> None:
    """The access matrix for one observation (team A, cycle 1): read by URL, and in the list of observations."""
    the_plan = running_program(tool, platform)
    model, (author, other_buddy) = the_plan[(TEAM_A, 1)]
    other_model = the_plan[(TEAM_B, 2)][0]
    observe(visit_as(tool, platform, author))
    [observation] = observations(tool)
    with another_platform(tool) as elsewhere:
        viewers = {
            "the buddy who wrote it": visit_as(tool, platform, author),
            "the model teacher observed": visit_as(tool, platform, model),
            "a trainer of the course": trainer_visit(tool, platform),
            "a buddy of another pair in the same team": visit_as(tool, platform, other_buddy),
            "a model teacher of another cycle and team": visit_as(tool, platform, other_model),
            "a teacher of another course": visit_as(tool, platform, TEACHER.name, context_id="course-99"),
            "a trainer of another course": trainer_visit(tool, platform, course="course-99"),
            "a teacher on another platform": Visit(tool, launch(requests.Session(), elsewhere, TEACHER)),
        }
        before = tool.counts()

        read = {who: v.get(f"/program/observations/{observation.id}").status_code for who, v in viewers.items()}
        link = f"/program/observations/{observation.id}?"
        listed = {who: link in v.get("/program/observations").text for who, v in viewers.items()}

    assert read == {
        "the buddy who wrote it": 200,
        "the model teacher observed": 200,
        "a trainer of the course": 200,
        "a buddy of another pair in the same team": 403,
        "a model teacher of another cycle and team": 403,
        "a teacher of another course": 404,
        "a trainer of another course": 404,
        "a teacher on another platform": 404,
    }
    assert listed == {who: status == 200 for who, status in read.items()}
    # Reading, or being refused, changes nothing but the read log: the Model Teacher's and the trainer's reads of the
    # Buddy's observation (the Buddy reading their own is not logged; tests/test_read_log.py).
    after = tool.counts()
    assert after.pop("read_log") - before.pop("read_log") == 2 and after == before


def test_a_refused_reader_is_told_why(tool: ToolServer, platform: TestPlatform) -> None:
    model, (author, other_buddy) = running_program(tool, platform)[(TEAM_A, 1)]
    observe(visit_as(tool, platform, author))
    [observation] = observations(tool)

    page = visit_as(tool, platform, other_buddy).get(f"/program/observations/{observation.id}", lang="en")

    assert page.status_code == 403 and "Only the Buddy who wrote an observation" in page.text
    assert GOOD["students_did"] not in page.text


def test_a_buddy_sees_the_forms_waiting_for_them(tool: ToolServer, platform: TestPlatform) -> None:
    the_plan = running_program(tool, platform)
    model, (buddy_name, _) = the_plan[(TEAM_A, 1)]
    buddy = visit_as(tool, platform, buddy_name)
    cycles = [n for (team, n), (_, buddies) in the_plan.items() if team == TEAM_A and buddy_name in buddies]

    page = buddy.get("/program/observations")

    assert page.status_code == 200
    assert [int(n) for n in re.findall(r"/program/cycles/(\d+)/observation", page.text)] == sorted(cycles)
    observe(buddy)
    assert "/program/cycles/1/observation" not in buddy.get("/program/observations").text
