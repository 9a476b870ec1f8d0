"""Withdrawing a team's tracking form over real HTTP: a confirmation page that changes nothing, asks the reason and
posts with its own token; the form then shows as not filled in with "withdrawn by … on …" and its answers in the
history, and can be filled in again."""

from __future__ import annotations

import pytest

from models.corrections import MAX_REASON_CHARS
from tests.conftest import TEACHER, ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_access_matrix import form_token
from tests.test_cycle_pages import PROBLEM_FORM, entries
from tests.test_form_corrections import changes, save, saved_by_a_teacher
from tests.test_observations_page import visit_as
from tests.test_program_pages import take_step, trainer_visit
from tests.test_weighty_steps_confirm import token_in

pytestmark = pytest.mark.usefixtures("tool")

CONFIRM = "/program/cycles/1/forms/problem-reflection/withdraw"


def test_the_confirmation_says_what_follows_and_changes_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    teacher = saved_by_a_teacher(tool, platform)
    assert CONFIRM in teacher.get("/program/cycles/1").text
    before = tool.counts()

    page = teacher.get(CONFIRM, lang="en")

    assert page.status_code == 200 and "Withdraw the form" in page.text and "of cycle 1?" in page.text
    assert "show as not filled in" in page.text and f'maxlength="{MAX_REASON_CHARS}"' in page.text
    assert "Go back: change nothing" in page.text
    assert tool.counts() == before and len(entries(tool)) == 1 and changes(tool) == []
    assert "ถอนแบบบันทึก" in teacher.get(CONFIRM, lang="th").text


def test_its_own_post_withdraws_and_the_form_can_be_filled_in_again(tool: ToolServer, platform: TestPlatform) -> None:
    teacher = saved_by_a_teacher(tool, platform)
    page = teacher.get(CONFIRM)

    done = teacher.post(CONFIRM, {"csrf": token_in(page, CONFIRM), "reason": ""})

    assert done.status_code == 200 and entries(tool) == []
    [change] = changes(tool)
    assert change.action == "withdrawn" and change.before["answers"]["problem"] == PROBLEM_FORM["problem"]
    assert "ถอนโดย" in done.text and PROBLEM_FORM["problem"] in done.text  # the answers before, in the history
    assert save(teacher).status_code == 200 and len(entries(tool)) == 1


def test_another_steps_token_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    teacher = saved_by_a_teacher(tool, platform)

    for purpose in ("cycle-form", "withdraw-observation", "session-withdraw"):
        page = teacher.post(CONFIRM, {"reason": "ผิด", "csrf": form_token(tool, teacher, purpose)})
        assert page.status_code == 400, purpose
    assert len(entries(tool)) == 1 and changes(tool) == []


def test_a_trainer_without_a_reason_is_refused_beside_the_field(tool: ToolServer, platform: TestPlatform) -> None:
    saved_by_a_teacher(tool, platform)
    trainer = trainer_visit(tool, platform)
    token = token_in(trainer.get(CONFIRM), CONFIRM)

    refused = trainer.post(CONFIRM, {"csrf": token, "reason": "  "})
    assert refused.status_code == 422 and 'id="withdraw-reason-error"' in refused.text
    too_long = "ก" * (MAX_REASON_CHARS + 1)
    refused = trainer.post(CONFIRM, {"csrf": token, "reason": too_long})
    assert refused.status_code == 422 and 'id="withdraw-reason-error"' in refused.text and too_long in refused.text
    assert len(entries(tool)) == 1 and changes(tool) == []

    assert trainer.post(CONFIRM, {"csrf": token, "reason": "ซ้ำ"}).status_code == 200 and entries(tool) == []


def test_after_the_end_the_team_may_not_withdraw(tool: ToolServer, platform: TestPlatform) -> None:
    teacher = saved_by_a_teacher(tool, platform)
    token = token_in(teacher.get(CONFIRM), CONFIRM)
    assert take_step(trainer_visit(tool, platform), "end").status_code == 200

    assert teacher.get(CONFIRM).status_code == 403
    assert teacher.post(CONFIRM, {"csrf": token, "reason": "ผิด"}).status_code == 403
    assert len(entries(tool)) == 1 and changes(tool) == []


def test_a_teacher_of_another_course_may_not_withdraw(tool: ToolServer, platform: TestPlatform) -> None:
    saved_by_a_teacher(tool, platform)
    outsider = visit_as(tool, platform, TEACHER.name, context_id="course-99")

    assert outsider.get(CONFIRM).status_code in (403, 404)
    assert len(entries(tool)) == 1 and changes(tool) == []
