"""Corrections of an element session over real HTTP: the "saved" message with its link, the correction with its
history and its learning records, the withdrawal, who is refused, and the duplicate caught before it is recorded."""

from __future__ import annotations

import re

import requests
from sqlalchemy import select

from models.corrections import RecordChange
from models.cycles import ElementSession
from models.outbox import OutboxStatement
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_program_pages import Visit, trainer_visit
from tests.test_program_teams import COLLEAGUES
from tests.test_sessions_page import record, running_program_with_a_team
from xapi.profile import check_statement
from xapi.vocabulary import Verb


def only_session(tool: ToolServer) -> tuple[int, str, bool]:
    with tool.database.transaction() as db:
        session = db.scalars(select(ElementSession)).one()
        return session.id, str(session.hours), session.withdrawn_at is not None


def statements(tool: ToolServer, verb: str) -> list[dict]:
    with tool.database.transaction() as db:
        return [r.payload for r in db.scalars(select(OutboxStatement).where(OutboxStatement.verb == verb))]


def post_item(visit: Visit, session_id: int, action: str, **fields: str) -> requests.Response:
    page = visit.get(f"/program/sessions/{session_id}")
    if action == "withdraw":  # a weighty step: its confirmation page holds the form that takes it
        page = visit.get(f"/program/sessions/{session_id}/withdraw/confirm")
        action = "withdraw/confirm"
    form = page.text.split(f"/program/sessions/{session_id}/{action}", 1)[1]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form)
    assert csrf, page.text[:300]
    data = [("csrf", csrf.group(1))]
    if action == "correct":
        current = {
            "cycle": re.search(r'name="cycle">.*?<option value="(\d+)" selected', form, re.S),
            "element": re.search(r'name="element">.*?<option value="(\d+)" selected', form, re.S),
            "held_on": re.search(r'name="held_on"[^>]*value="([^"]+)"', form),
            "hours": re.search(r'name="hours"[^>]*value="([^"]+)"', form),
        }
        data += [(k, m.group(1)) for k, m in current.items() if m and k not in fields]
        if "attendee" not in fields:
            data += [("attendee", a) for a in re.findall(r'name="attendee" value="(\d+)" checked', form)]
    data += list(fields.items())
    return visit.browser.post(
        visit.tool.url(f"/program/sessions/{session_id}/{action}"), params={"s": visit.token}, data=data
    )


def test_a_save_says_what_it_saved_with_a_link_to_the_item(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    page = record(teacher, cycle="1", element="2", held_on="2026-11-20", hours="2")

    session_id, _, _ = only_session(tool)
    assert page.status_code == 200 and "บันทึกการประชุมองค์ประกอบที่ 2 วงรอบที่ 1 แล้ว" in page.text
    assert f"/program/sessions/{session_id}?" in page.text


def test_the_recorder_corrects_the_hours_and_the_history_and_learning_records_follow(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    record(teacher, cycle="1", element="1", held_on="2026-11-20", hours="5")
    session_id, _, _ = only_session(tool)
    first = {s["id"] for s in statements(tool, Verb.ATTENDED)}

    page = post_item(teacher, session_id, "correct", hours="1.5")

    assert page.status_code == 200, page.text[:500]
    assert "แก้ไขการประชุมองค์ประกอบที่ 1 วงรอบที่ 1 แล้ว" in page.text
    assert "5.00" in page.text and "1.50" in page.text  # the history: before → after
    assert only_session(tool) == (session_id, "1.50", False)
    voided = statements(tool, Verb.VOIDED)
    assert {v["object"]["id"] for v in voided} == first and all(check_statement(v) == [] for v in voided)
    attended = statements(tool, Verb.ATTENDED)
    assert len(attended) == 6 and {a["result"]["duration"] for a in attended if a["id"] not in first} == {"PT1H30M"}


def test_a_trainer_correcting_someone_elses_session_must_give_a_reason(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    record(teacher, cycle="1", element="1", held_on="2026-11-20", hours="5")
    session_id, _, _ = only_session(tool)
    trainer = trainer_visit(tool, platform)

    refused = post_item(trainer, session_id, "correct", hours="2")
    assert refused.status_code == 422 and 'id="reason-error"' in refused.text
    assert only_session(tool)[1] == "5.00" and statements(tool, Verb.VOIDED) == []

    assert post_item(trainer, session_id, "correct", hours="2", reason="ตามใบลงเวลา").status_code == 200
    with tool.database.transaction() as db:
        assert [c.reason for c in db.scalars(select(RecordChange))] == ["ตามใบลงเวลา"]


def test_another_member_of_the_team_may_not_correct_it(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    record(teacher, cycle="1", element="1", held_on="2026-11-20", hours="5")
    session_id, _, _ = only_session(tool)
    colleague = Visit(tool, launch(requests.Session(), platform, COLLEAGUES[0]))
    page = colleague.get(f"/program/sessions/{session_id}")
    assert page.status_code == 200 and f"/program/sessions/{session_id}/correct" not in page.text

    refused = colleague.browser.post(
        tool.url(f"/program/sessions/{session_id}/withdraw/confirm"), params={"s": colleague.token},
        data={"csrf": re.search(r'name="csrf" value="([0-9a-f]+)"', teacher.get("/program/sessions").text).group(1)},
    )  # fmt: skip
    assert refused.status_code == 400  # another person's form token
    assert only_session(tool) == (session_id, "5.00", False)


def test_a_withdrawn_session_leaves_the_list_and_its_statements_are_voided(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    record(teacher, cycle="1", element="1", held_on="2026-11-20", hours="2")
    session_id, _, _ = only_session(tool)

    page = post_item(teacher, session_id, "withdraw", reason="บันทึกผิดกลุ่ม")

    assert page.status_code == 200 and "ถอน" in page.text
    assert only_session(tool) == (session_id, "2.00", True)
    assert f"/program/sessions/{session_id}?" not in page.text
    assert len(statements(tool, Verb.VOIDED)) >= 3
    assert teacher.get(f"/program/sessions/{session_id}").status_code == 404


def test_a_second_identical_session_is_caught_and_can_be_recorded_on_purpose(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    record(teacher, cycle="1", element="1", held_on="2026-11-20", hours="2")
    first, _, _ = only_session(tool)

    caught = record(teacher, cycle="1", element="1", held_on="2026-11-20", hours="2", notes="ครั้งที่สอง")

    assert caught.status_code == 409 and f"/program/sessions/{first}?" in caught.text
    assert 'name="confirm_duplicate" value="1"' in caught.text and "ครั้งที่สอง" in caught.text
    with tool.database.transaction() as db:
        assert len(db.scalars(select(ElementSession)).all()) == 1
    anyway = record(teacher, cycle="1", element="1", held_on="2026-11-20", hours="2", confirm_duplicate="1")
    assert anyway.status_code == 200
    with tool.database.transaction() as db:
        assert len(db.scalars(select(ElementSession)).all()) == 2
