"""Use cases of a program's PLC teams: a trainer forms a team of the course's teachers, with the roles of every cycle
planned by the rotation planner, or takes a team off the plan again. Both are plan changes, refused once it runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lti_tool.services.actor import Actor
from lti_tool.services.programs import require_program_editor
from models import programs, teams
from models.programs import Program
from models.rotation import RotationImpossible, plan_rotation
from models.teams import Team


@dataclass(frozen=True)
class FormedTeam:
    team: Team
    # Why no rotation gives every member both roles; the team is kept, with no roles planned yet.
    unplanned: RotationImpossible | None = None


def form_team(db: Session, actor: Actor, program: Program, name: str, member_ids: Sequence[int]) -> FormedTeam:
    """A new team of the chosen teachers, with everyone's role per cycle planned by the rotation planner when it can."""
    require_program_editor(actor)
    programs.lock(program)
    team = teams.add_team(db, program, name)
    for membership_id in member_ids:
        teams.add_team_member(db, team, membership_id)
    try:
        teams.apply_rotation(team, plan_rotation(team.member_ids, program.planned_cycles))
    except RotationImpossible as impossible:
        return FormedTeam(team, impossible)
    return FormedTeam(team)


def remove_team(db: Session, actor: Actor, team: Team) -> None:
    """Take a team and its planned roles off the program's plan."""
    require_program_editor(actor)
    programs.lock(team.program)
    teams.remove_team(db, team)
