"""The course's PLC program: a trainer sets it up and moves it through the Council's states; teachers read it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

import models.teams
from lti_tool.documents import pdf as documents
from lti_tool.lti import nrps as roster
from lti_tool.web import messages
from lti_tool.web.csv_export import csv_response
from lti_tool.web.session import (
    csrf_token,
    database,
    require_form_token,
    require_session,
    service_client,
    session_url,
    settings,
)
from models.base import utcnow
from models.calendar import last_day_for_certificates, program_day
from models.errors import NotFoundInCourse, ProgramError
from models.people import course_members
from models.plan import role_in_cycle, team_plan
from models.programs import (
    MIN_CYCLES,
    Program,
    ProgramDetails,
    approve,
    cancel,
    edit_program,
    end,
    new_program,
    request_certificates,
    start,
    submit,
)
from models.roles import AppRole
from models.rotation import RotationImpossible, plan_rotation
from models.scope import CourseScope, get_in_course, scoped
from models.sessions import AppSession
from models.states import PLAN_EDITABLE
from models.teams import Team, add_team_member, apply_rotation

bp = Blueprint("program", __name__, url_prefix="/program")

EDIT, STATE = "program-edit", "program-state"
FIELDS = ("name", "agency", "school_or_network", "planned_cycles", "min_hours", "learning_area", "grade_level")

ACTIONS = {
    "submit": (submit, _l("Submit to the Council")),
    "approve": (approve, _l("Record the Council's approval")),
    "start": (start, _l("Start the program")),
    "end": (end, _l("End the program")),
    "request_certificates": (request_certificates, _l("Request certificates")),
    "cancel": (cancel, _l("Cancel the program")),
}
NEXT_ACTIONS = {
    "draft": ["submit", "cancel"],
    "submitted": ["approve", "cancel"],
    "approved": ["start", "cancel"],
    "running": ["end", "cancel"],
    "ended": ["request_certificates"],
}


def _scope(app_session: AppSession) -> CourseScope:
    return CourseScope(app_session.context.platform_id, app_session.context_id)


def _trainer_posting(db: Session, form: str) -> AppSession:
    """The session of a trainer posting `form` with its token; 401, 403 or 400 otherwise, before any change."""
    app_session = require_session(db)
    if app_session.membership.app_role != AppRole.TRAINER:
        abort(403, description=_("Only the course's trainers may change the PLC program."))
    require_form_token(app_session, form)
    return app_session


def _course_program(db: Session, scope: CourseScope) -> Program | None:
    return db.scalars(scoped(Program, scope).order_by(Program.id.desc())).first()


def _parse_details(form: Any) -> tuple[ProgramDetails | None, dict[str, str]]:
    errors: dict[str, str] = {}
    try:
        cycles = int(form.get("planned_cycles", "").strip() or MIN_CYCLES)
    except ValueError:
        errors["planned_cycles"], cycles = str(messages.PROGRAM_PROBLEMS["not_a_number"]), MIN_CYCLES
    try:
        hours = Decimal(form.get("min_hours", "").strip() or "0")
    except InvalidOperation:
        errors["min_hours"], hours = str(messages.PROGRAM_PROBLEMS["not_a_number"]), Decimal(0)
    details = ProgramDetails(
        name=form.get("name", "").strip()[:255],
        agency=form.get("agency", "").strip()[:255],
        school_or_network=form.get("school_or_network", "").strip()[:255],
        planned_cycles=cycles,
        min_hours=hours,
        learning_area=form.get("learning_area", "").strip()[:255],
        grade_level=form.get("grade_level", "").strip()[:64],
    )
    for problem in details.problems():
        errors.setdefault(problem.field, str(messages.PROGRAM_PROBLEMS.get(problem.code, problem.code)) % problem.params)
    return (None if errors else details), errors


def _page(
    db: Session, app_session: AppSession, errors: dict[str, str] | None = None, refusal: str = "", status: int = 200
) -> tuple[str, int]:
    program = _course_program(db, _scope(app_session))
    role = AppRole(app_session.membership.app_role)
    values = {f: str(getattr(program, f)) for f in FIELDS} if program else {"planned_cycles": "3", "min_hours": "0"}
    if errors is not None:
        values = {f: request.form.get(f, "") for f in FIELDS}
    page = render_template(
        "program.html",
        program=program,
        role=role,
        AppRole=AppRole,
        values=values,
        errors=errors or {},
        refusal=refusal,
        state_names=messages.STATE_NAMES,
        actions=[(name, ACTIONS[name][1]) for name in NEXT_ACTIONS.get(program.state, [])] if program else [],
        editable=program is None or program.state in PLAN_EDITABLE,
        csrf_edit=csrf_token(app_session, EDIT),
        csrf_state=csrf_token(app_session, STATE),
        today=program_day(utcnow()).isoformat(),
        session_url=session_url,
        **_certificate_window(program),
    )
    return page, status


def _certificate_window(program: Program | None) -> dict[str, Any]:
    """The day the results report and certificates are due at the Council (30 days after the end), and how many
    days are left (negative once it has passed)."""
    if program is None or program.ended_on is None:
        return {"certificates_due": None, "days_left": None}
    due = last_day_for_certificates(program.ended_on)
    return {"certificates_due": due, "days_left": (due - program_day(utcnow())).days}


@bp.get("")
def show() -> tuple[str, int]:
    with database().transaction() as db:
        return _page(db, require_session(db))


@bp.post("")
def save() -> Response | tuple[str, int]:
    try:
        with database().transaction() as db:
            app_session = _trainer_posting(db, EDIT)
            details, errors = _parse_details(request.form)
            if details is None:
                return _page(db, app_session, errors=errors, status=422)
            program = _course_program(db, _scope(app_session))
            if program is None:
                new_program(db, _scope(app_session), details)
            else:
                edit_program(program, details)
    except ProgramError as refused:
        return _refused_page(refused)
    return redirect(session_url("program.show"), code=303)


def _refused_page(refused: ProgramError) -> tuple[str, int]:
    """The rule refused the change and the transaction rolled back; show the page again with the reason."""
    with database().transaction() as db:
        return _page(db, require_session(db), refusal=messages.refusal(refused), status=409)


@bp.post("/state")
def change_state() -> Response | tuple[str, int]:
    try:
        return _change_state()
    except ProgramError as refused:
        return _refused_page(refused)


def _change_state() -> Response | tuple[str, int]:
    with database().transaction() as db:
        app_session = _trainer_posting(db, STATE)
        program = _course_program(db, _scope(app_session))
        action = request.form.get("action", "")
        if program is None or action not in ACTIONS:
            abort(404, description=_("There is no such step for this course's program."))
        today = program_day(utcnow())
        if action == "approve":
            try:
                approved_on = date.fromisoformat(request.form.get("approved_on", ""))
            except ValueError:
                return _page(db, app_session, errors={"approved_on": str(messages.PROGRAM_PROBLEMS["not_a_date"])}, status=422)
            approve(program, approved_on)
        elif action in ("submit", "cancel"):
            ACTIONS[action][0](program)
        else:
            ACTIONS[action][0](program, today)
    return redirect(session_url("program.show"), code=303)


# --- Teams and the plan of roles ----------------------------------------------------------------------

TEAMS = "program-teams"


def _teams_page(
    db: Session, app_session: AppSession, errors: dict[str, str] | None = None, notice: str = "", status: int = 200
) -> tuple[str, int]:
    program = _course_program(db, _scope(app_session))
    members = {m.id: m for m in course_members(db, app_session.context_id)}
    in_team = {mid for team in (program.teams if program else []) for mid in team.member_ids}
    context = app_session.context
    plans = {team.id: team_plan(team) for team in (program.teams if program else [])}
    page = render_template(
        "program_teams.html",
        program=program,
        role=AppRole(app_session.membership.app_role),
        AppRole=AppRole,
        members=members,
        free_teachers=[m for m in members.values() if m.app_role == AppRole.TEACHER and m.id not in in_team],
        plans=plans,
        editable=program is not None and program.state in PLAN_EDITABLE,
        errors=errors or {},
        notice=notice,
        csrf=csrf_token(app_session, TEAMS),
        from_roster=bool(context.nrps_memberships_url),
        roster_synced_at=context.roster_synced_at,
        roster_error=context.roster_error if context.roster_error_at else None,
        session_url=session_url,
    )
    return page, status


@bp.get("/teams")
def teams() -> tuple[str, int]:
    with database().transaction() as db:
        app_session = require_session(db)
        context_id, role = app_session.context_id, AppRole(app_session.membership.app_role)
    if role.sees_course_roster:  # the course's roster from the LMS (LTI NRPS), when read more than a while ago
        roster.refresh(database(), service_client(), context_id)
    with database().transaction() as db:
        return _teams_page(db, require_session(db))


@bp.post("/teams/roster")
def refresh_roster() -> Response:
    """Read the course roster from the LMS now; a failure leaves the previous roster and shows why."""
    with database().transaction() as db:
        context_id = _trainer_posting(db, TEAMS).context_id
    roster.refresh(database(), service_client(), context_id, force=True)
    return redirect(session_url("program.teams"), code=303)


@bp.post("/teams")
def add_team() -> Response | tuple[str, int]:
    """A new team of the chosen teachers, with roles planned by the rotation planner when it can."""
    notice = ""
    try:
        with database().transaction() as db:
            app_session = _trainer_posting(db, TEAMS)
            program = _course_program(db, _scope(app_session))
            if program is None:
                abort(404, description=_("This course has no PLC program yet."))
            name = request.form.get("name", "").strip()[:255]
            try:
                chosen = [int(value) for value in request.form.getlist("member")]
            except ValueError:
                abort(400, description=_("Someone you chose is not a member of this course."))
            if not name:
                return _teams_page(db, app_session, errors={"name": str(messages.PROGRAM_PROBLEMS["required"])}, status=422)
            team = models.teams.add_team(db, program, name)
            for membership_id in chosen:
                add_team_member(db, team, membership_id)
            try:
                apply_rotation(team, plan_rotation(team.member_ids, program.planned_cycles))
            except RotationImpossible as impossible:
                notice = str(messages.ROTATION.get(impossible.code, impossible.reason)) % impossible.params
    except ProgramError as refused:
        return _refused_teams_page(refused)
    if notice:
        with database().transaction() as db:
            return _teams_page(db, require_session(db), notice=notice)
    return redirect(session_url("program.teams"), code=303)


@bp.post("/teams/<int:team_id>/remove")
def remove_team(team_id: int) -> Response | tuple[str, int]:
    try:
        with database().transaction() as db:
            app_session = _trainer_posting(db, TEAMS)
            team = get_in_course(db, _scope(app_session), Team, team_id)
            models.teams.remove_team(db, team)
    except NotFoundInCourse:
        abort(404, description=_("There is no such team in this course."))
    except ProgramError as refused:
        return _refused_teams_page(refused)
    return redirect(session_url("program.teams"), code=303)


def _refused_teams_page(refused: ProgramError) -> tuple[str, int]:
    with database().transaction() as db:
        return _teams_page(db, require_session(db), notice=messages.refusal(refused), status=409)


# --- The application package for the Council, and the plan as a spreadsheet ------------------------------------


def _package(db: Session) -> tuple[Program, list[dict[str, Any]], int]:
    """The course's program and its plan by team (name, facilitator, rows of name and role per cycle), for the
    course's trainers and administrators; the plan can be read and exported even while it is frozen."""
    app_session = require_session(db)
    if app_session.membership.app_role not in (AppRole.TRAINER, AppRole.ADMIN):
        abort(403, description=_("Only the course's trainers and administrators download the program's plan."))
    program = _course_program(db, _scope(app_session))
    if program is None:
        abort(404, description=_("This course has no PLC program yet."))
    names = {m.id: m.person.name or m.person.sub for m in course_members(db, app_session.context_id)}
    teams = []
    for team in program.teams:
        rows = [
            (names.get(member_id, str(member_id)), [
                (role.value if (role := role_in_cycle(team, n, member_id)) else "")
                for n in range(1, program.planned_cycles + 1)
            ])
            for member_id in team.member_ids
        ]  # fmt: skip
        facilitator = names.get(team.facilitator_id, "") if team.facilitator_id else ""
        teams.append({"name": team.name, "facilitator": facilitator, "rows": rows})
    return program, teams, sum(len(t["rows"]) for t in teams)


@bp.get("/application.pdf")
def application_pdf() -> Response:
    with database().transaction() as db:
        program, teams, participants = _package(db)
        lang = "th" if str(get_locale()) == "th" else "en"
        pdf = documents.render_pdf(
            settings(),
            "application.html",
            program=program,
            teams=teams,
            participants=participants,
            lang=lang,
            printed_on=program_day(utcnow()),
        )
        filename = f"{program.name} - {'แบบเสนอโครงการ' if lang == 'th' else 'application'}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


@bp.get("/plan.csv")
def plan_csv() -> Response:
    with database().transaction() as db:
        program, teams, _participants = _package(db)
        cycles = range(1, program.planned_cycles + 1)
        role_names = {"model": _("Model Teacher"), "buddy": _("Buddy Teacher"), "": ""}
        header = [_("Team"), _("Name"), *[_("Cycle %(number)s", number=n) for n in cycles]]
        rows = [[team["name"], name, *[role_names[r] for r in roles]] for team in teams for name, roles in team["rows"]]
        return csv_response(f"{program.name} - plan.csv", header, rows)
