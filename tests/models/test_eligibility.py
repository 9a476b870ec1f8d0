"""Certificate eligibility: at least 3 complete cycles, both roles, the program's minimum hours, within one year
of approval. Pure facts, no database; the people and hours are synthetic."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from models.cycles import ELEMENT_NUMBERS
from models.eligibility import ProgramFacts, Reason, SessionFact, TeamFacts, eligibility, team_eligibility
from models.plan import PlcRole
from models.states import ProgramState

A, B, C = 1, 2, 3  # three teachers' membership ids
OUTSIDER = 9
APPROVED_ON = date(2026, 6, 1)
LAST_DAY = date(2027, 6, 1)
HELD_ON = date(2026, 9, 1)
SUBMITTED = datetime(2026, 9, 2, 5, 0, tzinfo=UTC)
PROGRAM = ProgramFacts(ProgramState.RUNNING, APPROVED_ON, planned_cycles=3, min_hours=Decimal(20))
# Cycle n: the nth teacher is the Model, the other two are Buddies.
ROTATION = {1: A, 2: B, 3: C}


def sessions(cycle: int, hours: str = "1.5", attendees: frozenset[int] = frozenset({A, B, C})) -> list[SessionFact]:
    return [SessionFact(cycle, element, HELD_ON, Decimal(hours), attendees) for element in ELEMENT_NUMBERS]


def facts(cycles: tuple[int, ...] = (1, 2, 3)) -> TeamFacts:
    """A team whose members all attended every element of `cycles`, reflected, and filed their observations."""
    roles = {
        (n, member): PlcRole.MODEL if ROTATION[n] == member else PlcRole.BUDDY
        for n in (1, 2, 3)
        for member in (A, B, C)
    }
    return TeamFacts(
        member_ids=frozenset({A, B, C}),
        sessions=tuple(s for n in cycles for s in sessions(n)),
        roles=roles,
        reflections={(n, member): SUBMITTED for n in cycles for member in (A, B, C)},
        observations=frozenset((n, m) for (n, m), role in roles.items() if role is PlcRole.BUDDY and n in cycles),
    )


def codes(member: int, team: TeamFacts, program: ProgramFacts = PROGRAM) -> list[str]:
    return [reason.code for reason in eligibility(member, program, team).reasons]


def test_three_complete_cycles_both_roles_and_the_hours_make_a_teacher_eligible() -> None:
    result = eligibility(A, PROGRAM, facts())
    assert result.eligible and result.reasons == ()
    assert result.complete_cycles == (1, 2, 3)
    assert result.roles_played == {PlcRole.MODEL: (1,), PlcRole.BUDDY: (2, 3)}


def test_two_complete_cycles_are_too_few() -> None:
    result = eligibility(C, PROGRAM, facts(cycles=(1, 2)))
    assert not result.eligible
    assert Reason("too_few_cycles", {"have": 2, "need": 3}) in result.reasons


def test_the_councils_minimum_of_three_cycles_suffices_when_more_were_planned() -> None:
    four_planned = replace(PROGRAM, planned_cycles=4)
    assert eligibility(A, four_planned, facts()).eligible


def test_a_cycle_missing_an_element_is_not_complete() -> None:
    team = facts()
    team = replace(team, sessions=tuple(s for s in team.sessions if (s.cycle, s.element) != (2, 4)))
    result = eligibility(A, PROGRAM, team)
    assert result.complete_cycles == (1, 3)
    assert result.cycles[1].elements_missing == (4,)


def test_an_element_the_teacher_missed_leaves_their_cycle_incomplete() -> None:
    team = facts()
    absent_from_element_3 = [
        replace(s, attendees=frozenset({B, C})) if (s.cycle, s.element) == (1, 3) else s for s in team.sessions
    ]
    team = replace(team, sessions=tuple(absent_from_element_3))
    assert eligibility(A, PROGRAM, team).complete_cycles == (2, 3)
    assert eligibility(B, PROGRAM, team).complete_cycles == (1, 2, 3)


def test_a_cycle_without_the_teachers_reflection_is_not_complete() -> None:
    team = facts()
    team = replace(team, reflections={k: v for k, v in team.reflections.items() if k != (3, A)})
    result = eligibility(A, PROGRAM, team)
    assert result.complete_cycles == (1, 2)
    assert not result.cycles[2].reflection_submitted


def test_a_teacher_who_was_never_the_model_lacks_that_role() -> None:
    team = facts()
    roles = {key: PlcRole.BUDDY if key[1] == C else role for key, role in team.roles.items()}
    result = eligibility(C, PROGRAM, replace(team, roles=roles, observations=team.observations | {(3, C)}))
    assert result.reasons == (Reason("missing_role", {"role": PlcRole.MODEL}),)


def test_the_model_role_counts_only_in_a_complete_cycle() -> None:
    team = facts()
    team = replace(team, reflections={k: v for k, v in team.reflections.items() if k != (1, A)})
    result = eligibility(A, PROGRAM, team)
    assert result.roles_played[PlcRole.MODEL] == ()
    assert Reason("missing_role", {"role": PlcRole.MODEL}) in result.reasons


def test_a_buddy_who_filed_no_observation_lacks_the_buddy_role() -> None:
    team = facts()
    team = replace(team, observations=team.observations - {(2, A), (3, A)})
    result = eligibility(A, PROGRAM, team)
    assert result.reasons == (Reason("missing_role", {"role": PlcRole.BUDDY}),)
    assert result.complete_cycles == (1, 2, 3)


def test_too_few_hours_say_how_many_are_had_and_needed() -> None:
    demanding = replace(PROGRAM, min_hours=Decimal(30))
    assert eligibility(A, demanding, facts()).reasons == (
        Reason("too_few_hours", {"have": Decimal("22.5"), "need": Decimal(30)}),
    )


def test_exactly_the_minimum_hours_suffice() -> None:
    assert eligibility(A, replace(PROGRAM, min_hours=Decimal("22.5")), facts()).eligible


def test_hours_are_counted_by_element_and_in_total() -> None:
    team = facts()
    team = replace(team, sessions=team.sessions + (SessionFact(1, 2, HELD_ON, Decimal("0.75"), frozenset({A})),))
    result = eligibility(A, PROGRAM, team)
    assert result.hours_by_element == {
        1: Decimal("4.5"),
        2: Decimal("5.25"),
        3: Decimal("4.5"),
        4: Decimal("4.5"),
        5: Decimal("4.5"),
    }
    assert result.total_hours == Decimal("23.25")


def test_hours_of_sessions_the_teacher_missed_do_not_count() -> None:
    team = facts()
    team = replace(team, sessions=team.sessions + (SessionFact(1, 2, HELD_ON, Decimal(3), frozenset({B})),))
    assert eligibility(A, PROGRAM, team).total_hours == Decimal("22.5")


@pytest.mark.parametrize("held_on", [APPROVED_ON - timedelta(days=1), LAST_DAY + timedelta(days=1)])
def test_sessions_outside_the_program_year_count_for_nothing(held_on: date) -> None:
    team = facts()
    team = replace(team, sessions=tuple(replace(s, held_on=held_on) if s.cycle == 1 else s for s in team.sessions))
    result = eligibility(A, PROGRAM, team)
    assert result.complete_cycles == (2, 3)
    assert result.total_hours == Decimal(15)
    assert codes(A, team) == ["too_few_cycles", "missing_role", "too_few_hours"]


@pytest.mark.parametrize("held_on", [APPROVED_ON, LAST_DAY])
def test_sessions_on_the_first_and_last_days_of_the_program_year_count(held_on: date) -> None:
    team = facts()
    team = replace(team, sessions=tuple(replace(s, held_on=held_on) for s in team.sessions))
    assert eligibility(A, PROGRAM, team).eligible


def test_a_reflection_submitted_after_the_program_year_does_not_complete_a_cycle() -> None:
    team = facts()
    late = datetime(2027, 6, 1, 17, 0, tzinfo=UTC)  # 2 June in Bangkok, the day after the last day
    team = replace(team, reflections={**team.reflections, (3, A): late})
    assert eligibility(A, PROGRAM, team).complete_cycles == (1, 2)


def test_a_reflection_on_the_last_thai_day_of_the_year_counts() -> None:
    team = facts()
    last_evening = datetime(2027, 6, 1, 16, 59, tzinfo=UTC)  # 23:59 on 1 June in Bangkok
    team = replace(team, reflections={**team.reflections, (3, A): last_evening})
    assert eligibility(A, PROGRAM, team).complete_cycles == (1, 2, 3)


def test_a_cancelled_program_certifies_no_one() -> None:
    cancelled = replace(PROGRAM, state=ProgramState.CANCELLED)
    assert codes(A, facts(), cancelled) == ["program_cancelled"]


def test_an_unapproved_program_certifies_no_one() -> None:
    draft = replace(PROGRAM, state=ProgramState.DRAFT, approved_on=None)
    assert codes(A, facts(), draft) == [
        "program_not_approved",
        "too_few_cycles",
        "missing_role",
        "missing_role",
        "too_few_hours",
    ]


def test_someone_outside_the_team_is_not_eligible() -> None:
    result = eligibility(OUTSIDER, PROGRAM, facts())
    assert result.reasons[0] == Reason("not_a_member", {})
    assert result.total_hours == 0


def test_a_teacher_with_nothing_done_gets_every_reason() -> None:
    nothing = TeamFacts(member_ids=frozenset({A, B, C}))
    assert eligibility(A, PROGRAM, nothing).reasons == (
        Reason("too_few_cycles", {"have": 0, "need": 3}),
        Reason("missing_role", {"role": PlcRole.MODEL}),
        Reason("missing_role", {"role": PlcRole.BUDDY}),
        Reason("too_few_hours", {"have": Decimal(0), "need": Decimal(20)}),
    )


def test_progress_shows_each_cycles_role_and_what_is_missing() -> None:
    team = facts(cycles=(1,))
    progress = eligibility(B, PROGRAM, team).cycles
    assert [(c.number, c.role, c.complete) for c in progress] == [
        (1, PlcRole.BUDDY, True),
        (2, PlcRole.MODEL, False),
        (3, PlcRole.BUDDY, False),
    ]
    assert progress[1].elements_missing == ELEMENT_NUMBERS and not progress[1].reflection_submitted


# --- A teacher who left the course (the LMS no longer lists them) ----------------------------------------------


def test_a_teacher_who_left_before_the_end_is_not_eligible_and_keeps_what_they_did() -> None:
    team = replace(facts(), left={B: date(2027, 1, 10)})
    result = eligibility(B, PROGRAM, team)
    assert not result.eligible and result.reasons == (Reason("left_course", {"on": date(2027, 1, 10)}),)
    assert result.left_on == date(2027, 1, 10) and result.requirements_met
    assert result.complete_cycles == (1, 2, 3) and result.total_hours == Decimal("22.5")
    assert eligibility(A, PROGRAM, team).eligible  # the others are not touched


def test_leaving_before_the_end_comes_first_among_the_reasons_and_the_work_still_counts_for_what_it_is() -> None:
    team = replace(facts(cycles=(1, 2)), left={C: date(2026, 10, 1)})
    result = eligibility(C, PROGRAM, team)
    assert [r.code for r in result.reasons][:2] == ["left_course", "too_few_cycles"]
    assert not result.requirements_met


def test_a_teacher_who_left_after_the_program_ended_stays_eligible() -> None:
    ended = replace(PROGRAM, state=ProgramState.ENDED, ended_on=date(2027, 3, 31))
    assert eligibility(A, ended, replace(facts(), left={A: date(2027, 4, 2)})).eligible
    on_the_day = eligibility(A, ended, replace(facts(), left={A: date(2027, 3, 31)}))
    assert on_the_day.eligible and on_the_day.left_on is None
    before = eligibility(A, ended, replace(facts(), left={A: date(2027, 3, 30)}))
    assert [r.code for r in before.reasons] == ["left_course"]


def test_a_teacher_who_left_after_the_program_year_stays_eligible() -> None:
    assert eligibility(A, PROGRAM, replace(facts(), left={A: LAST_DAY + timedelta(days=1)})).eligible
    assert not eligibility(A, PROGRAM, replace(facts(), left={A: LAST_DAY - timedelta(days=1)})).eligible


def test_the_whole_team_read_at_once_is_each_member_read_alone() -> None:
    """team_eligibility (the dashboard's figures) reads the sessions once for the team; it must say, member by
    member, exactly what eligibility says, through every kind of fact: sessions outside the year, a missed element,
    a teacher who left, an attendee who is not a member, a missing reflection and observation."""
    base = facts()
    team = replace(
        base,
        sessions=(
            *base.sessions,
            SessionFact(1, 2, LAST_DAY + timedelta(days=1), Decimal(4), frozenset({A, OUTSIDER})),
            SessionFact(2, 3, APPROVED_ON, Decimal("2.5"), frozenset({B})),
        ),
        reflections={key: at for key, at in base.reflections.items() if key != (3, C)},
        observations=base.observations - {(1, B)},
        left={A: date(2026, 10, 1)},
    )
    for program in (PROGRAM, replace(PROGRAM, approved_on=None), replace(PROGRAM, min_hours=Decimal(23))):
        together = team_eligibility(program, team)
        assert set(together) == {A, B, C}
        assert together == {member: eligibility(member, program, team) for member in (A, B, C)}
    assert len({e.eligible for e in team_eligibility(PROGRAM, team).values()}) == 2  # not all alike: a real check
