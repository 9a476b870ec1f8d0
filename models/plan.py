"""A program's plan: each member's role (Model Teacher or Buddy) in each cycle of their team, and the rule that
everyone plays both (seed 004 §2.4)."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from models.errors import PlanGap
from models.rotation import rotation_gaps

if TYPE_CHECKING:
    from models.programs import Program
    from models.teams import Team


class PlcRole(enum.StrEnum):
    MODEL = "model"  # ครูผู้สอน (Model Teacher): teaches the lesson the team designed
    BUDDY = "buddy"  # ครูร่วมการเรียนรู้ (Buddy Teacher): observes it and records what students did


def team_plan(team: Team) -> dict[int, tuple[int | None, list[int]]]:
    """The plan as the rotation planner writes it: cycle → (Model, Buddies); cycles without roles are absent."""
    plan: dict[int, tuple[int | None, list[int]]] = {}
    for assignment in team.assignments:
        model, buddies = plan.get(assignment.cycle_number, (None, []))
        if assignment.role is PlcRole.MODEL:
            model = assignment.membership_id
        else:
            buddies = [*buddies, assignment.membership_id]
        plan[assignment.cycle_number] = (model, buddies)
    return plan


def role_in_cycle(team: Team, cycle_number: int, membership_id: int) -> PlcRole | None:
    for assignment in team.assignments:
        if assignment.cycle_number == cycle_number and assignment.membership_id == membership_id:
            return assignment.role
    return None


def plan_gaps(program: Program) -> list[PlanGap]:
    """What keeps the plan from the both-roles rule (seed 004 §2.4); empty when the program can start."""
    if not program.teams:
        return [PlanGap(None, "no_teams", {})]
    gaps: list[PlanGap] = []
    for team in program.teams:
        if len(team.members) < 2:
            gaps.append(PlanGap(team.id, "team_too_small", {"team_size": len(team.members), "need": 2}))
        gaps.extend(
            PlanGap(team.id, gap.code, gap.params)
            for gap in rotation_gaps(team.member_ids, program.planned_cycles, team_plan(team))
        )
    return gaps
