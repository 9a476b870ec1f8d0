"""Who cancelled, and why, over real HTTP launches (seed 004 §2, closing paragraph): the cancel confirmation asks who
cancels (the agency or the Council) and, for the Council, its letter's number and date; a refusal is shown beside its
field with what was typed and changes nothing; the program page and the list of earlier programs show who cancelled,
the letter, who recorded it, when and why."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models.base import utcnow
from models.calendar import program_day
from models.cancellations import Cancellation, CancelledBy
from models.program_history import ProgramChange
from models.states import ProgramState
from tests.conftest import ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_certificates import teacher_visit
from tests.test_program_confirm import confirm
from tests.test_program_pages import Visit, create, programs, take_step, trainer_visit

REASON = "หน่วยงานดำเนินการไม่ครบ 3 วงรอบตามแนวปฏิบัติข้อ 2.3 (ข้อมูลสังเคราะห์)"
LETTER = "ศธ 0206.3/1234"


def yesterday() -> str:
    return (program_day(utcnow()) - timedelta(days=1)).isoformat()


def submitted(tool: ToolServer, platform: TestPlatform) -> Visit:
    visit = trainer_visit(tool, platform)
    create(visit, name="โครงการที่คุรุสภายกเลิก (ข้อมูลสังเคราะห์)")
    take_step(visit, "submit", submitted_on="")
    return visit


def nothing_changed(tool: ToolServer, state: ProgramState) -> bool:
    with tool.database.transaction() as db:
        rows = db.scalars(select(Cancellation)).all(), db.scalars(select(ProgramChange)).all()
    return programs(tool)[0].state == state and rows == ([], [])


def test_the_cancel_confirmation_asks_who_cancels_and_the_councils_letter(
    tool: ToolServer, platform: TestPlatform
) -> None:
    visit = submitted(tool, platform)

    page = visit.get("/program/confirm/cancel", lang="th")

    assert 'type="radio" id="cancelled_by-agency"' in page.text and 'id="cancelled_by-council"' in page.text
    assert "หน่วยงานที่ดำเนินโครงการ" in page.text and "สำนักงานเลขาธิการคุรุสภา" in page.text
    assert 'id="letter_number"' in page.text and 'type="date" id="letter_date"' in page.text
    assert nothing_changed(tool, ProgramState.SUBMITTED)


def test_the_agency_cancels_and_the_program_page_says_so(tool: ToolServer, platform: TestPlatform) -> None:
    visit = submitted(tool, platform)

    answer = confirm(visit, "cancel", cancelled_by="agency", reason=REASON, letter_number="", letter_date="")

    assert answer.status_code == 200
    [program] = programs(tool)
    page = visit.get(f"/program/{program.id}", lang="th")
    assert 'data-cancelled-by="agency"' in page.text and "หน่วยงานที่ดำเนินโครงการ" in page.text
    assert REASON in page.text and 'id="council-letter"' not in page.text


def test_the_council_cancels_with_its_letter_shown_on_the_program_page_and_in_the_earlier_programs(
    tool: ToolServer, platform: TestPlatform
) -> None:
    visit = submitted(tool, platform)

    answer = confirm(
        visit, "cancel", cancelled_by="council", reason=REASON, letter_number=LETTER, letter_date=yesterday()
    )

    assert answer.status_code == 200
    with tool.database.transaction() as db:
        [row] = db.scalars(select(Cancellation)).all()
        assert (row.cancelled_by, row.letter_number, row.letter_date.isoformat()) == (
            CancelledBy.COUNCIL,
            LETTER,
            yesterday(),
        )
    [program] = programs(tool)
    shown = visit.get(f"/program/{program.id}", lang="th")
    assert 'data-cancelled-by="council"' in shown.text and LETTER in shown.text and REASON in shown.text
    day = program_day(utcnow()) - timedelta(days=1)
    assert f"{day.year + 543}" in shown.text
    listing = visit.get("/program", lang="th")
    earlier = listing.text.split('id="earlier-programs"', 1)[1]
    assert 'data-cancelled-by="council"' in earlier and LETTER in earlier


def test_a_teacher_reads_who_cancelled(tool: ToolServer, platform: TestPlatform) -> None:
    visit = submitted(tool, platform)
    confirm(visit, "cancel", cancelled_by="council", reason=REASON, letter_number=LETTER, letter_date=yesterday())

    page = teacher_visit(tool, platform).get(f"/program/{programs(tool)[0].id}")

    assert page.status_code == 200 and 'data-cancelled-by="council"' in page.text and LETTER in page.text


def test_cancelling_without_saying_who_cancels_is_refused_beside_the_field(
    tool: ToolServer, platform: TestPlatform
) -> None:
    visit = submitted(tool, platform)

    answer = confirm(visit, "cancel", reason=REASON)

    assert answer.status_code == 422 and 'id="cancelled_by-error"' in answer.text and REASON in answer.text
    assert nothing_changed(tool, ProgramState.SUBMITTED)


def test_the_councils_cancellation_without_its_letter_is_refused_with_the_typed_text_kept(
    tool: ToolServer, platform: TestPlatform
) -> None:
    visit = submitted(tool, platform)

    answer = confirm(visit, "cancel", cancelled_by="council", reason=REASON, letter_number="", letter_date="")

    assert answer.status_code == 422
    assert 'id="letter_number-error"' in answer.text and 'id="letter_date-error"' in answer.text
    assert (
        REASON in answer.text
        and 'id="cancelled_by-council" name="cancelled_by" value="council" required checked'
        in (" ".join(answer.text.split()))
    )
    assert nothing_changed(tool, ProgramState.SUBMITTED)


def test_a_council_letter_dated_in_the_future_is_refused_beside_its_date(
    tool: ToolServer, platform: TestPlatform
) -> None:
    visit = submitted(tool, platform)
    tomorrow = (program_day(utcnow()) + timedelta(days=1)).isoformat()

    answer = confirm(visit, "cancel", cancelled_by="council", reason=REASON, letter_number=LETTER, letter_date=tomorrow)

    assert answer.status_code == 422 and 'id="letter_date-error"' in answer.text and LETTER in answer.text
    assert nothing_changed(tool, ProgramState.SUBMITTED)


def test_a_council_letter_date_that_is_not_a_date_is_refused_beside_it(
    tool: ToolServer, platform: TestPlatform
) -> None:
    visit = submitted(tool, platform)

    answer = confirm(visit, "cancel", cancelled_by="council", reason="", letter_number=LETTER, letter_date="เมื่อวาน")

    assert answer.status_code == 422 and 'id="letter_date-error"' in answer.text and 'id="reason-error"' in answer.text
    assert nothing_changed(tool, ProgramState.SUBMITTED)


def test_the_council_cannot_cancel_a_draft_it_never_received(tool: ToolServer, platform: TestPlatform) -> None:
    visit = trainer_visit(tool, platform)
    create(visit)

    answer = confirm(
        visit, "cancel", cancelled_by="council", reason=REASON, letter_number=LETTER, letter_date=yesterday()
    )

    assert answer.status_code == 422 and 'id="cancelled_by-error"' in answer.text
    assert nothing_changed(tool, ProgramState.DRAFT)


def test_a_teacher_cannot_cancel(tool: ToolServer, platform: TestPlatform) -> None:
    submitted(tool, platform)
    teacher = teacher_visit(tool, platform)

    answer = teacher.post("/program/confirm/cancel", {"csrf": "0" * 64, "cancelled_by": "agency", "reason": REASON})

    assert answer.status_code == 403 and nothing_changed(tool, ProgramState.SUBMITTED)


def test_the_cancel_form_needs_its_own_token(tool: ToolServer, platform: TestPlatform) -> None:
    visit = submitted(tool, platform)
    end_page = visit.get("/program/confirm/end")

    answer = visit.post(
        "/program/confirm/cancel",
        {"csrf": visit.csrf(end_page, "/confirm/end"), "cancelled_by": "agency", "reason": REASON},
    )

    assert answer.status_code == 400 and nothing_changed(tool, ProgramState.SUBMITTED)
