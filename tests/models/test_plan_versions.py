"""The approved plan is kept (seed 004 §2.6, §3.1): each submission a numbered version with its snapshot and day, a
withdrawal with its reason, the Council's letter against the version it approved, nothing changed after it; what
changed between two versions; programs submitted before versions were kept. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import plan_versions, program_history
from models.errors import InvalidInput, PlanFrozen, PlanSubmitted, ProgramStateError
from models.plan_versions import PlanVersion, approved_version, latest_version, plan_diff
from models.program_history import ProgramChangeKind
from models.programs import Program, ProgramDetails, cancel, edit_program
from models.programs import submit as submit_without_version
from models.rotation import plan_rotation
from models.states import ProgramState
from models.teams import add_team, add_team_member, apply_rotation, remove_team, set_facilitator
from tests.factories import APPROVED_ON, Course, planned_program, program_in

SUBMITTED_ON = date(2026, 5, 20)
WITHDRAWN_ON = date(2026, 5, 25)
TODAY = date(2026, 6, 1)
LETTER = "ศธ 0206.4/1234"
REASON = "คุรุสภาขอให้เพิ่มกลุ่ม PLC ของครูภาษาไทย (synthetic)"


def submitted(db: Session, course: Course) -> Program:
    program = planned_program(db, course)
    program.created_at = program.created_at.replace(year=2026, month=5, day=1)
    plan_versions.submit(db, program, SUBMITTED_ON, today=TODAY)
    return program


def stored(db: Session, program: Program) -> list[PlanVersion]:
    return list(
        db.scalars(select(PlanVersion).where(PlanVersion.program_id == program.id).order_by(PlanVersion.number))
    )


def test_submitting_keeps_the_plan_as_version_1_with_its_day(db: Session, course: Course) -> None:
    program = submitted(db, course)

    [version] = stored(db, program)
    assert (version.number, version.submitted_on, version.withdrawn, version.approved) == (
        1,
        SUBMITTED_ON,
        False,
        False,
    )
    assert version.snapshot["details"]["name"] == program.name and version.snapshot["details"]["planned_cycles"] == "3"
    [team] = version.snapshot["teams"]
    first, second, third = (t.id for t in course.teachers[:3])
    assert team["name"] == "ทีมคณิต" and team["facilitator"] == "trainer"
    assert [m["name"] for m in team["members"]] == ["teacher-1", "teacher-2", "teacher-3"]
    assert team["roles"][0] == {"cycle": 1, "model": first, "buddies": sorted([second, third])}
    assert program.state is ProgramState.SUBMITTED and latest_version(db, program) is version


def test_while_submitted_the_plan_is_refused_every_change_until_withdrawn(db: Session, course: Course) -> None:
    program = submitted(db, course)

    with pytest.raises(PlanSubmitted):
        add_team(db, program, "ทีมสอง")
    with pytest.raises(PlanSubmitted):
        edit_program(program, ProgramDetails("ชื่อใหม่", planned_cycles=4))
    with pytest.raises(PlanSubmitted):
        set_facilitator(db, program.teams[0], None)

    assert len(program.teams) == 1 and program.planned_cycles == 3 and program.teams[0].facilitator_id is not None


def test_withdrawing_needs_a_reason_and_then_changes_nothing(db: Session, course: Course) -> None:
    program = submitted(db, course)

    with pytest.raises(InvalidInput) as refused:
        program_history.withdraw(db, program, course.trainer, "   ", WITHDRAWN_ON)

    assert [p.code for p in refused.value.problems] == ["required"]
    assert program.state is ProgramState.SUBMITTED and not stored(db, program)[0].withdrawn
    assert program_history.history(db, program) == []


def test_withdrawing_makes_a_draft_and_keeps_the_version_the_day_and_the_reason(db: Session, course: Course) -> None:
    program = submitted(db, course)

    program_history.withdraw(db, program, course.trainer, REASON, WITHDRAWN_ON)

    [version] = stored(db, program)
    assert (version.withdrawn_on, version.withdrawn_reason) == (WITHDRAWN_ON, REASON)
    assert program.state is ProgramState.DRAFT and program.submitted_on is None
    [change] = program_history.history(db, program)
    assert (change.kind, change.before, change.after, change.reason) == (
        ProgramChangeKind.WITHDRAWN,
        "1",
        "draft",
        REASON,
    )
    assert change.by is course.trainer
    assert plan_versions.followed_version(db, program) is None  # the plan is a draft again


def test_only_a_submitted_program_is_withdrawn(db: Session, course: Course) -> None:
    for state in (ProgramState.DRAFT, ProgramState.APPROVED, ProgramState.RUNNING):
        program = program_in(db, course, state)
        with pytest.raises(ProgramStateError):
            program_history.withdraw(db, program, course.trainer, REASON, TODAY)
        assert program.state is state
        cancel(program)  # the course's next program is set up beside it


def test_after_withdrawing_the_changed_plan_is_submitted_as_version_2_and_the_difference_is_named(
    db: Session, course: Course
) -> None:
    program = submitted(db, course)
    program_history.withdraw(db, program, course.trainer, REASON, WITHDRAWN_ON)
    edit_program(program, ProgramDetails(program.name, agency="สพป. ตัวอย่าง เขต 1", planned_cycles=4))
    remove_team(db, program.teams[0])  # formed again under its name with a fourth teacher, as the teams page does
    team = add_team(db, program, "ทีมคณิต", facilitator_id=course.trainer.id)
    for teacher in course.teachers[:4]:
        add_team_member(db, team, teacher.id)
    apply_rotation(team, plan_rotation(team.member_ids, 4))
    thai = add_team(db, program, "ทีมภาษาไทย")
    for teacher in course.teachers[4:6]:
        add_team_member(db, thai, teacher.id)

    second = plan_versions.submit(db, program, WITHDRAWN_ON, today=TODAY)

    first = stored(db, program)[0]
    assert second.number == 2 and first.withdrawn and not second.withdrawn
    diff = plan_diff(first.snapshot, second.snapshot)
    assert [(d.field, d.before, d.after) for d in diff.details] == [
        ("agency", "สำนักงานเขตพื้นที่การศึกษาตัวอย่าง", "สพป. ตัวอย่าง เขต 1"),
        ("planned_cycles", "3", "4"),
        ("min_hours", "20.00", "0.00"),
    ]
    assert diff.teams_added == [("ทีมภาษาไทย", ["teacher-5", "teacher-6"])] and diff.teams_removed == []
    [changed] = diff.teams_changed
    assert changed.team == "ทีมคณิต" and changed.members_added == ["teacher-4"] and changed.members_removed == []
    assert [r.cycle for r in changed.roles] == [1, 2, 3, 4]
    assert changed.roles[3].model_before == "" and changed.roles[3].model_after == "teacher-4"


def test_version_2_cannot_be_dated_before_version_1_was_withdrawn(db: Session, course: Course) -> None:
    program = submitted(db, course)
    program_history.withdraw(db, program, course.trainer, REASON, WITHDRAWN_ON)

    with pytest.raises(InvalidInput) as refused:
        plan_versions.submit(db, program, WITHDRAWN_ON - timedelta(days=1), today=TODAY)

    assert [(p.field, p.code) for p in refused.value.problems] == [("submitted_on", "before_withdrawal")]
    assert program.state is ProgramState.DRAFT and len(stored(db, program)) == 1


def test_the_approval_records_the_councils_letter_against_the_version_it_approved(db: Session, course: Course) -> None:
    program = submitted(db, course)
    program_history.withdraw(db, program, course.trainer, REASON, WITHDRAWN_ON)
    plan_versions.submit(db, program, WITHDRAWN_ON, today=TODAY)

    plan_versions.approve(db, program, f"  {LETTER} ", TODAY, today=TODAY)

    first, second = stored(db, program)
    assert (second.council_letter_number, second.council_letter_date) == (LETTER, TODAY) and not first.approved
    assert approved_version(db, program) is second and plan_versions.followed_version(db, program) is second
    assert program.state is ProgramState.APPROVED and program.approved_on == TODAY


@pytest.mark.parametrize(
    ("letter", "on", "problems"),
    [
        ("", TODAY, [("council_letter_number", "required")]),
        ("ศ" * 101, TODAY, [("council_letter_number", "too_long")]),
        (LETTER, TODAY + timedelta(days=1), [("approved_on", "in_the_future")]),
        (
            "  ",
            SUBMITTED_ON - timedelta(days=1),
            [("council_letter_number", "required"), ("approved_on", "before_submission")],
        ),
    ],
)
def test_an_approval_without_a_letter_number_or_with_a_wrong_date_changes_nothing(
    db: Session, course: Course, letter: str, on: date, problems: list[tuple[str, str]]
) -> None:
    program = submitted(db, course)

    with pytest.raises(InvalidInput) as refused:
        plan_versions.approve(db, program, letter, on, today=TODAY)

    assert [(p.field, p.code) for p in refused.value.problems] == problems
    assert program.state is ProgramState.SUBMITTED and approved_version(db, program) is None


def test_a_withdrawn_or_draft_plan_is_not_approved(db: Session, course: Course) -> None:
    program = submitted(db, course)
    program_history.withdraw(db, program, course.trainer, REASON, WITHDRAWN_ON)

    with pytest.raises(ProgramStateError):
        plan_versions.approve(db, program, LETTER, TODAY, today=TODAY)

    assert approved_version(db, program) is None and program.state is ProgramState.DRAFT


def test_once_approved_nothing_of_the_plan_changes_and_the_submission_cannot_be_withdrawn(
    db: Session, course: Course
) -> None:
    program = submitted(db, course)
    plan_versions.approve(db, program, LETTER, TODAY, today=TODAY)
    snapshot = plan_versions.snapshot_now(db, program)

    for change in (
        lambda: add_team(db, program, "ทีมสอง"),
        lambda: remove_team(db, program.teams[0]),
        lambda: add_team_member(db, program.teams[0], course.teachers[6].id),
        lambda: edit_program(program, ProgramDetails("ชื่อใหม่")),
        lambda: set_facilitator(db, program.teams[0], course.teachers[0].id),
    ):
        with pytest.raises(PlanFrozen) as refused:
            change()
        assert refused.value.code == "plan_frozen"
    with pytest.raises(ProgramStateError):
        program_history.withdraw(db, program, course.trainer, REASON, TODAY)

    assert plan_versions.snapshot_now(db, program) == snapshot == approved_version(db, program).snapshot  # type: ignore[union-attr]


def test_a_corrected_approval_date_is_the_approved_versions_letter_date(db: Session, course: Course) -> None:
    program = submitted(db, course)
    plan_versions.approve(db, program, LETTER, TODAY, today=TODAY)

    program_history.correct_approval_date(db, program, course.trainer, SUBMITTED_ON, "วันที่ในหนังสือพิมพ์ผิด", TODAY)

    version = approved_version(db, program)
    assert version is not None and version.council_letter_date == SUBMITTED_ON == program.approved_on


# --- Programs submitted before versions were kept: their version 1 on first read -----------------------------


def test_a_program_submitted_before_versions_gets_version_1_from_its_plan_on_first_read(
    db: Session, course: Course
) -> None:
    program = planned_program(db, course)
    program.created_at = program.created_at.replace(year=2026, month=5, day=1)
    submit_without_version(program, SUBMITTED_ON)
    assert stored(db, program) == []

    version = latest_version(db, program)

    assert version is not None and stored(db, program) == [version]
    assert (version.number, version.submitted_on, version.approved) == (1, SUBMITTED_ON, False)
    assert version.snapshot == plan_versions.snapshot_now(db, program)
    assert latest_version(db, program) is version  # made once


def test_a_program_approved_before_versions_gets_its_approval_date_and_no_letter_number(
    db: Session, course: Course
) -> None:
    program = program_in(db, course, ProgramState.RUNNING)  # submitted and approved without versions

    version = approved_version(db, program)

    assert version is not None and (version.number, version.council_letter_number) == (1, "")
    assert version.council_letter_date == APPROVED_ON


def test_the_letter_number_of_a_program_approved_before_letters_were_kept_is_recorded_with_its_history(
    db: Session, course: Course
) -> None:
    program = program_in(db, course, ProgramState.RUNNING)  # approved before versions: no letter number

    change = program_history.correct_approval_letter(db, program, course.trainer, f"  {LETTER} ", REASON)

    version = approved_version(db, program)
    assert version is not None and version.council_letter_number == LETTER
    assert change is not None and change.kind is ProgramChangeKind.LETTER_CORRECTED
    assert (change.before, change.after, change.reason, change.membership_id) == ("", LETTER, REASON, course.trainer.id)
    assert program_history.correct_approval_letter(db, program, course.trainer, LETTER, REASON) is None  # unchanged
    corrected = program_history.correct_approval_letter(db, program, course.trainer, "ศธ 0206.4/1235", REASON)
    assert corrected is not None and (corrected.before, corrected.after) == (LETTER, "ศธ 0206.4/1235")
    assert [c.kind for c in program_history.history(db, program)].count(ProgramChangeKind.LETTER_CORRECTED) == 2


@pytest.mark.parametrize(
    ("number", "reason", "field", "code"),
    [
        ("   ", REASON, "council_letter_number", "required"),
        ("ศ" * 65, REASON, "council_letter_number", "too_long"),
        (LETTER, "  ", "reason", "required"),
    ],
)
def test_a_letter_number_empty_too_long_or_without_a_reason_changes_nothing(
    db: Session, course: Course, number: str, reason: str, field: str, code: str
) -> None:
    program = submitted(db, course)
    plan_versions.approve(db, program, LETTER, TODAY, today=TODAY)

    with pytest.raises(InvalidInput) as refused:
        program_history.correct_approval_letter(db, program, course.trainer, number, reason)

    assert [(p.field, p.code) for p in refused.value.problems] == [(field, code)]
    version = approved_version(db, program)
    assert version is not None and version.council_letter_number == LETTER
    assert program_history.history(db, program) == []


def test_only_an_approved_plan_has_its_letter_number_corrected(db: Session, course: Course) -> None:
    program = submitted(db, course)

    with pytest.raises(ProgramStateError):
        program_history.correct_approval_letter(db, program, course.trainer, LETTER, REASON)
    version = latest_version(db, program)
    assert version is not None and version.council_letter_number == ""


def test_a_draft_or_a_draft_cancelled_has_no_version(db: Session, course: Course) -> None:
    draft = planned_program(db, course)
    assert latest_version(db, draft) is None
    cancel(draft)
    assert latest_version(db, draft) is None and stored(db, draft) == []


# --- What changed between two snapshots (pure) ------------------------------------------------------------------


def snapshot(teams: list[dict[str, object]], **details: str) -> dict[str, object]:
    return {"details": {"name": "PLC", "planned_cycles": "3", **details}, "teams": teams}


def team(
    name: str, members: dict[int, str], roles: list[tuple[int, int, list[int]]], facilitator: str = ""
) -> dict[str, object]:
    return {
        "name": name,
        "facilitator": facilitator,
        "members": [{"id": i, "name": n} for i, n in members.items()],
        "roles": [{"cycle": c, "model": m, "buddies": b} for c, m, b in roles],
    }


def test_the_same_plan_shows_no_difference() -> None:
    plan = snapshot([team("A", {1: "กานดา", 2: "ชูชาติ"}, [(1, 1, [2]), (2, 2, [1])])])
    assert plan_diff(plan, plan).empty


def test_a_team_re_formed_under_its_name_shows_who_joined_who_left_and_the_roles_that_moved() -> None:
    before = snapshot([team("A", {1: "กานดา", 2: "ชูชาติ"}, [(1, 1, [2]), (2, 2, [1])], facilitator="ครูใหญ่")])
    after = snapshot([team("A", {1: "กานดา", 3: "ดวงใจ"}, [(1, 1, [3]), (2, 3, [1])])], name="PLC ใหม่")

    diff = plan_diff(before, after)

    assert [(d.field, d.before, d.after) for d in diff.details] == [("name", "PLC", "PLC ใหม่")]
    [changed] = diff.teams_changed
    assert (changed.members_added, changed.members_removed, changed.facilitator) == (["ดวงใจ"], ["ชูชาติ"], ("ครูใหญ่", ""))
    assert [(r.cycle, r.model_before, r.buddies_before, r.model_after, r.buddies_after) for r in changed.roles] == [
        (1, "กานดา", ["ชูชาติ"], "กานดา", ["ดวงใจ"]),
        (2, "ชูชาติ", ["กานดา"], "ดวงใจ", ["กานดา"]),
    ]


def test_teams_added_and_removed_are_named_with_their_members() -> None:
    before = snapshot([team("A", {1: "กานดา"}, [])])
    after = snapshot([team("B", {2: "ชูชาติ"}, [])])

    diff = plan_diff(before, after)

    assert diff.teams_added == [("B", ["ชูชาติ"])] and diff.teams_removed == [("A", ["กานดา"])]
    assert diff.teams_changed == [] and not diff.empty


def test_a_letter_number_still_unknown_may_stay_empty_and_nothing_is_recorded(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.RUNNING)  # approved before letters were kept

    assert program_history.correct_approval_letter(db, program, course.trainer, "  ", REASON) is None
    assert program_history.history(db, program) == []


def test_the_letter_number_is_not_changed_once_certificates_are_requested(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.CERTIFICATES_REQUESTED)

    with pytest.raises(ProgramStateError):
        program_history.correct_approval_letter(db, program, course.trainer, LETTER, REASON)
    version = approved_version(db, program)
    assert version is not None and version.council_letter_number == ""


def test_a_corrected_approval_date_cannot_fall_before_the_submission(db: Session, course: Course) -> None:
    program = submitted(db, course)
    plan_versions.approve(db, program, LETTER, TODAY, today=TODAY)

    with pytest.raises(InvalidInput) as refused:
        program_history.correct_approval_date(
            db, program, course.trainer, SUBMITTED_ON - timedelta(days=1), REASON, TODAY
        )

    assert [(p.field, p.code) for p in refused.value.problems] == [("approved_on", "before_submission")]
    assert program.approved_on == TODAY


def test_the_plan_sent_to_the_council_is_listed_as_sent_whatever_changed_in_the_lms_since(
    db: Session, course: Course
) -> None:
    from lti_tool.services.programs import plan_by_team

    program = submitted(db, course)
    sent = plan_by_team(db, program)
    course.teachers[0].person.name = "ชื่อที่เปลี่ยนใน LMS ภายหลัง (synthetic)"
    db.flush()

    [team] = plan_by_team(db, program)

    assert plan_by_team(db, program) == sent and team.rows[0][0] == "teacher-1"
    assert [row[1] for row in team.rows] == [row[1] for row in sent[0].rows] and "model" in team.rows[0][1]
