"""The course's PLC program: a trainer sets it up and moves it through the Council's states; teachers read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar
from urllib.parse import quote

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.documents import pdf as documents
from lti_tool.lti import nrps as roster
from lti_tool.services import programs
from lti_tool.services import teams as team_services  # `teams` is this module's page of teams
from lti_tool.services.actor import Actor
from lti_tool.services.programs import PLAN_READERS, PROGRAM_EDITORS, course_program, plan_by_team
from lti_tool.web import messages
from lti_tool.web.access import course_scope, require_role
from lti_tool.web.csv_export import csv_response
from lti_tool.web.forms.base import PlcForm
from lti_tool.web.forms.program import ProgramForm, ProgramStepForm, TeamForm
from lti_tool.web.i18n import format_date_local as be_date
from lti_tool.web.session import csrf_token, database, require_session, service_client, session_url, settings
from lti_tool.web.views.program_steps import CONFIRM_LABELS, CONFIRMED
from models import agencies, cancellations, plan_versions
from models import programs as programs_rules
from models.base import utcnow
from models.calendar import program_day
from models.cycles import off_the_lists
from models.eligibility import current_cycle, eligibility, program_facts
from models.errors import InvalidInput, NotFoundInCourse, ProgramError
from models.facts import program_eligibility, team_facts
from models.people import course_members
from models.plan import team_plan
from models.plan_versions import PlanDiff, PlanVersion, plan_diff
from models.programs import Program
from models.roles import AppRole
from models.scope import get_in_course
from models.sessions import AppSession
from models.states import APPROVAL_CORRECTABLE, PLAN_EDITABLE, ProgramState
from models.teams import Team
from models.windows import certificate_window, program_year

bp = Blueprint("program", __name__, url_prefix="/program")

EDIT, STATE, NEXT = "program-edit", "program-state", "program-next"
FIELDS = ("name", "agency", "school_or_network", "planned_cycles", "min_hours", "learning_area", "grade_level")

ACTIONS = {
    "submit": _l("Submit to the Council"),
    "approve": _l("Record the Council's approval"),
    "start": _l("Start the program"),
    "end": _l("End the program"),
    "request_certificates": _l("Request certificates"),
    "cancel": _l("Cancel the program"),
}
NEXT_ACTIONS = {
    "draft": ["submit", "cancel"],
    "submitted": ["approve", "withdraw", "cancel"],
    "approved": ["start", "cancel"],
    "running": ["end", "cancel"],
    "ended": ["request_certificates", "reopen"],
}

F = TypeVar("F", bound=PlcForm)


def _trainer_form(db: Session, form: type[F], purpose: str) -> tuple[AppSession, F]:
    """The session of a trainer posting `form` with its token, and the form; 401, 403 or 400 before any change."""
    app_session = require_session(db)
    require_role(app_session, PROGRAM_EDITORS, _("Only the course's trainers may change the PLC program."))
    return app_session, form.posted(app_session, purpose)


def _page(
    db: Session,
    app_session: AppSession,
    errors: dict[str, str] | None = None,
    refusal: str = "",
    status: int = 200,
    shown: Program | None = None,
) -> tuple[str, int]:
    """The course's current program (or `shown`, an earlier one, read-only), its steps and its history."""
    scope = course_scope(app_session)
    current = course_program(db, scope)
    program = shown or current
    readonly = shown is not None and shown is not current
    role = AppRole(app_session.membership.app_role)
    actor = Actor(app_session)
    today = program_day(utcnow())
    next_offer = role == AppRole.TRAINER and not readonly and programs.may_set_up_next_program(db, scope, today=today)
    values = {f: str(getattr(program, f)) for f in FIELDS} if program else {"planned_cycles": "3", "min_hours": "0"}
    if next_offer:  # the next year's program starts from the current one's details, under a name of its own
        values["name"] = ""
    if errors is not None:
        values = {f: request.form.get(f, "") for f in FIELDS}
    earlier = [p for p in programs.earlier_programs(db, scope) if p is not program]
    page = render_template(
        "program.html",
        program=program,
        role=role,
        AppRole=AppRole,
        values=values,
        errors=errors or {},
        refusal=refusal,
        saved=None if errors or refusal else messages.saved(request.args.get("saved", ""), session_url("program.show")),
        state_names=messages.STATE_NAMES,
        actions=[]
        if readonly or program is None
        else [(name, ACTIONS.get(name) or CONFIRM_LABELS[name]) for name in NEXT_ACTIONS.get(program.state, [])],
        confirmed=CONFIRMED,
        correctable=not readonly and program is not None and program.state in APPROVAL_CORRECTABLE,
        editable=not readonly and (program is None or program.state in PLAN_EDITABLE),
        readonly=readonly,
        next_cycle=_next_cycle(db, app_session, program) if program and not readonly else None,
        changes=programs.history(db, actor, program) if program else [],
        plan=_plan_versions(db, program, role) if program else None,
        plan_label=version_label(plan_versions.followed_version(db, program)) if program else "",
        detail_labels=DETAIL_LABELS,
        frozen_notice=frozen_notice(program),
        cancellation=_cancellation(db, program),
        cancelled_by_names=messages.CANCELLED_BY_NAMES,
        earlier=earlier,
        off_the_lists=off_the_lists(db, program) if program and role != AppRole.TEACHER and not readonly else [],
        earlier_cancelled=cancellations.cancelled(db, earlier),
        current=current,
        change_names=messages.CHANGE_NAMES,
        day_of=lambda iso: be_date(date.fromisoformat(iso)),
        csrf_edit=csrf_token(app_session, EDIT),
        csrf_state=csrf_token(app_session, STATE),
        csrf_next=csrf_token(app_session, NEXT),
        next_offer=next_offer,
        created_on=programs_rules.created_on(program).isoformat() if program else "",
        today=today.isoformat(),
        session_url=session_url,
        **_certificate_window(program),
    )
    return page, status


DETAIL_LABELS = {
    "name": _l("Program name"),
    "agency": _l("Running agency"),
    "school_or_network": _l("School or network"),
    "planned_cycles": _l("Number of cycles"),
    "min_hours": _l("Minimum hours per teacher"),
    "learning_area": _l("Learning area"),
    "grade_level": _l("Grade level"),
}


def version_label(version: PlanVersion | None) -> str:
    """Which version of the plan a page or document follows: the approved one with the Council's letter, the one
    awaiting the Council with its submission date, or the draft."""
    if version is None:  # never sent, or the last version sent was withdrawn
        return _("Draft: not yet submitted to the Council")
    if version.approved and version.council_letter_date is not None:
        if not version.council_letter_number:  # approved before the letter's number was kept
            return _(
                "Version %(number)s, approved by the Council on %(day)s (letter number not recorded)",
                number=version.number,
                day=be_date(version.council_letter_date),
            )
        return _(
            "Version %(number)s, approved by the Council by letter no. %(letter)s dated %(day)s",
            number=version.number,
            letter=version.council_letter_number,
            day=be_date(version.council_letter_date),
        )
    if version.submitted_on is None:
        return _("Version %(number)s, submitted to the Council (day not recorded)", number=version.number)
    return _("Version %(number)s, submitted on %(day)s", number=version.number, day=be_date(version.submitted_on))


@dataclass(frozen=True)
class PlanVersions:
    """The program's versions as its page shows them: each with what changed from the one before, and while the plan
    is a draft again, what changed since the last version sent."""

    versions: list[tuple[PlanVersion, PlanDiff | None]]
    since_last: PlanDiff | None


def frozen_notice(program: Program | None) -> str:
    """Why the plan cannot be changed now, said where its forms would be."""
    code = "plan_submitted" if program is not None and program.state == ProgramState.SUBMITTED else "plan_frozen"
    return str(messages.REFUSALS[code])


def _plan_versions(db: Session, program: Program, role: AppRole) -> PlanVersions | None:
    """For the course's trainers and administrators (who send the plan): None for anyone else or before a version."""
    if role not in PLAN_READERS:
        return None
    found = plan_versions.versions(db, program)
    if not found:
        return None
    pairs = [(v, plan_diff(found[i - 1].snapshot, v.snapshot) if i else None) for i, v in enumerate(found)]
    since_last = None
    if program.state == ProgramState.DRAFT:
        since_last = plan_diff(found[-1].snapshot, plan_versions.snapshot_now(db, program))
    return PlanVersions(pairs, since_last)


def _next_cycle(db: Session, app_session: AppSession, program: Program) -> int | None:
    """The cycle that is the next piece of work of a running program: the teacher's own current cycle, or for the
    course's staff the earliest cycle that any teacher has not completed."""
    if program.state != ProgramState.RUNNING:
        return None
    if app_session.membership.app_role == AppRole.TEACHER:  # their own team's facts only, not the program's
        member = app_session.membership_id
        team = next((t for t in program.teams if member in t.member_ids), None)
        results = {member: eligibility(member, program_facts(program), team_facts(db, team))} if team else {}
    else:
        results = program_eligibility(db, program)
    waiting = [cycle.number for e in results.values() if (cycle := current_cycle(e)) is not None]
    return min(waiting, default=None)


def _cancellation(db: Session, program: Program | None) -> cancellations.Cancelled | None:
    """Who cancelled the program (the agency or the Council, with its letter), who recorded it, when and why: shown
    to everyone who reads a cancelled program."""
    return cancellations.cancellation_of(db, program)


def _certificate_window(program: Program | None) -> dict[str, Any]:
    """The Council's two windows as the page counts them down: the program's year from the approval, and the 30 days
    after the end within which the results report and certificates are due at the Council (`certificates_due`)."""
    if program is None:
        return {"certificates_due": None, "program_year": None, "certificate_window": None}
    today = program_day(utcnow())
    window = certificate_window(program, today)
    return {
        "certificates_due": window.last_day if window else None,
        "program_year": program_year(program, today),
        "certificate_window": window,
    }


@bp.get("")
def show() -> tuple[str, int]:
    with database().transaction() as db:
        return _page(db, require_session(db))


@bp.get("/<int:program_id>")
def earlier(program_id: int) -> tuple[str, int]:
    """A program of the course, read-only when it is not the current one (a cancelled or an earlier year's)."""
    with database().transaction() as db:
        app_session = require_session(db)
        try:
            program = get_in_course(db, course_scope(app_session), Program, program_id)
        except NotFoundInCourse:
            abort(404, description=_("There is no such program in this course."))
        return _page(db, app_session, shown=program)


@bp.post("")
def save() -> Response | tuple[str, int]:
    try:
        with database().transaction() as db:
            app_session, form = _trainer_form(db, ProgramForm, EDIT)
            if not form.validate():
                return _page(db, app_session, errors=form.problems(), status=422)
            programs.save_program(db, Actor(app_session), form.details())
    except ProgramError as refused:
        return _refused_page(refused)
    return redirect(session_url("program.show", saved="program"), code=303)


@bp.post("/next")
def set_up_next() -> Response | tuple[str, int]:
    """The course's next program (a new year), once the current one is done with the Council."""
    try:
        with database().transaction() as db:
            app_session, form = _trainer_form(db, ProgramForm, NEXT)
            if not form.validate():
                return _page(db, app_session, errors=form.problems(), status=422)
            today = program_day(utcnow())
            programs.set_up_next_program(db, Actor(app_session), form.details(), today=today)
    except ProgramError as refused:
        return _refused_page(refused)
    return redirect(session_url("program.show", saved="next_program"), code=303)


def _refused_page(refused: ProgramError) -> tuple[str, int]:
    """The rule refused the change and the transaction rolled back; show the page again with the reason."""
    with database().transaction() as db:
        return _page(db, require_session(db), refusal=messages.refusal(refused), status=409)


@bp.post("/state")
def change_state() -> Response | tuple[str, int]:
    try:
        with database().transaction() as db:
            app_session, form = _trainer_form(db, ProgramStepForm, STATE)
            program = course_program(db, course_scope(app_session))
            action = form.action.data
            if program is None or action not in ACTIONS:
                abort(404, description=_("There is no such step for this course's program."))
            if action in CONFIRMED:  # harmless: a weighty step is taken only by its confirmation page's own POST
                return redirect(session_url("program_steps.confirm_step", step=action), code=303)
            form.validate()
            if action == "submit" and form.submitted_on.errors:
                return _page(db, app_session, errors=form.problems(), status=422)
            _take_step(db, Actor(app_session), program, action, form)
    except InvalidInput as invalid:  # the submission's date, refused beside its field; nothing changed
        with database().transaction() as db:
            errors = messages.field_problems(invalid.problems, messages.PROGRAM_PROBLEMS)
            return _page(db, require_session(db), errors=errors, status=422)
    except ProgramError as refused:
        return _refused_page(refused)
    return redirect(session_url("program.show"), code=303)


def _take_step(db: Session, actor: Actor, program: Program, action: str, form: ProgramStepForm) -> None:
    today = program_day(utcnow())
    match action:
        case "submit":
            programs.submit_program(db, actor, program, form.submitted_on.data, today=today)
        case "start":
            programs.start_program(actor, program, today=today)
        case "request_certificates":
            programs.request_certificates(actor, program, today=today)


# --- Teams and the plan of roles ----------------------------------------------------------------------

TEAMS = "program-teams"


def _teams_page(
    db: Session, app_session: AppSession, errors: dict[str, str] | None = None, notice: str = "", status: int = 200
) -> tuple[str, int]:
    program = course_program(db, course_scope(app_session))
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
        # Those who left the course last, shown but not offered (models/teams.add_team_member refuses them).
        free_teachers=sorted(
            (m for m in members.values() if m.app_role == AppRole.TEACHER and m.id not in in_team),
            key=lambda m: not m.is_active,
        ),
        plans=plans,
        editable=program is not None and program.state in PLAN_EDITABLE,
        plan_label=version_label(plan_versions.followed_version(db, program)) if program else "",
        frozen_notice=frozen_notice(program),
        errors=errors or {},
        notice=notice,
        saved=None if errors or notice else _team_saved(program),
        csrf=csrf_token(app_session, TEAMS),
        from_roster=bool(context.nrps_memberships_url),
        roster_synced_at=context.roster_synced_at,
        roster_error=context.roster_error if context.roster_error_at else None,
        session_url=session_url,
    )
    return page, status


def _team_saved(program: Program | None) -> messages.Saved | None:
    """The notice of a team formed (`?saved=team&formed=<id>`) or removed, with a link to it."""
    code, link = request.args.get("saved", ""), session_url("program.teams")
    if code == "team":
        formed = (
            next((t for t in program.teams if t.id == request.args.get("formed", type=int)), None) if program else None
        )
        return messages.saved(code, f"{link}#team-{formed.id}", name=formed.name) if formed else None
    return messages.saved(code, link) if code == "team_removed" else None


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
        context_id = _trainer_form(db, PlcForm, TEAMS)[0].context_id
    roster.refresh(database(), service_client(), context_id, force=True)
    return redirect(session_url("program.teams"), code=303)


@bp.post("/teams")
def add_team() -> Response | tuple[str, int]:
    """A new team of the chosen teachers, with roles planned by the rotation planner when it can."""
    notice = ""
    try:
        with database().transaction() as db:
            app_session, form = _trainer_form(db, TeamForm, TEAMS)
            program = course_program(db, course_scope(app_session))
            if program is None:
                abort(404, description=_("This course has no PLC program yet."))
            if not form.validate():
                if form.member.errors:
                    abort(400, description=str(form.member.errors[0]))
                return _teams_page(db, app_session, errors=form.problems(), status=422)
            formed = team_services.form_team(db, Actor(app_session), program, form.name.data, form.member.data)
            if (impossible := formed.unplanned) is not None:
                notice = str(messages.ROTATION.get(impossible.code, impossible.reason)) % impossible.params
            formed_id = formed.team.id
    except ProgramError as refused:
        return _refused_teams_page(refused)
    if notice:
        with database().transaction() as db:
            return _teams_page(db, require_session(db), notice=notice)
    return redirect(session_url("program.teams", saved="team", formed=formed_id), code=303)


@bp.post("/teams/<int:team_id>/remove")
def remove_team(team_id: int) -> Response | tuple[str, int]:
    try:
        with database().transaction() as db:
            app_session, _form = _trainer_form(db, PlcForm, TEAMS)
            team = get_in_course(db, course_scope(app_session), Team, team_id)
            team_services.remove_team(db, Actor(app_session), team)
    except NotFoundInCourse:
        abort(404, description=_("There is no such team in this course."))
    except ProgramError as refused:
        return _refused_teams_page(refused)
    return redirect(session_url("program.teams", saved="team_removed"), code=303)


def _refused_teams_page(refused: ProgramError) -> tuple[str, int]:
    with database().transaction() as db:
        return _teams_page(db, require_session(db), notice=messages.refusal(refused), status=409)


# --- The application package for the Council, and the plan as a spreadsheet ------------------------------------


def _package(db: Session) -> tuple[Program, list[programs.TeamPlan], int]:
    """The course's program, its plan by team and how many take part, for the course's trainers and administrators."""
    app_session = require_session(db)
    require_role(
        app_session, PLAN_READERS, _("Only the course's trainers and administrators download the program's plan.")
    )
    program = course_program(db, course_scope(app_session))
    if program is None:
        abort(404, description=_("This course has no PLC program yet."))
    plan = plan_by_team(db, program)
    return program, plan, sum(len(team.rows) for team in plan)


@bp.get("/application.pdf")
def application_pdf() -> Response:
    with database().transaction() as db:
        program, plan, participants = _package(db)
        lang = "th" if str(get_locale()) == "th" else "en"
        pdf = documents.render_pdf(
            settings(),
            "application.html",
            program=program,
            agency=agencies.program_agency(db, program),
            teams=plan,
            participants=participants,
            plan_version=plan_versions.followed_version(db, program),
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
        program, plan, _participants = _package(db)
        cycles = range(1, program.planned_cycles + 1)
        role_names = {"model": _("Model Teacher"), "buddy": _("Buddy Teacher"), "": ""}
        header = [_("Team"), _("Name"), *[_("Cycle %(number)s", number=n) for n in cycles]]
        label = version_label(plan_versions.followed_version(db, program))
        header = [_("Plan version"), *header]
        rows = [[label, team.name, name, *[role_names[r] for r in roles]] for team in plan for name, roles in team.rows]
        return csv_response(f"{program.name} - plan.csv", header, rows)
