"""Goal met is a choice (seed 000, process 8: met, share it; not met, improve and try again): the results report's
choice field refuses anything but its answers, free text saved before keeps showing, the next cycle starts from what
the team will improve, and the dashboard counts cycles met / not met / not reported. SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.orm import Session

from models.dashboard import Filters, figures_by
from models.dashboard_stats import refresh_district
from models.district import District, Network, Reach, School, Unit, place_program
from models.errors import InvalidInput
from models.forms import (
    FormEntry,
    _load,
    answer_problems,
    carried_over,
    form_templates,
    goal_field,
    save_form,
)
from models.people import Membership
from models.programs import Program
from models.teams import Team
from tests.factories import TODAY, Course, record, running

REPORT = {"summary": "นักเรียนผ่านเกณฑ์ร้อยละ 72", "goal_met": "met"}


def writer(db: Session, team: Team) -> Membership:
    found = db.get(Membership, team.member_ids[0])
    assert found is not None
    return found


def report(db: Session, team: Team, cycle: int, **answers: str) -> FormEntry:
    return save_form(db, team, cycle, "results-report", {**REPORT, **answers}, writer(db, team), TODAY)


# --- The choice field -------------------------------------------------------------------------------------------


def test_the_goal_is_a_choice_of_the_two_outcomes_the_seed_names() -> None:
    field = goal_field()
    assert field.kind == "choice" and field.required
    assert [(o.value, o.label["th"]) for o in field.options] == [
        ("met", "บรรลุเป้าหมาย"),
        ("not_met", "ไม่บรรลุเป้าหมาย"),
    ]


@pytest.mark.parametrize("answer", ["met", "not_met"])
def test_each_offered_answer_is_accepted(answer: str) -> None:
    assert answer_problems(form_templates()["results-report"], {**REPORT, "goal_met": answer}) == []


@pytest.mark.parametrize("answer", ["partly", "บรรลุ", "MET", "yes"])
def test_an_answer_not_offered_is_refused_beside_the_field(answer: str) -> None:
    problems = answer_problems(form_templates()["results-report"], {**REPORT, "goal_met": answer})
    assert [(p.field, p.code) for p in problems] == [("goal_met", "not_a_choice")]


def test_no_answer_to_the_required_choice_is_refused_as_missing() -> None:
    problems = answer_problems(form_templates()["results-report"], {**REPORT, "goal_met": ""})
    assert [(p.field, p.code) for p in problems] == [("goal_met", "required")]


def test_a_choice_without_options_or_options_on_another_kind_cannot_be_configured() -> None:
    document: dict[str, Any] = {"slug": "x", "title": {}, "element": 5, "fields": []}
    choice = {"id": "goal", "kind": "choice", "label": {"th": "", "en": ""}}
    with pytest.raises(ValueError, match="options"):
        _load({**document, "fields": [choice]})
    with pytest.raises(ValueError, match="options"):
        _load({**document, "fields": [{**choice, "kind": "text", "options": [{"value": "a", "label": {}}]}]})


def test_a_saved_choice_outside_the_options_changes_nothing(db: Session, course: Course) -> None:
    _, team = running(db, course)

    with pytest.raises(InvalidInput) as refused:
        report(db, team, 1, goal_met="partly")

    assert [(p.field, p.code) for p in refused.value.problems] == [("goal_met", "not_a_choice")]
    assert db.query(FormEntry).count() == 0


# --- Free text saved before the field was a choice --------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("บรรลุ", "met"),
        ("บรรลุเป้าหมาย (ตัวอย่าง)", "met"),
        ("Met.", "met"),
        ("ยังไม่บรรลุ", "not_met"),
        ("ไม่บรรลุเป้าหมาย", "not_met"),
        ("not yet", "not_met"),
    ],
)
def test_earlier_text_that_plainly_names_an_outcome_reads_as_it_keeping_the_text(typed: str, value: str) -> None:
    field = goal_field()
    chosen = field.option(typed)
    assert chosen is not None and chosen.value == value
    assert field.answer_text(typed, "th") == f"{chosen.label['th']} (“{typed}”)"


@pytest.mark.parametrize("typed", ["บรรลุบางส่วน", "partly", "เกือบบรรลุ แต่ยังมีนักเรียน 3 คนที่ยังทำไม่ได้"])
def test_other_earlier_text_is_not_a_choice_and_stays_visible(typed: str) -> None:
    field = goal_field()
    assert field.option(typed) is None
    assert field.answer_text(typed, "th") == f"{typed} (ไม่ได้บันทึกเป็นตัวเลือก)"
    assert field.answer_text(typed, "en") == f"{typed} (not recorded as a choice)"


def test_a_chosen_answer_reads_as_its_label_in_each_language() -> None:
    field = goal_field()
    assert (field.answer_text("not_met", "th"), field.answer_text("not_met", "en")) == (
        "ไม่บรรลุเป้าหมาย",
        "Goal not met",
    )


# --- The next cycle starts from what the team will improve ------------------------------------------------------


def test_the_next_cycle_carries_the_previous_cycles_improvements(db: Session, course: Course) -> None:
    _, team = running(db, course)
    report(db, team, 1, goal_met="not_met", improvements="ใช้แถบเศษส่วนทุกคาบ")

    carried = carried_over(db, team, 2)

    assert carried is not None and (carried.cycle, carried.improvements) == (1, "ใช้แถบเศษส่วนทุกคาบ")
    assert carried.goal is not None and carried.goal.value == "not_met"
    assert carried_over(db, team, 3) is None  # only the cycle just before


def test_nothing_is_carried_into_the_first_cycle_or_from_a_report_without_improvements(
    db: Session, course: Course
) -> None:
    _, team = running(db, course)
    report(db, team, 1, improvements="   ")

    assert carried_over(db, team, 1) is None
    assert carried_over(db, team, 2) is None


# --- The dashboard's count --------------------------------------------------------------------------------------


def placed(db: Session, program: Program) -> tuple[District, Reach]:
    district = District(platform_id=program.platform_id, code="D-GOALS", name="เขตตัวอย่าง (synthetic)")
    network = Network(district=district, code="N1", name="เครือข่ายตัวอย่าง")
    db.add_all([district, network])
    db.flush()
    school = School(district_id=district.id, network_id=network.id, code="S1", name="โรงเรียนตัวอย่าง")
    db.add(school)
    db.flush()
    place_program(db, program, Unit(district, network, school))
    reach = Reach(
        led_district_ids=frozenset({district.id}),
        district_ids=frozenset({district.id}),
        network_ids=frozenset({network.id}),
        school_ids=frozenset({school.id}),
    )
    return district, reach


def complete(db: Session, team: Team, cycle: int) -> None:
    for element in (1, 2, 3, 4, 5):
        record(db, team, element, cycle=cycle)


def test_the_dashboard_counts_cycles_met_not_met_and_not_reported(db: Session, course: Course) -> None:
    program, team = running(db, course, cycles=4)
    district, reach = placed(db, program)
    complete(db, team, 1)
    report(db, team, 1, goal_met="met")
    report(db, team, 2, goal_met="not_met")  # reported before the cycle is completed: it counts
    complete(db, team, 3)  # completed, no results report: not reported
    complete(db, team, 4)
    earlier = report(db, team, 4)
    earlier.answers = {**earlier.answers, "goal_met": "บรรลุบางส่วน"}  # free text from before: not reported
    db.flush()

    refresh_district(db, district)
    total = figures_by(db, reach, Filters(), "total")[0]

    assert (total.goals_met, total.goals_not_met, total.goals_not_reported, total.goals_counted) == (1, 1, 2, 4)


def test_a_cycle_only_started_is_not_counted_and_the_filters_apply(db: Session, course: Course) -> None:
    program, team = running(db, course)
    district, reach = placed(db, program)
    record(db, team, 1, cycle=1)  # started, not completed, no report
    complete(db, team, 2)
    report(db, team, 2, goal_met="met")

    refresh_district(db, district)
    everything = figures_by(db, reach, Filters(), "total")[0]
    other_year = figures_by(db, reach, replace(Filters(), year=1999), "total")[0]

    assert (everything.goals_met, everything.goals_not_met, everything.goals_not_reported) == (1, 0, 0)
    assert other_year.goals_counted == 0
