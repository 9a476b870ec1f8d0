"""Corrections of a Buddy observation over real HTTP: the Buddy or a trainer corrects every field with a history of
before and after, the `observed` learning record is voided and recorded again, a withdrawal voids it and the
observation stops counting; the Model Teacher and other teachers are refused."""

from __future__ import annotations

import hashlib
import hmac
import re

import requests
from sqlalchemy import select

from models.corrections import RecordChange
from models.observations import Observation
from models.sessions import AppSession
from tests.conftest import ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_observations_page import (
    GOOD,
    NOTES,
    TEAM_A,
    observations,
    observe,
    running_program,
    statements,
    visit_as,
)
from tests.test_program_pages import Visit, trainer_visit
from xapi.profile import check_statement
from xapi.vocabulary import Verb

CORRECTED_LESSON = "เศษส่วนอย่างง่าย ป.4/3 วันที่ 21 พ.ย. 2569"


def only_observation(tool: ToolServer) -> Observation:
    (observation,) = observations(tool)
    return observation


def post_item(visit: Visit, observation_id: int, action: str, **fields: str) -> requests.Response:
    """Post the item page's correction or withdrawal form as a browser does, the other fields as they stand."""
    page = visit.get(f"/program/observations/{observation_id}")
    if action == "withdraw":  # a weighty step: its confirmation page holds the form that takes it
        page = visit.get(f"/program/observations/{observation_id}/withdraw/confirm")
        action = "withdraw/confirm"
    assert f"/program/observations/{observation_id}/{action}" in page.text, page.text[:400]
    form = page.text.split(f"/program/observations/{observation_id}/{action}", 1)[1].split("</form>", 1)[0]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form)
    assert csrf
    data: list[tuple[str, str]] = [("csrf", csrf.group(1))]
    if action == "correct":
        for name in GOOD:
            if name not in fields:
                area = re.search(rf'<textarea id="{name}" name="{name}"[^>]*>(.*?)</textarea>', form, re.S)
                line = re.search(rf'id="{name}" name="{name}" value="([^"]*)"', form)
                found = area or line
                data.append((name, _unescape(found.group(1)) if found else ""))
        for student, note in re.findall(
            r'name="student" value="([^"]*)".*?name="note"[^>]*>(.*?)</textarea>', form, re.S
        ):
            data += [("student", _unescape(student)), ("note", _unescape(note))]
    data += list(fields.items())
    return visit.browser.post(
        visit.tool.url(f"/program/observations/{observation_id}/{action}"), params={"s": visit.token}, data=data
    )


def _unescape(text: str) -> str:
    return (
        text.replace("&#34;", '"').replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )


def changes(tool: ToolServer) -> list[RecordChange]:
    with tool.database.transaction() as db:
        return list(db.scalars(select(RecordChange).where(RecordChange.kind == "observation")))


def voided_ids(tool: ToolServer) -> list[str]:
    return [s["object"]["id"] for s in statements(tool, Verb.VOIDED)]


def observed_by_a_buddy(tool: ToolServer, platform: TestPlatform) -> tuple[Visit, str, str]:
    model, buddies = running_program(tool, platform)[(TEAM_A, 1)]
    buddy = visit_as(tool, platform, buddies[0])
    assert observe(buddy).status_code == 200
    return buddy, model, buddies[1]


def test_the_buddy_corrects_the_lesson_and_the_history_and_learning_record_follow(
    tool: ToolServer, platform: TestPlatform
) -> None:
    buddy, _, _ = observed_by_a_buddy(tool, platform)
    observation = only_observation(tool)
    first = observation.statement_id
    assert first and [s["id"] for s in statements(tool, Verb.OBSERVED)] == [first]

    page = post_item(buddy, observation.id, "correct", lesson=CORRECTED_LESSON)

    assert page.status_code == 200, page.text[:500]
    assert "Corrected the observation of cycle 1." in page.text
    assert GOOD["lesson"] in page.text and CORRECTED_LESSON in page.text  # the history: before → after
    thai = buddy.get(f"/program/observations/{observation.id}", lang="th", did="corrected").text
    assert "แก้ไขบันทึกการสังเกตชั้นเรียนวงรอบที่ 1 แล้ว" in thai and "แก้ไขโดย" in thai and "ประวัติ" in thai
    corrected = only_observation(tool)
    assert corrected.lesson == CORRECTED_LESSON and corrected.student_notes == [
        {"student": s, "note": n} for s, n in NOTES
    ]
    (change,) = changes(tool)
    assert change.action == "corrected" and change.changed_fields() == ["lesson"] and change.reason == ""
    assert voided_ids(tool) == [first]
    observed = {s["id"]: s for s in statements(tool, Verb.OBSERVED)}
    assert len(observed) == 2 and first in observed and corrected.statement_id in observed
    names = observed[str(corrected.statement_id)]["object"]["definition"]["name"].values()
    assert corrected.statement_id != first and any(CORRECTED_LESSON in name for name in names)
    for statement in statements(tool, Verb.VOIDED) + list(observed.values()):
        check_statement(statement)
    assert len(statements(tool, Verb.TAUGHT)) == 1  # the lesson was taught once, whatever is corrected


def test_a_correction_that_changes_nothing_keeps_no_history_and_records_nothing(
    tool: ToolServer, platform: TestPlatform
) -> None:
    buddy, _, _ = observed_by_a_buddy(tool, platform)
    observation = only_observation(tool)

    page = post_item(buddy, observation.id, "correct")

    assert page.status_code == 200
    assert changes(tool) == [] and voided_ids(tool) == [] and len(statements(tool, Verb.OBSERVED)) == 1


def test_a_trainer_needs_a_reason_to_correct_a_buddys_observation(tool: ToolServer, platform: TestPlatform) -> None:
    observed_by_a_buddy(tool, platform)
    observation = only_observation(tool)
    trainer = trainer_visit(tool, platform)

    refused = post_item(trainer, observation.id, "correct", lesson=CORRECTED_LESSON)
    assert refused.status_code == 422 and 'id="reason-error"' in refused.text
    assert CORRECTED_LESSON in refused.text  # what was typed stays in the form
    assert only_observation(tool).lesson == GOOD["lesson"] and changes(tool) == []

    page = post_item(trainer, observation.id, "correct", lesson=CORRECTED_LESSON, reason="ครูพิมพ์ห้องเรียนผิด")
    assert page.status_code == 200
    (change,) = changes(tool)
    assert change.reason == "ครูพิมพ์ห้องเรียนผิด" and only_observation(tool).lesson == CORRECTED_LESSON


def test_a_correction_missing_a_required_field_is_refused_beside_it_and_nothing_changes(
    tool: ToolServer, platform: TestPlatform
) -> None:
    buddy, _, _ = observed_by_a_buddy(tool, platform)
    observation = only_observation(tool)

    page = post_item(buddy, observation.id, "correct", students_did="")

    assert page.status_code == 422 and 'id="students_did-error"' in page.text
    assert only_observation(tool).students_did == GOOD["students_did"] and changes(tool) == []
    assert voided_ids(tool) == []


def test_the_model_teacher_and_another_buddy_see_no_correction_form_and_are_refused(
    tool: ToolServer, platform: TestPlatform
) -> None:
    buddy, model, other = observed_by_a_buddy(tool, platform)
    observation = only_observation(tool)
    model_visit = visit_as(tool, platform, model)
    page = model_visit.get(f"/program/observations/{observation.id}")
    assert page.status_code == 200 and "/correct" not in page.text and "/withdraw" not in page.text
    posted = model_visit.browser.post(
        tool.url(f"/program/observations/{observation.id}/withdraw/confirm"),
        params={"s": model_visit.token, "lang": "en"},
        data={"csrf": token_for(model_visit, "withdraw-observation"), "reason": "x"},
    )  # fmt: skip
    assert posted.status_code == 409 and "Only the person who recorded this" in posted.text
    other_visit = visit_as(tool, platform, other)
    assert other_visit.get(f"/program/observations/{observation.id}").status_code == 403
    assert only_observation(tool).withdrawn_at is None and changes(tool) == [] and voided_ids(tool) == []


def test_withdrawing_voids_the_record_and_the_observation_stops_counting(
    tool: ToolServer, platform: TestPlatform
) -> None:
    buddy, _, _ = observed_by_a_buddy(tool, platform)
    observation = only_observation(tool)
    first = observation.statement_id

    page = post_item(buddy, observation.id, "withdraw")

    assert page.status_code == 200 and "Withdrew the observation of cycle 1" in page.text
    withdrawn = only_observation(tool)
    assert withdrawn.withdrawn_at is not None and withdrawn.statement_id is None
    assert voided_ids(tool) == [first]
    assert "/correct" not in page.text  # a withdrawn observation is not corrected
    (change,) = changes(tool)
    assert change.action == "withdrawn" and change.after is None

    again = post_item_refused(buddy, observation.id)
    assert again.status_code == 404


def post_item_refused(visit: Visit, observation_id: int) -> requests.Response:
    return visit.browser.post(
        visit.tool.url(f"/program/observations/{observation_id}/withdraw/confirm"), params={"s": visit.token},
        data={"csrf": token_for(visit, "withdraw-observation"), "reason": "again"},
    )  # fmt: skip


def token_for(visit: Visit, purpose: str) -> str:
    """The form token the page would have given this visit's session (newest of the database) for a form the page
    does not offer it: the rule refuses, not the token."""
    with visit.tool.database.transaction() as db:
        session_token = db.scalars(select(AppSession.token).order_by(AppSession.id.desc()).limit(1)).one()
    key = visit.tool.settings.secret_key.encode()
    return hmac.new(key, f"{session_token}:{purpose}".encode(), hashlib.sha256).hexdigest()


def test_resubmitting_after_a_withdrawal_brings_the_observation_back(tool: ToolServer, platform: TestPlatform) -> None:
    buddy, _, _ = observed_by_a_buddy(tool, platform)
    observation = only_observation(tool)
    post_item(buddy, observation.id, "withdraw")

    assert observe(buddy).status_code == 200

    back = only_observation(tool)
    assert back.withdrawn_at is None and back.statement_id is not None
    assert len(statements(tool, Verb.OBSERVED)) == 2


def test_a_changed_resubmission_voids_the_earlier_observed_statement(tool: ToolServer, platform: TestPlatform) -> None:
    buddy, _, _ = observed_by_a_buddy(tool, platform)
    first = only_observation(tool).statement_id

    assert observe(buddy, suggestions="ลองให้นักเรียนอธิบายด้วยคำพูดของตนเอง").status_code == 200

    assert voided_ids(tool) == [first]
    now = only_observation(tool).statement_id
    assert now != first and {s["id"] for s in statements(tool, Verb.OBSERVED)} == {first, now}
    (change,) = changes(tool)  # a rewrite through the Buddy's form is kept in the history as well
    assert change.changed_fields() == ["suggestions"] and change.reason == ""
