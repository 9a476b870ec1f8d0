"""Who may do what on a page: the roles a page or form admits, and which PLC team a page shows (a teacher sees their
own team; the course's trainers and its (supporting) administrators choose any team of the program with `?team=`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from flask import abort, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.errors import NotFoundInCourse
from models.program_history import current_program
from models.programs import Program
from models.roles import AppRole
from models.scope import CourseScope, get_in_course
from models.sessions import AppSession
from models.teams import Team, may_read_team, may_record_for_team, team_of


@dataclass(frozen=True)
class TeamView:
    team: Team
    teams: list[Team]  # the teams the viewer may switch between (one for a teacher)
    may_write: bool  # record sessions, forms and the cycle's target (members, facilitator, trainers)
    is_member: bool  # the viewer is one of the team's members (a teacher's own pages)


def course_scope(app_session: AppSession) -> CourseScope:
    return CourseScope(app_session.context.platform_id, app_session.context_id)


def require_role(app_session: AppSession, roles: Collection[AppRole], message: str) -> None:
    """Refuse (403, with `message`) a person whose role in the course is not one of `roles`, before any change."""
    if AppRole(app_session.membership.app_role) not in roles:
        abort(403, description=message)


def team_view(db: Session, app_session: AppSession) -> TeamView:
    """The team this request is about, or a 403/404 page; never a team of another course."""
    scope, viewer = course_scope(app_session), app_session.membership
    if viewer.app_role == AppRole.TEACHER:
        team = team_of(db, scope, viewer.id)  # with its program, the current one: one statement
        if team is None:
            abort(403, description=_("You are not in a PLC team yet. Your trainer forms the teams."))
        # Found by the teacher's own membership in it, in this course: a member, who records for their team. The
        # team's members are not read for it (most teacher pages name none of them).
        return TeamView(team, [team], may_write=True, is_member=True)
    current = current_program(db, scope)
    teams = current_teams(db, current)
    wanted = request.args.get("team", type=int)
    if wanted is None:
        if not teams:  # never a cancelled or an earlier program's team in its place
            abort(404, description=_("The current program has no teams yet."))
        team = teams[0]
    else:  # a team of an earlier program stays readable by its address
        try:
            team = get_in_course(db, scope, Team, wanted)
        except NotFoundInCourse:
            abort(404, description=_("There is no such team in this course."))
    if not may_read_team(viewer, team):
        abort(403, description=_("You may not see this team."))
    program_teams = teams if current is not None and team.program_id == current.id else team.program.teams
    is_member = viewer.id in team.member_ids
    return TeamView(team, list(program_teams), may_record_for_team(viewer, team), is_member)


def current_teams(db: Session, current: Program | None) -> list[Team]:
    """The teams of the course's current program (its newest not cancelled), by name; none without one."""
    if current is None:
        return []
    return list(db.scalars(select(Team).where(Team.program_id == current.id).order_by(Team.name)))
