"""The remaining weighty steps ask first: issuing certificates, revoking one, withdrawing an element session and
removing an evidence file each have a confirmation page that says what follows; reading it changes nothing, the old
direct POST only leads to it, and only its own POST with its own token acts."""

from __future__ import annotations

import re

import pytest
import requests

from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_access_matrix import form_token
from tests.test_certificates import (
    ABSENT,
    earned_statements,
    finished_program,
    issue,
    issued,
    revoke,
    teacher_visit,
    wait_for_job,
)
from tests.test_evidence import evidence_rows, record_with_files, stored_files
from tests.test_evidence_removal import PLAN
from tests.test_observations_page import PDF, TEAM_A, running_program, visit_as
from tests.test_program_pages import Visit, trainer_visit
from tests.test_program_teams import COLLEAGUES
from tests.test_session_corrections import only_session, post_item
from tests.test_sessions_page import record, running_program_with_a_team

pytestmark = pytest.mark.usefixtures("tool")


def token_in(page: requests.Response, action: str) -> str:
    form = page.text.split(f'action="{action}', 1)[1]
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', form)
    assert match, f"no form posting to {action}"
    return match.group(1)


# --- Issue certificates -----------------------------------------------------------------------------------------


def test_the_issue_confirmation_says_who_gets_one_who_does_not_and_why_and_changes_nothing(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = finished_program(tool, platform)
    before = tool.counts()

    page = done.trainer.get("/program/certificates/issue/confirm", lang="en")

    assert page.status_code == 200
    assert "2 teachers will get a certificate now." in page.text
    assert f"{ABSENT} will not get a certificate" in page.text
    assert "locks the records it rests on" in page.text
    assert tool.counts() == before and issued(tool) == []
    thai = done.trainer.get("/program/certificates/issue/confirm", lang="th")
    assert "ครู 2 คนจะได้รับเกียรติบัตรในครั้งนี้" in thai.text and "ล็อกบันทึก" in thai.text


def test_the_old_direct_issue_post_only_leads_to_the_confirmation(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    token = form_token(tool, done.trainer, "certificates-issue")
    before = tool.counts()

    page = done.trainer.post("/program/certificates/issue", {"csrf": token})

    assert page.status_code == 200 and "/program/certificates/issue/confirm" in page.url
    assert tool.counts() == before and issued(tool) == []


def test_issuing_with_another_steps_token_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    before = tool.counts()

    for purpose in ("certificate-revoke", "session-withdraw", "evidence-remove", "program-confirm-end"):
        page = done.trainer.post(
            "/program/certificates/issue/confirm", {"csrf": form_token(tool, done.trainer, purpose)}
        )
        assert page.status_code == 400, purpose

    assert tool.counts() == before and issued(tool) == []


def test_only_the_confirmation_pages_own_post_issues(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)

    wait_for_job(done.trainer, issue(done.trainer))

    assert len(issued(tool)) == 2


def test_a_teacher_gets_403_on_the_issue_confirmation(tool: ToolServer, platform: TestPlatform) -> None:
    finished_program(tool, platform)
    teacher = teacher_visit(tool, platform)
    before = tool.counts()

    assert teacher.get("/program/certificates/issue/confirm").status_code == 403
    assert teacher.post("/program/certificates/issue/confirm", {"csrf": "0" * 64}).status_code in (400, 403)
    assert tool.counts() == before and issued(tool) == []


# --- Revoke a certificate ---------------------------------------------------------------------------------------


def test_the_revoke_confirmation_says_what_follows_and_changes_nothing(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    target = issued(tool)[0]
    earned = len(earned_statements(tool))

    page = done.trainer.get(f"/program/certificates/{target.id}/revoke/confirm", lang="en")

    assert page.status_code == 200 and target.code in page.text and "“revoked”" in page.text
    assert "earned the certificate is voided" in page.text and 'maxlength="1000"' in page.text
    assert not issued(tool)[0].revoked and len(earned_statements(tool)) == earned


def test_the_old_direct_revoke_post_changes_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    target = issued(tool)[0]

    page = done.trainer.post(
        f"/program/certificates/{target.id}/revoke",
        {"reason": "ผิดคน", "csrf": form_token(tool, done.trainer, "certificate-revoke")},
    )

    assert page.status_code == 200 and f"/program/certificates/{target.id}/revoke/confirm" in page.url
    assert not issued(tool)[0].revoked


def test_a_reason_over_the_limit_is_refused_beside_the_field_and_kept(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    target = issued(tool)[0]
    long_reason = "ก" * 1001

    page = revoke(done.trainer, target.id, long_reason)

    assert page.status_code == 422 and f'id="reason-{target.id}-error"' in page.text
    assert f">{long_reason}</textarea>" in page.text
    assert not issued(tool)[0].revoked


def test_revoking_with_the_issue_token_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    target = issued(tool)[0]

    page = done.trainer.post(
        f"/program/certificates/{target.id}/revoke/confirm",
        {"reason": "ผิดคน", "csrf": form_token(tool, done.trainer, "certificates-issue")},
    )

    assert page.status_code == 400 and not issued(tool)[0].revoked


def test_a_teacher_gets_403_on_the_revoke_confirmation(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    target = issued(tool)[0]

    assert teacher_visit(tool, platform).get(f"/program/certificates/{target.id}/revoke/confirm").status_code == 403
    assert not issued(tool)[0].revoked


# --- Withdraw an element session ---------------------------------------------------------------------------------


def recorded_session(tool: ToolServer, platform: TestPlatform) -> tuple[Visit, int]:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    record(teacher, cycle="1", element="1", held_on="2026-11-20", hours="2")
    return teacher, only_session(tool)[0]


def test_the_withdraw_confirmation_says_what_follows_and_changes_nothing(
    tool: ToolServer, platform: TestPlatform
) -> None:
    teacher, session_id = recorded_session(tool, platform)
    before = tool.counts()

    page = teacher.get(f"/program/sessions/{session_id}/withdraw/confirm", lang="en")

    assert page.status_code == 200
    assert "no longer count toward the teachers" in page.text and "results report" in page.text
    assert "learning records are voided" in page.text and "hours come off the logbook" in page.text
    assert tool.counts() == before and only_session(tool) == (session_id, "2.00", False)


def test_the_session_page_offers_the_confirmation_not_a_direct_withdrawal(
    tool: ToolServer, platform: TestPlatform
) -> None:
    teacher, session_id = recorded_session(tool, platform)

    page = teacher.get(f"/program/sessions/{session_id}")

    assert f"/program/sessions/{session_id}/withdraw/confirm" in page.text
    assert f'action="/program/sessions/{session_id}/withdraw?' not in page.text


def test_the_old_direct_withdraw_post_changes_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    teacher, session_id = recorded_session(tool, platform)

    page = teacher.post(
        f"/program/sessions/{session_id}/withdraw",
        {"reason": "ผิด", "csrf": form_token(tool, teacher, "session-withdraw")},
    )

    assert page.status_code == 200 and "/withdraw/confirm" in page.url
    assert only_session(tool) == (session_id, "2.00", False)


def test_withdrawing_with_another_steps_token_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    teacher, session_id = recorded_session(tool, platform)

    for purpose in ("session-correct", "evidence-remove", "certificate-revoke"):
        page = teacher.post(
            f"/program/sessions/{session_id}/withdraw/confirm",
            {"reason": "ผิด", "csrf": form_token(tool, teacher, purpose)},
        )
        assert page.status_code == 400, purpose

    assert only_session(tool) == (session_id, "2.00", False)


def test_a_withdraw_reason_over_the_limit_is_refused_beside_the_field_and_kept(
    tool: ToolServer, platform: TestPlatform
) -> None:
    teacher, session_id = recorded_session(tool, platform)
    long_reason = "ข" * 1001

    page = post_item(teacher, session_id, "withdraw", reason=long_reason)

    assert page.status_code == 422 and 'id="withdraw-reason-error"' in page.text
    assert f">{long_reason}</textarea>" in page.text
    assert only_session(tool) == (session_id, "2.00", False)


def test_a_colleague_gets_403_on_the_withdraw_confirmation(tool: ToolServer, platform: TestPlatform) -> None:
    _teacher, session_id = recorded_session(tool, platform)
    colleague = Visit(tool, launch(requests.Session(), platform, COLLEAGUES[0]))

    assert colleague.get(f"/program/sessions/{session_id}/withdraw/confirm").status_code == 403
    assert only_session(tool) == (session_id, "2.00", False)


def test_a_trainer_withdraws_through_the_confirmation(tool: ToolServer, platform: TestPlatform) -> None:
    _teacher, session_id = recorded_session(tool, platform)
    trainer = trainer_visit(tool, platform)
    action = f"/program/sessions/{session_id}/withdraw/confirm"
    page = trainer.get(action)
    assert page.status_code == 200

    done = trainer.post(action, {"reason": "บันทึกซ้ำ", "csrf": token_in(page, action)})

    assert done.status_code == 200 and only_session(tool) == (session_id, "2.00", True)


# --- Remove an evidence file ------------------------------------------------------------------------------------


def test_the_removal_confirmation_names_the_file_and_what_it_is_attached_to(
    tool: ToolServer, platform: TestPlatform
) -> None:
    model, _buddies = running_program(tool, platform)[(TEAM_A, 1)]
    teacher = visit_as(tool, platform, model)
    record_with_files(teacher, [(PLAN, PDF)])
    [row] = evidence_rows(tool)
    files = stored_files(tool)

    page = teacher.get(f"/program/evidence/{row.id}/remove/confirm", lang="en")

    assert page.status_code == 200 and PLAN in page.text and "the session of element" in page.text
    assert "cannot be brought back" in page.text
    assert [r.id for r in evidence_rows(tool)] == [row.id] and stored_files(tool) == files


def test_the_old_direct_remove_post_changes_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    model, _buddies = running_program(tool, platform)[(TEAM_A, 1)]
    teacher = visit_as(tool, platform, model)
    record_with_files(teacher, [(PLAN, PDF)])
    [row] = evidence_rows(tool)
    files = stored_files(tool)

    page = teacher.post(f"/program/evidence/{row.id}/remove", {"csrf": form_token(tool, teacher, "evidence-remove")})

    assert page.status_code == 200 and f"/program/evidence/{row.id}/remove/confirm" in page.url
    assert [r.id for r in evidence_rows(tool)] == [row.id] and stored_files(tool) == files


def test_removing_with_another_steps_token_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    model, _buddies = running_program(tool, platform)[(TEAM_A, 1)]
    teacher = visit_as(tool, platform, model)
    record_with_files(teacher, [(PLAN, PDF)])
    [row] = evidence_rows(tool)

    page = teacher.post(
        f"/program/evidence/{row.id}/remove/confirm", {"csrf": form_token(tool, teacher, "session-withdraw")}
    )

    assert page.status_code == 400 and [r.id for r in evidence_rows(tool)] == [row.id]


def test_a_colleague_gets_403_on_the_removal_confirmation(tool: ToolServer, platform: TestPlatform) -> None:
    model, (buddy, _other) = running_program(tool, platform)[(TEAM_A, 1)]
    record_with_files(visit_as(tool, platform, model), [(PLAN, PDF)])
    [row] = evidence_rows(tool)

    assert visit_as(tool, platform, buddy).get(f"/program/evidence/{row.id}/remove/confirm").status_code == 403
    assert [r.id for r in evidence_rows(tool)] == [row.id]
