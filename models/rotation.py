"""The rotation planner: who is the Model Teacher and who are the Buddies in each cycle of a team's plan.

The Council's rule (seed 004 §2.4) is that every participant plays both roles over the program. Our reading:
each cycle has exactly one Model Teacher, who teaches the lesson the team designed, and every other member
of the team is a Buddy who observes it. Pure functions; nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

# cycle number → (the Model Teacher's membership id, the Buddies' membership ids)
Rotation = dict[int, tuple[int, list[int]]]


class RotationImpossible(Exception):
    """No plan can give every member both roles; `code` and `params` let the edge say why in Thai."""

    def __init__(self, code: str, params: dict[str, Any], reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.params = params
        self.reason = reason


class Gap(NamedTuple):
    """One way a plan breaks the both-roles rule: ("never_model", {"member_id": 7})."""

    code: str
    params: dict[str, Any]


def plan_rotation(member_ids: Sequence[int], cycles: int) -> Rotation:
    """Propose a plan in which every member is the Model Teacher at least once and a Buddy at least once.

    The rule: one Model per cycle and everyone else a Buddy, so a plan exists exactly when the team has at
    least 2 members (one to teach, one to observe) and the program has at least as many cycles as the team has
    members (each member needs a cycle of their own to teach). Members take the Model role in the order given,
    round-robin, so the output depends only on the input and nobody teaches twice before everyone has taught
    once.
    """
    members = list(member_ids)
    if len(set(members)) != len(members):
        repeated = sorted({m for m in members if members.count(m) > 1})
        raise RotationImpossible(
            "member_listed_twice", {"member_ids": repeated}, f"members {repeated} are listed more than once"
        )
    if len(members) < 2:
        raise RotationImpossible(
            "team_too_small",
            {"team_size": len(members), "need": 2},
            f"a team of {len(members)} cannot play both roles: a Model Teacher needs at least one Buddy to observe",
        )
    if cycles < len(members):
        raise RotationImpossible(
            "too_few_cycles",
            {"cycles": cycles, "team_size": len(members)},
            f"{cycles} cycles are too few for a team of {len(members)}: each member must be the Model Teacher "
            f"in a cycle of their own, so the program needs at least {len(members)} cycles or the team fewer members",
        )
    rotation: Rotation = {}
    for number in range(1, cycles + 1):
        model = members[(number - 1) % len(members)]
        rotation[number] = (model, [m for m in members if m != model])
    return rotation


def rotation_gaps(
    member_ids: Sequence[int], cycles: int, plan: Mapping[int, tuple[int | None, Sequence[int]]]
) -> list[Gap]:
    """What keeps a plan (possibly hand-edited) from the both-roles rule; empty when it is sound."""
    gaps: list[Gap] = []
    modelled: set[int] = set()
    buddied: set[int] = set()
    for number in range(1, cycles + 1):
        model, buddies = plan.get(number, (None, []))
        if model is None:
            gaps.append(Gap("cycle_without_model", {"cycle": number}))
        else:
            modelled.add(model)
        if not buddies:
            gaps.append(Gap("cycle_without_buddy", {"cycle": number}))
        buddied.update(buddies)
    gaps.extend(Gap("never_model", {"member_id": m}) for m in member_ids if m not in modelled)
    gaps.extend(Gap("never_buddy", {"member_id": m}) for m in member_ids if m not in buddied)
    return gaps
