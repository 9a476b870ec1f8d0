"""Progress toward a certificate: per teacher the cycles completed, roles played and hours by element, with every
reason they are not yet eligible (rule in models/eligibility.py); for trainers the whole program at a glance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from lti_tool.lti import nrps as roster
from lti_tool.services import read_log
from lti_tool.services.actor import Actor
from lti_tool.services.programs import course_program
from lti_tool.web import messages
from lti_tool.web.access import course_scope, team_view
from lti_tool.web.i18n import format_date_local
from lti_tool.web.session import database, require_session, service_client, session_url
from models.catalog import elements
from models.eligibility import Eligibility, Reason, eligibility, program_facts
from models.facts import program_eligibility, team_facts
from models.people import course_members, members_by_id
from models.plan import PlcRole
from models.read_log import ReadKind
from models.roles import AppRole
from models.sessions import AppSession
from models.teams import Team

bp = Blueprint("progress", __name__, url_prefix="/program/progress")


def explain(reason: Reason) -> str:
    params = {k: _param(v) for k, v in reason.params.items()}
    message = messages.ELIGIBILITY_REASONS.get(reason.code)
    return str(message) % params if message is not None else reason.code


def _param(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, date):
        return format_date_local(value)  # in the Buddhist Era in Thai
    return str(messages.ROLE_NAMES.get(str(value), value))


def _member_page(db: Session, app_session: AppSession, team: Team, member_id: int, back: bool) -> str:
    own = member_id == app_session.membership_id  # read with the session, with its person
    member = app_session.membership if own else members_by_id(db, app_session.context_id, [member_id]).get(member_id)
    progress: Eligibility = eligibility(member_id, program_facts(team.program), team_facts(db, team))
    return render_template(
        "progress.html",
        program=team.program,
        team=team,
        member=member,
        progress=progress,
        reasons=[explain(r) for r in progress.reasons],
        elements=elements(),
        back=back,
        session_url=session_url,
    )


def _own_progress(db: Session, app_session: AppSession) -> str:
    """A teacher's own progress, in their team of the course's current program."""
    view = team_view(db, app_session)
    return _member_page(db, app_session, view.team, app_session.membership_id, back=False)


@bp.get("")
def show() -> str:
    with database().transaction() as db:
        app_session = require_session(db)
        context_id, role = app_session.context_id, AppRole(app_session.membership.app_role)
        if role is AppRole.TEACHER:  # their own progress, in the same read
            return _own_progress(db, app_session)
    if role.sees_course_roster:  # who has left the course, as the LMS lists it now (read at most every few minutes)
        roster.refresh(database(), service_client(), context_id)
    with database().transaction() as db:
        app_session = require_session(db)
        if AppRole(app_session.membership.app_role) is AppRole.TEACHER:  # the same session, its role changed meanwhile
            return _own_progress(db, app_session)
        program = course_program(db, course_scope(app_session))
        if program is None:
            abort(404, description=_("The course has no PLC program yet."))
        member_id = request.args.get("member", type=int)
        if member_id is not None:
            team = next((t for t in program.teams if member_id in t.member_ids), None)
            if team is None:
                abort(404, description=_("This person is not in a team of the program."))
            read_log.log_read(db, Actor(app_session), member_id, ReadKind.PROGRESS, member_id)
            return _member_page(db, app_session, team, member_id, back=True)
        members = {m.id: m for m in course_members(db, app_session.context_id)}
        everyone = program_eligibility(db, program)
        return render_template(
            "progress_program.html",
            program=program,
            teams=program.teams,
            members=members,
            everyone=everyone,
            explain=explain,
            PlcRole=PlcRole,
            eligible_count=sum(1 for e in everyone.values() if e.eligible),
            # Teachers who left the course before the program's last day are counted neither way (models/eligibility).
            left_count=sum(1 for e in everyone.values() if e.left_on is not None),
            session_url=session_url,
        )
