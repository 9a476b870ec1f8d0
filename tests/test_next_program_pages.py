"""Council dates and programs of several years over real HTTP: the "Submit to the Council" form records the day the
application was sent (refused beside the field when it is to come or before the program was set up, so an approval
before it is refused too); a trainer sets up the course's next program once the current one is done with the
Council, the earlier one stays readable; and the team pages show the current program's teams only."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from models.base import utcnow
from models.calendar import program_day
from models.programs import Program
from models.rotation import plan_rotation
from models.states import ProgramState
from models.teams import Team, add_team, add_team_member, apply_rotation
from tests.conftest import ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_certificates import members_by_name, teacher_visit
from tests.test_program_pages import GOOD, Visit, create, programs, take_step, trainer_visit
from tests.test_program_teams import teachers_launch

TODAY = program_day(utcnow())


def submitted_on(tool: ToolServer) -> list[tuple[ProgramState, date | None]]:
    return [(p.state, p.submitted_on) for p in programs(tool)]


def error_beside(page_text: str, field: str) -> str:
    match = re.search(rf'<span id="{field}-error" class="field-error">([^<]*)</span>', page_text)
    assert match, f"no problem shown beside {field}"
    return match.group(1)


# --- The submission day -----------------------------------------------------------------------------------------


def test_the_submit_form_asks_for_the_day_it_was_sent_defaulting_to_today(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)

    page = trainer.get("/program", lang="th")

    field = re.search(r'<input type="date" id="submitted_on"[^>]*>', page.text)
    assert field, "no submission date on the submit form"
    assert f'value="{TODAY.isoformat()}"' in field.group(0) and f'max="{TODAY.isoformat()}"' in field.group(0)
    assert f'min="{TODAY.isoformat()}"' in field.group(0)  # the program was set up today
    assert "วันที่ส่งคำขอถึงคุรุสภา" in page.text


def test_a_submission_dated_today_is_kept_and_an_approval_before_it_is_refused_beside_its_field(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)

    assert take_step(trainer, "submit", submitted_on=TODAY.isoformat()).status_code == 200
    assert submitted_on(tool) == [(ProgramState.SUBMITTED, TODAY)]

    refused = take_step(trainer, "approve", approved_on=(TODAY - timedelta(days=1)).isoformat())

    assert refused.status_code == 422
    assert "before it was submitted" in error_beside(refused.text, "approved_on")
    assert [(p.state, p.approved_on) for p in programs(tool)] == [(ProgramState.SUBMITTED, None)]
    assert take_step(trainer, "approve", approved_on=TODAY.isoformat()).status_code == 200
    assert [(p.state, p.approved_on) for p in programs(tool)] == [(ProgramState.APPROVED, TODAY)]


def test_a_submission_dated_tomorrow_is_refused_beside_the_field_and_the_program_stays_a_draft(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)
    tomorrow = (TODAY + timedelta(days=1)).isoformat()

    page = take_step(trainer, "submit", submitted_on=tomorrow)

    assert page.status_code == 422 and "in the future" in error_beside(page.text, "submitted_on")
    assert f'value="{tomorrow}"' in page.text  # what was typed stays in the field
    assert submitted_on(tool) == [(ProgramState.DRAFT, None)]


def test_a_submission_before_the_program_was_set_up_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)

    page = take_step(trainer, "submit", submitted_on=(TODAY - timedelta(days=3)).isoformat())

    assert page.status_code == 422 and "before the program was set up here" in error_beside(page.text, "submitted_on")
    assert submitted_on(tool) == [(ProgramState.DRAFT, None)]


def test_a_submission_date_that_is_not_a_date_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)

    page = take_step(trainer, "submit", submitted_on="31/02/2569")

    assert page.status_code == 422 and "Please enter a date" in error_beside(page.text, "submitted_on")
    assert submitted_on(tool) == [(ProgramState.DRAFT, None)]


def test_a_submission_left_empty_is_of_a_day_not_known(tool: ToolServer, platform: TestPlatform) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)

    assert take_step(trainer, "submit", submitted_on="").status_code == 200
    assert submitted_on(tool) == [(ProgramState.SUBMITTED, None)]


def test_a_teacher_cannot_submit_with_a_date(tool: ToolServer, platform: TestPlatform) -> None:
    create(trainer_visit(tool, platform))
    teacher = teacher_visit(tool, platform)

    answer = teacher.post("/program/state", {"action": "submit", "submitted_on": TODAY.isoformat(), "csrf": "0" * 64})

    assert answer.status_code == 403 and submitted_on(tool) == [(ProgramState.DRAFT, None)]


# --- The course's next program ----------------------------------------------------------------------------------


def put(tool: ToolServer, state: ProgramState, ended_days_ago: int | None = None) -> int:
    """The course's only program put in `state` (the steps to get there are tested elsewhere)."""
    with tool.database.transaction() as db:
        program = db.scalars(select(Program)).one()
        program.state = state
        if ended_days_ago is not None:
            program.approved_on = TODAY - timedelta(days=ended_days_ago + 200)
            program.ended_on = TODAY - timedelta(days=ended_days_ago)
        if state is ProgramState.CERTIFICATES_REQUESTED:
            program.certificates_requested_on = program.ended_on or TODAY
        return program.id


def set_up_next(visit: Visit, **changes: str) -> tuple[int, str]:
    page = visit.get("/program")
    answer = visit.post("/program/next", {**GOOD, **changes, "csrf": visit.csrf(page, "/next")})
    return answer.status_code, answer.text


def test_once_certificates_are_requested_a_trainer_sets_up_the_next_program_and_the_earlier_stays_readable(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer, name="PLC ปี 2569 (synthetic)")
    earlier_id = put(tool, ProgramState.CERTIFICATES_REQUESTED, ended_days_ago=10)

    offer = trainer.get("/program", lang="th")
    assert 'id="next-program-offer"' in offer.text and "ตั้งโครงการถัดไปของรายวิชา" in offer.text
    assert 'name="name" type="text" value=""' in offer.text  # a name of its own; the other details carried over

    status, page = set_up_next(trainer, name="PLC ปี 2570 (synthetic)")

    assert status == 200 and "new program. The earlier one stays readable below." in page
    newest = max(programs(tool), key=lambda p: p.id)
    assert (newest.name, newest.state, len(programs(tool))) == ("PLC ปี 2570 (synthetic)", ProgramState.DRAFT, 2)
    listed = trainer.get("/program", lang="en")
    assert "PLC ปี 2570" in listed.text and 'id="earlier-programs"' in listed.text
    assert f"/program/{earlier_id}?" in listed.text and 'id="next-program-offer"' not in listed.text
    earlier = trainer.get(f"/program/{earlier_id}", lang="en")
    assert earlier.status_code == 200 and "PLC ปี 2569" in earlier.text and 'id="readonly-program"' in earlier.text


def test_an_ended_programs_30_days_passed_lets_the_course_set_up_the_next(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)
    put(tool, ProgramState.ENDED, ended_days_ago=31)

    assert 'id="next-program-offer"' in trainer.get("/program").text
    assert set_up_next(trainer, name="ปีถัดไป (synthetic)")[0] == 200
    assert sorted(p.state for p in programs(tool)) == sorted([ProgramState.ENDED, ProgramState.DRAFT])


def test_within_the_30_days_after_the_end_no_next_program_is_offered_or_taken(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)
    csrf = trainer.csrf(trainer.get("/program"), "?")  # any token of this session's: the purpose is checked too
    put(tool, ProgramState.ENDED, ended_days_ago=5)

    page = trainer.get("/program", lang="en")
    assert 'id="next-program-offer"' not in page.text and 'action="/program/next' not in page.text
    assert trainer.post("/program/next", {**GOOD, "csrf": csrf}).status_code in (400, 403)
    assert len(programs(tool)) == 1


def test_the_rule_refuses_a_next_program_while_the_current_one_is_a_draft(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)
    put(tool, ProgramState.CERTIFICATES_REQUESTED)
    page = trainer.get("/program")  # the offer, and its token
    put(tool, ProgramState.DRAFT)  # meanwhile another trainer's page, say, changed the program back

    answer = trainer.post("/program/next", {**GOOD, "name": "อีกโครงการ", "csrf": trainer.csrf(page, "/next")})

    assert answer.status_code == 409 and "A new program can be set up once" in answer.text
    assert len(programs(tool)) == 1


def test_the_next_programs_details_are_checked_beside_each_field_and_nothing_is_set_up(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)
    put(tool, ProgramState.CERTIFICATES_REQUESTED)

    status, page = set_up_next(trainer, name="", planned_cycles="2")

    assert status == 422 and 'id="name-error"' in page and 'id="planned_cycles-error"' in page
    assert 'action="/program/next' in page and len(programs(tool)) == 1


def test_a_teacher_cannot_set_up_the_next_program(tool: ToolServer, platform: TestPlatform) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)
    put(tool, ProgramState.CERTIFICATES_REQUESTED)
    teacher = teacher_visit(tool, platform)

    assert 'action="/program/next' not in teacher.get("/program").text
    assert teacher.post("/program/next", {**GOOD, "csrf": "0" * 64}).status_code == 403
    assert len(programs(tool)) == 1


# --- The team pages show the current program's teams ------------------------------------------------------------


def last_years_team(tool: ToolServer, platform: TestPlatform, trainer: Visit) -> tuple[int, list[str]]:
    """Last year's program with a team of three, its certificates requested; then the new year's, without teams."""
    names = teachers_launch(platform, 3)
    create(trainer, name="PLC ปีก่อน (synthetic)")
    ids = members_by_name(tool)
    with tool.database.transaction() as db:
        program = db.scalars(select(Program)).one()
        team = add_team(db, program, "กลุ่มปีก่อน")
        for person in names:
            add_team_member(db, team, ids[person])
        apply_rotation(team, plan_rotation(team.member_ids, program.planned_cycles))
        team_id = team.id
    put(tool, ProgramState.CERTIFICATES_REQUESTED, ended_days_ago=10)
    assert set_up_next(trainer, name="PLC ปีนี้ (synthetic)")[0] == 200
    return team_id, names


def test_a_trainer_does_not_land_on_last_years_team_when_the_new_program_has_none(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    team_id, _names = last_years_team(tool, platform, trainer)

    for page in ("/program/sessions", "/program/cycles/1"):
        answer = trainer.get(page, lang="en")
        assert answer.status_code == 404, page
        assert "The current program has no teams yet." in answer.text and "กลุ่มปีก่อน" not in answer.text, page
    thai = trainer.get("/program/sessions", lang="th")
    assert "โครงการปัจจุบันยังไม่มีกลุ่ม PLC" in thai.text
    assert trainer.get("/program/sessions", team=str(team_id)).status_code == 200  # still readable by its address


def test_a_teacher_of_last_years_team_is_not_shown_it_as_their_team(tool: ToolServer, platform: TestPlatform) -> None:
    trainer = trainer_visit(tool, platform)
    last_years_team(tool, platform, trainer)
    teacher = teacher_visit(tool, platform)

    answer = teacher.get("/program/sessions", lang="en")

    assert answer.status_code == 403 and "not in a PLC team yet" in answer.text and "กลุ่มปีก่อน" not in answer.text


def test_the_new_programs_team_is_the_one_shown_and_switched_between(tool: ToolServer, platform: TestPlatform) -> None:
    trainer = trainer_visit(tool, platform)
    team_id, names = last_years_team(tool, platform, trainer)
    ids = members_by_name(tool)
    with tool.database.transaction() as db:
        current = max(db.scalars(select(Program)), key=lambda p: p.id)
        team = add_team(db, current, "กลุ่มปีนี้")
        add_team_member(db, team, ids[names[0]])
        new_team_id = team.id

    page = trainer.get("/program/sessions", lang="en")

    assert page.status_code == 200 and "กลุ่มปีนี้" in page.text and "กลุ่มปีก่อน" not in page.text
    assert "กลุ่มปีนี้" in teacher_visit(tool, platform).get("/program/sessions").text
    with tool.database.transaction() as db:
        assert db.get(Team, new_team_id) is not None and db.get(Team, team_id) is not None
