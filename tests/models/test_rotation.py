"""The rotation planner: every member the Model Teacher once and a Buddy once (seed 004 §2.4), or a clear reason."""

from collections import Counter

import pytest

from models.rotation import Gap, RotationImpossible, plan_rotation, rotation_gaps

GRID = [(size, cycles) for size in range(2, 9) for cycles in range(3, 9)]
POSSIBLE = [(size, cycles) for size, cycles in GRID if cycles >= size]
TOO_FEW_CYCLES = [(size, cycles) for size, cycles in GRID if cycles < size]


def team(size: int) -> list[int]:
    return [100 + n for n in range(size)]


@pytest.mark.parametrize(("size", "cycles"), POSSIBLE)
def test_every_member_is_model_once_and_buddy_once(size: int, cycles: int) -> None:
    members = team(size)
    rotation = plan_rotation(members, cycles)
    models = {model for model, _ in rotation.values()}
    buddies = {buddy for _, buddy_ids in rotation.values() for buddy in buddy_ids}
    assert models == buddies == set(members)
    assert rotation_gaps(members, cycles, rotation) == []


@pytest.mark.parametrize(("size", "cycles"), POSSIBLE)
def test_each_cycle_has_one_model_observed_by_everyone_else(size: int, cycles: int) -> None:
    members = team(size)
    rotation = plan_rotation(members, cycles)
    assert sorted(rotation) == list(range(1, cycles + 1))
    for model, buddy_ids in rotation.values():
        assert sorted([model, *buddy_ids]) == members


@pytest.mark.parametrize(("size", "cycles"), POSSIBLE)
def test_nobody_teaches_twice_before_everyone_has_taught(size: int, cycles: int) -> None:
    counts = Counter(model for model, _ in plan_rotation(team(size), cycles).values())
    assert max(counts.values()) - min(counts.values()) <= 1


def test_members_teach_in_the_order_given() -> None:
    rotation = plan_rotation([7, 3, 5], 4)
    assert [rotation[n][0] for n in (1, 2, 3, 4)] == [7, 3, 5, 7]
    assert rotation[2] == (3, [7, 5])


def test_the_same_team_and_cycles_give_the_same_plan() -> None:
    assert plan_rotation([4, 9, 2, 6], 6) == plan_rotation([4, 9, 2, 6], 6)


@pytest.mark.parametrize(("size", "cycles"), TOO_FEW_CYCLES)
def test_fewer_cycles_than_members_is_impossible_and_says_why(size: int, cycles: int) -> None:
    with pytest.raises(RotationImpossible) as refused:
        plan_rotation(team(size), cycles)
    assert refused.value.code == "too_few_cycles"
    assert refused.value.params == {"cycles": cycles, "team_size": size}
    assert f"{cycles} cycles are too few for a team of {size}" in str(refused.value)


@pytest.mark.parametrize("size", [0, 1])
def test_a_team_of_fewer_than_two_is_impossible_and_says_why(size: int) -> None:
    with pytest.raises(RotationImpossible) as refused:
        plan_rotation(team(size), 3)
    assert (refused.value.code, refused.value.params) == ("team_too_small", {"team_size": size, "need": 2})
    assert "needs at least one Buddy" in refused.value.reason


def test_a_member_listed_twice_is_refused() -> None:
    with pytest.raises(RotationImpossible) as refused:
        plan_rotation([1, 2, 2], 3)
    assert (refused.value.code, refused.value.params) == ("member_listed_twice", {"member_ids": [2]})


def test_gaps_name_a_cycle_without_a_model() -> None:
    plan = {1: (1, [2]), 2: (2, [1]), 3: (None, [1, 2])}
    assert rotation_gaps([1, 2], 3, plan) == [Gap("cycle_without_model", {"cycle": 3})]


def test_gaps_name_a_cycle_that_is_not_planned() -> None:
    plan = {1: (1, [2]), 2: (2, [1])}
    assert rotation_gaps([1, 2], 3, plan) == [
        Gap("cycle_without_model", {"cycle": 3}),
        Gap("cycle_without_buddy", {"cycle": 3}),
    ]


def test_gaps_name_members_who_never_teach_or_never_observe() -> None:
    plan = {n: (1, [2]) for n in (1, 2, 3)}
    assert rotation_gaps([1, 2, 3], 3, plan) == [
        Gap("never_model", {"member_id": 2}),
        Gap("never_model", {"member_id": 3}),
        Gap("never_buddy", {"member_id": 1}),
        Gap("never_buddy", {"member_id": 3}),
    ]


def test_a_sound_hand_made_plan_has_no_gaps() -> None:
    plan = {1: (2, [1]), 2: (1, [2]), 3: (2, [1])}
    assert rotation_gaps([1, 2], 3, plan) == []
