"""Weighty steps ask first, over real HTTP: End, Cancel, Reopen and a corrected approval date go through their
confirmation page, whose own POST alone acts; undo where the Council's rules allow; a cancelled program stays
readable and the course sets up a new one."""

from __future__ import annotations

from datetime import timedelta

import requests
from sqlalchemy import delete, select

from lti_tool.services.letters import approval_reference
from models.base import utcnow
from models.calendar import program_day
from models.plan_versions import PlanVersion
from models.program_history import ProgramChange, ProgramChangeKind
from models.programs import Program
from models.states import ProgramState
from tests.conftest import ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_certificates import ABSENT, finished_program, issue, teacher_visit, wait_for_job
from tests.test_program_pages import GOOD, Visit, create, programs, take_step, trainer_visit
from tests.test_program_teams import COLLEAGUES

REASON = "บันทึกชั่วโมงวงรอบที่ 3 ยังไม่ครบ ต้องบันทึกเพิ่ม"


def state(tool: ToolServer) -> ProgramState:
    [program] = [p for p in programs(tool) if p.state != ProgramState.CANCELLED] or programs(tool)
    return program.state


def changes(tool: ToolServer) -> list[ProgramChange]:
    with tool.database.transaction() as db:
        return list(db.scalars(select(ProgramChange).order_by(ProgramChange.id)))


def confirm(visit: Visit, step: str, **fields: str) -> requests.Response:
    page = visit.get(f"/program/confirm/{step}")
    return visit.post(f"/program/confirm/{step}", {"csrf": visit.csrf(page, f"/confirm/{step}"), **fields})


# --- End --------------------------------------------------------------------------------------------------------


def test_pressing_end_opens_a_confirmation_that_says_what_follows_and_changes_nothing(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = finished_program(tool, platform, end=False)

    page = done.trainer.get("/program/confirm/end", lang="th")

    assert page.status_code == 200 and state(tool) == ProgramState.RUNNING
    assert "30 วัน" in page.text and "บันทึกการประชุม" in page.text
    assert "1 จาก 3" in page.text  # one teacher missed an element: the eligibility rule, said of people
    assert 'action="/program/confirm/end' in page.text


def test_the_program_pages_end_button_is_a_link_to_the_confirmation_not_a_form(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = finished_program(tool, platform, end=False)

    page = done.trainer.get("/program", lang="en")

    assert 'data-step="end"' in page.text and 'name="action" value="end"' not in page.text
    assert 'id="next-work"' not in page.text or "/program/cycles/" in page.text


def test_a_teachers_next_work_is_their_own_current_cycle_and_the_trainers_the_earliest_of_anyone(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = finished_program(tool, platform, end=False)  # all three cycles done, but one teacher missed an element
    absent = next(user for user in COLLEAGUES if user.name == ABSENT)
    complete = next(user for user in COLLEAGUES[:3] if user.name != ABSENT)

    behind = teacher_visit(tool, platform, absent).get("/program", lang="en")
    ahead = teacher_visit(tool, platform, complete).get("/program", lang="en")
    staff = done.trainer.get("/program", lang="en")

    assert 'id="next-work"' in behind.text and "/program/cycles/1" in behind.text.split('id="next-work"')[1][:300]
    assert 'id="next-work"' not in ahead.text  # every cycle of theirs is complete: nothing waits for them
    assert "/program/cycles/1" in staff.text.split('id="next-work"')[1][:300]


def test_the_old_direct_cancel_post_only_leads_to_the_confirmation(tool: ToolServer, platform: TestPlatform) -> None:
    visit = trainer_visit(tool, platform)
    create(visit)
    page = visit.get("/program")

    answer = visit.post("/program/state", {"action": "cancel", "csrf": visit.csrf(page, "/state")})

    assert answer.status_code == 200 and "/program/confirm/cancel" in answer.url
    assert programs(tool)[0].state == ProgramState.DRAFT and changes(tool) == []


def test_confirming_ends_the_program(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform, end=False)

    answer = confirm(done.trainer, "end")

    assert answer.status_code == 200 and state(tool) == ProgramState.ENDED


def test_another_steps_token_does_not_end_the_program(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform, end=False)
    cancel_page = done.trainer.get("/program/confirm/cancel")

    answer = done.trainer.post(
        "/program/confirm/end", {"csrf": done.trainer.csrf(cancel_page, "/confirm/cancel"), "reason": REASON}
    )

    assert answer.status_code == 400 and state(tool) == ProgramState.RUNNING


def test_a_teacher_neither_opens_nor_posts_a_confirmation(tool: ToolServer, platform: TestPlatform) -> None:
    finished_program(tool, platform, end=False)
    teacher = teacher_visit(tool, platform)

    assert teacher.get("/program/confirm/end").status_code == 403
    assert teacher.post("/program/confirm/end", {"csrf": "0" * 64}).status_code == 403
    assert state(tool) == ProgramState.RUNNING


def test_an_unknown_step_has_no_confirmation(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform, end=False)

    assert done.trainer.get("/program/confirm/delete").status_code == 404


# --- Reopen -----------------------------------------------------------------------------------------------------


def test_a_trainer_reopens_an_ended_program_with_a_reason_kept_in_its_history(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = finished_program(tool, platform)

    answer = confirm(done.trainer, "reopen", reason=REASON)

    assert answer.status_code == 200 and state(tool) == ProgramState.RUNNING
    [change] = changes(tool)
    assert change.kind is ProgramChangeKind.REOPENED and change.reason == REASON
    assert 'id="program-history"' in answer.text and REASON in answer.text


def test_reopening_without_a_reason_is_refused_beside_the_field(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)

    answer = confirm(done.trainer, "reopen", reason="  ")

    assert answer.status_code == 422 and 'id="reason-error"' in answer.text
    assert state(tool) == ProgramState.ENDED and changes(tool) == []


def test_a_reason_over_its_limit_is_refused_and_kept_in_the_field(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    long = "ก" * 1001

    answer = confirm(done.trainer, "reopen", reason=long)

    assert answer.status_code == 422 and 'id="reason-error"' in answer.text and long in answer.text
    assert state(tool) == ProgramState.ENDED


def test_reopening_is_refused_once_a_certificate_is_issued(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))

    answer = confirm(done.trainer, "reopen", reason=REASON)

    assert answer.status_code == 409 and "revoke" in answer.text.lower() and REASON in answer.text
    assert state(tool) == ProgramState.ENDED


def test_a_running_program_is_not_reopened(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform, end=False)

    assert confirm(done.trainer, "reopen", reason=REASON).status_code == 409
    assert state(tool) == ProgramState.RUNNING


# --- Cancel, and a new program in the same course ---------------------------------------------------------------


def test_a_cancelled_program_stays_readable_and_the_course_sets_up_a_new_one(
    tool: ToolServer, platform: TestPlatform
) -> None:
    visit = trainer_visit(tool, platform)
    create(visit, name="โครงการที่ยกเลิก (synthetic)")

    assert confirm(visit, "cancel", reason=REASON, cancelled_by="agency").status_code == 200
    page = visit.get("/program", lang="en")
    [cancelled] = programs(tool)

    assert cancelled.state == ProgramState.CANCELLED
    assert "Set up the course" in page.text and 'id="earlier-programs"' in page.text
    earlier = visit.get(f"/program/{cancelled.id}", lang="en")
    assert "โครงการที่ยกเลิก" in earlier.text and REASON in earlier.text and 'id="cancellation"' in earlier.text
    assert 'action="/program?' not in earlier.text  # read-only: no form to change it

    create(visit)
    newest = max(programs(tool), key=lambda p: p.id)
    assert len(programs(tool)) == 2 and newest.state == ProgramState.DRAFT and newest.name == GOOD["name"]
    assert min(programs(tool), key=lambda p: p.id).state == ProgramState.CANCELLED


def test_cancelling_without_a_reason_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    visit = trainer_visit(tool, platform)
    create(visit)

    answer = confirm(visit, "cancel", reason="", cancelled_by="agency")

    assert answer.status_code == 422 and 'id="reason-error"' in answer.text
    assert programs(tool)[0].state == ProgramState.DRAFT


def test_a_teacher_reads_a_cancelled_program_but_not_its_history(tool: ToolServer, platform: TestPlatform) -> None:
    visit = trainer_visit(tool, platform)
    create(visit)
    confirm(visit, "cancel", reason=REASON, cancelled_by="agency")
    teacher = teacher_visit(tool, platform)

    page = teacher.get(f"/program/{programs(tool)[0].id}")

    assert page.status_code == 200 and 'id="cancellation"' in page.text and 'id="program-history"' not in page.text


def test_another_courses_program_cannot_be_read_by_its_id(tool: ToolServer, platform: TestPlatform) -> None:
    create(trainer_visit(tool, platform, course="course-99"))
    elsewhere = trainer_visit(tool, platform)

    assert elsewhere.get(f"/program/{programs(tool)[0].id}").status_code == 404


# --- Correct the approval date ----------------------------------------------------------------------------------


def approved(visit: Visit, on: str) -> None:
    create(visit)
    take_step(visit, "submit")
    take_step(visit, "approve", approved_on=on)


def test_a_trainer_corrects_the_approval_date_with_a_reason(tool: ToolServer, platform: TestPlatform) -> None:
    visit = trainer_visit(tool, platform)
    approved(visit, "2026-11-01")

    answer = confirm(visit, "correct_approval", approved_on="2026-10-28", reason=REASON)

    assert answer.status_code == 200 and str(programs(tool)[0].approved_on) == "2026-10-28"
    [change] = changes(tool)
    assert (change.before, change.after, change.reason) == ("2026-11-01", "2026-10-28", REASON)
    assert "28 ตุลาคม 2569" in visit.get("/program", lang="th").text


def test_an_approval_date_in_the_future_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    visit = trainer_visit(tool, platform)
    approved(visit, "2026-11-01")
    tomorrow = (program_day(utcnow()) + timedelta(days=1)).isoformat()

    answer = confirm(visit, "correct_approval", approved_on=tomorrow, reason=REASON)

    assert answer.status_code == 409 and str(programs(tool)[0].approved_on) == "2026-11-01"


def test_an_approval_date_that_is_not_a_date_is_refused_beside_the_field(
    tool: ToolServer, platform: TestPlatform
) -> None:
    visit = trainer_visit(tool, platform)
    approved(visit, "2026-11-01")

    answer = confirm(visit, "correct_approval", approved_on="yesterday", reason=REASON)

    assert answer.status_code == 422 and 'id="approved_on-error"' in answer.text and REASON in answer.text
    assert changes(tool) == []


def test_an_approval_date_after_a_recorded_session_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform, end=False)  # sessions from 2 November 2026

    answer = confirm(done.trainer, "correct_approval", approved_on="2026-11-10", reason=REASON)

    assert answer.status_code == 409
    with tool.database.transaction() as db:
        assert str(db.scalars(select(Program)).one().approved_on) == "2026-11-01"


def test_a_program_approved_before_letters_were_kept_records_the_councils_letter_number_with_a_reason(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = finished_program(tool, platform, end=False)  # approved on 1 November 2026
    with tool.database.transaction() as db:  # as a program approved before versions and letters were kept
        db.execute(delete(PlanVersion))
    program_page = done.trainer.get("/program", lang="en").text
    assert "letter number not recorded" in program_page and 'data-step="record-letter"' in program_page
    page = done.trainer.get("/program/confirm/correct_approval", lang="en")
    assert 'name="council_letter_number"' in page.text and "the request for certificates cites it" in page.text

    # Not known yet, it may stay empty (no "required"); a number too long is refused beside its field, text kept.
    field = page.text.split('name="council_letter_number"', 1)[1].split(">", 1)[0]
    assert "required" not in field and "Leave it empty" in page.text
    too_long = "ศ" * 65
    refused = confirm(
        done.trainer, "correct_approval", council_letter_number=too_long, approved_on="2026-11-01", reason=REASON
    )
    assert refused.status_code == 422 and 'id="council_letter_number-error"' in refused.text
    assert too_long in refused.text and REASON in refused.text
    assert changes(tool) == []

    answer = confirm(
        done.trainer, "correct_approval", council_letter_number="ศธ 0206.4/77", approved_on="2026-11-01", reason=REASON
    )

    assert answer.status_code == 200
    [change] = changes(tool)  # the date did not change: one step, the letter's
    assert (change.kind, change.before, change.after, change.reason) == (
        ProgramChangeKind.LETTER_CORRECTED,
        "",
        "ศธ 0206.4/77",
        REASON,
    )
    shown = done.trainer.get("/program", lang="th").text
    assert "ศธ 0206.4/77" in shown and "แก้ไขเลขที่หนังสือเห็นชอบ" in shown and 'data-step="record-letter"' not in shown
    with tool.database.transaction() as db:
        reference = approval_reference(db, db.scalars(select(Program)).one())
    assert reference is not None and (reference.council_letter_number, str(reference.council_letter_date)) == (
        "ศธ 0206.4/77",
        "2026-11-01",
    )
