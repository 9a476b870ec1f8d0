"""Withdrawing a Buddy observation is a weighty step: its confirmation page says what follows (it no longer counts
toward the Buddy's cycle, progress or certificate; its learning record is voided; its history is kept) and asks the
reason; reading it changes nothing, the old direct POST only leads to it, and only its own POST with its own token
acts."""

from __future__ import annotations

import pytest

from tests.conftest import ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_access_matrix import form_token
from tests.test_observation_corrections import changes, observed_by_a_buddy, only_observation, voided_ids
from tests.test_observations_page import visit_as
from tests.test_program_pages import trainer_visit
from tests.test_weighty_steps_confirm import token_in

pytestmark = pytest.mark.usefixtures("tool")


def confirm_path(observation_id: int) -> str:
    return f"/program/observations/{observation_id}/withdraw/confirm"


def test_the_observation_withdraw_confirmation_says_what_follows_and_changes_nothing(
    tool: ToolServer, platform: TestPlatform
) -> None:
    buddy, _, _ = observed_by_a_buddy(tool, platform)
    observation = only_observation(tool)
    before = tool.counts()

    page = buddy.get(confirm_path(observation.id), lang="en")

    assert page.status_code == 200
    assert "Withdraw the observation of cycle 1?" in page.text
    assert "no longer count toward the Buddy&#39;s cycle, their progress or their certificate" in page.text
    assert "learning record is voided" in page.text and "history is kept" in page.text
    assert "will be missing until it is filled in again" in page.text
    assert 'id="withdraw-reason"' in page.text and 'maxlength="1000"' in page.text
    assert "Go back: change nothing" in page.text
    assert tool.counts() == before and only_observation(tool).withdrawn_at is None and voided_ids(tool) == []
    thai = buddy.get(confirm_path(observation.id), lang="th")
    assert "ถอนบันทึกการสังเกตชั้นเรียนวงรอบที่ 1" in thai.text and "ประวัติ" in thai.text


def test_the_observation_page_offers_the_confirmation_not_a_direct_withdrawal(
    tool: ToolServer, platform: TestPlatform
) -> None:
    buddy, _, _ = observed_by_a_buddy(tool, platform)
    observation = only_observation(tool)

    page = buddy.get(f"/program/observations/{observation.id}")

    assert confirm_path(observation.id) in page.text
    assert f'action="/program/observations/{observation.id}/withdraw?' not in page.text


def test_the_old_direct_observation_withdraw_post_changes_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    buddy, _, _ = observed_by_a_buddy(tool, platform)
    observation = only_observation(tool)
    before = tool.counts()

    page = buddy.post(
        f"/program/observations/{observation.id}/withdraw",
        {"reason": "ผิด", "csrf": form_token(tool, buddy, "withdraw-observation")},
    )

    assert page.status_code == 200 and confirm_path(observation.id) in page.url
    assert tool.counts() == before and only_observation(tool).withdrawn_at is None and voided_ids(tool) == []


def test_withdrawing_an_observation_with_another_steps_token_is_refused(
    tool: ToolServer, platform: TestPlatform
) -> None:
    buddy, _, _ = observed_by_a_buddy(tool, platform)
    observation = only_observation(tool)

    for purpose in ("correct-observation", "session-withdraw", "evidence-remove", "certificate-revoke"):
        page = buddy.post(confirm_path(observation.id), {"reason": "ผิด", "csrf": form_token(tool, buddy, purpose)})
        assert page.status_code == 400, purpose

    assert only_observation(tool).withdrawn_at is None and changes(tool) == [] and voided_ids(tool) == []


def test_an_observation_withdraw_reason_over_the_limit_is_refused_beside_the_field_and_kept(
    tool: ToolServer, platform: TestPlatform
) -> None:
    buddy, _, _ = observed_by_a_buddy(tool, platform)
    observation = only_observation(tool)
    page = buddy.get(confirm_path(observation.id))
    long_reason = "ข" * 1001

    refused = buddy.post(
        confirm_path(observation.id), {"reason": long_reason, "csrf": token_in(page, confirm_path(observation.id))}
    )

    assert refused.status_code == 422 and 'id="withdraw-reason-error"' in refused.text
    assert f">{long_reason}</textarea>" in refused.text
    assert only_observation(tool).withdrawn_at is None and changes(tool) == [] and voided_ids(tool) == []


def test_the_model_teacher_and_another_buddy_get_403_on_the_confirmation(
    tool: ToolServer, platform: TestPlatform
) -> None:
    _buddy, model, other = observed_by_a_buddy(tool, platform)
    observation = only_observation(tool)

    assert visit_as(tool, platform, model).get(confirm_path(observation.id)).status_code == 403
    assert visit_as(tool, platform, other).get(confirm_path(observation.id)).status_code == 403
    assert only_observation(tool).withdrawn_at is None and changes(tool) == []


def test_a_trainer_needs_a_reason_and_withdraws_through_the_confirmation(
    tool: ToolServer, platform: TestPlatform
) -> None:
    observed_by_a_buddy(tool, platform)
    observation = only_observation(tool)
    first = observation.statement_id
    trainer = trainer_visit(tool, platform)
    page = trainer.get(confirm_path(observation.id))
    assert page.status_code == 200
    token = token_in(page, confirm_path(observation.id))

    refused = trainer.post(confirm_path(observation.id), {"reason": "", "csrf": token})
    assert refused.status_code == 422 and 'id="withdraw-reason-error"' in refused.text
    assert only_observation(tool).withdrawn_at is None and voided_ids(tool) == []

    done = trainer.post(confirm_path(observation.id), {"reason": "บันทึกผิดวงรอบ", "csrf": token})

    assert done.status_code == 200 and "did=withdrawn" in done.url
    shown = trainer.get(f"/program/observations/{observation.id}", lang="en", did="withdrawn")
    assert "Withdrew the observation of cycle 1" in shown.text and "/withdraw/confirm" not in shown.text
    assert only_observation(tool).withdrawn_at is not None and voided_ids(tool) == [first]
    (change,) = changes(tool)
    assert change.action == "withdrawn" and change.reason == "บันทึกผิดวงรอบ"
    assert trainer.get(confirm_path(observation.id)).status_code == 404  # withdrawn once; nothing left to confirm
