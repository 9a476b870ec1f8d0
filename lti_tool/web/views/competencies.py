"""Competency growth: the OBEC framework as teachers read it, a teacher's self-assessment at the program's start and
end with their profile before and after, a trainer's view of a team (and their own rating of a teacher), and the
program's target competencies, chosen with its plan."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.services import competencies as service
from lti_tool.services.actor import Actor
from lti_tool.services.programs import course_program
from lti_tool.web import messages
from lti_tool.web.access import course_scope, require_role, team_view
from lti_tool.web.forms.competencies import AssessmentPost, TargetsPost
from lti_tool.web.session import csrf_token, database, require_session, session_url, settings
from models.assessments import Phase, open_phase, targets
from models.catalog import assessment_scale, competencies, framework
from models.errors import InvalidInput, NotATeamMember, NotFoundInCourse, ProgramError
from models.people import course_members
from models.programs import Program
from models.roles import AppRole
from models.sessions import AppSession
from models.states import PLAN_EDITABLE

bp = Blueprint("competencies", __name__, url_prefix="/program/competencies")
ASSESS, RATE, TARGETS = "competency-assess", "competency-rate", "competency-targets"


def _catalog() -> dict[str, Any]:
    return {"competencies": competencies(), "scale": assessment_scale(), "framework": framework()}


@bp.get("/framework")
def framework_page() -> str:
    """The eleven competencies with their definitions, and the level scale: for everyone who launched the tool."""
    with database().transaction() as db:
        app_session = require_session(db)
        program = course_program(db, course_scope(app_session))
        return render_template(
            "competencies/framework.html",
            targets=targets(program) if program else (),
            session_url=session_url,
            **_catalog(),
        )


# --- A teacher's own assessment and profile ------------------------------------------------------------------------


def _own_page(db: Session, app_session: AppSession, *, problems: dict[str, str] | None = None, notice: str = "",
              status: int = 200) -> tuple[str, int]:  # fmt: skip
    view = team_view(db, app_session)
    program, profile = service.own_profile(db, Actor(app_session))
    phase = open_phase(program)
    posted = dict(request.form) if problems else {}
    current = {p.competency: (p.start if phase is Phase.START else p.end) for p in profile}
    page = render_template(
        "competencies/assess.html",
        program=program,
        team=view.team,
        profile=profile,
        phase=phase,
        chosen={
            code: posted.get("level-" + code, "" if level is None else str(level)) for code, level in current.items()
        },
        problems=problems or {},
        notice=notice,
        csrf=csrf_token(app_session, ASSESS),
        session_url=session_url,
        **_catalog(),
    )
    return page, status


@bp.get("")
def show() -> Response | tuple[str, int]:
    with database().transaction() as db:
        app_session = require_session(db)
        if AppRole(app_session.membership.app_role) is not AppRole.TEACHER:
            return redirect(session_url("competencies.team", **request.args), code=303)
        return _own_page(db, app_session)


@bp.get("/<phase>")
def assess_page(phase: str) -> Response:
    """The form's address, opened by a language link after a refused post: the page itself."""
    return redirect(session_url("competencies.show"), code=303)


@bp.post("/<phase>")
def assess(phase: str) -> Response | tuple[str, int]:
    if phase not in {p.value for p in Phase}:
        abort(404)
    try:
        with database().transaction() as db:
            app_session = require_session(db)
            require_role(app_session, {AppRole.TEACHER}, _("Only the program's teachers assess themselves."))
            posted = AssessmentPost.posted(app_session, ASSESS)
            program = course_program(db, course_scope(app_session))
            codes = targets(program) if program else ()
            service.assess_self(db, settings(), Actor(app_session), Phase(phase), posted.levels(codes))
    except InvalidInput as invalid:
        return _fresh_own(problems=_level_problems(invalid), status=422)
    except ProgramError as refused:
        return _fresh_own(notice=messages.refusal(refused), status=409)
    return redirect(session_url("competencies.show", saved=1), code=303)


def _level_problems(invalid: InvalidInput) -> dict[str, str]:
    return {p.field: str(messages.ASSESSMENT_PROBLEMS.get(p.code, p.code)) for p in invalid.problems}


def _fresh_own(**kwargs: Any) -> tuple[str, int]:
    with database().transaction() as db:
        return _own_page(db, require_session(db), **kwargs)


# --- Trainers: a team's levels, their own rating, the program's targets --------------------------------------------


def _trainer(db: Session) -> AppSession:
    app_session = require_session(db)
    require_role(
        app_session,
        {AppRole.TRAINER, AppRole.ADMIN},
        _("Only the course's trainers see the competency levels of a team."),
    )
    return app_session


def _rater(db: Session, message: str) -> AppSession:
    app_session = require_session(db)
    require_role(app_session, {AppRole.TRAINER}, message)
    return app_session


def _team_page(db: Session, app_session: AppSession, *, rating: int | None = None,
               problems: dict[str, str] | None = None, notice: str = "", status: int = 200) -> tuple[str, int]:  # fmt: skip
    view = team_view(db, app_session)
    try:
        team, profiles = service.team_profiles(db, Actor(app_session), view.team.id)
    except NotFoundInCourse:  # a team of an earlier or cancelled program, opened by its address
        abort(404, description=_("This team belongs to an earlier or cancelled program: its competency levels are "
                                 "not shown here."))  # fmt: skip
    program = team.program
    members = {m.id: m for m in course_members(db, app_session.context_id)}
    page = render_template(
        "competencies/team.html",
        program=program,
        team=team,
        teams=view.teams,
        profiles=profiles,
        members=members,
        codes=targets(program),
        phase=open_phase(program),
        rating=rating if rating is not None else request.args.get("rate", type=int),
        problems=problems or {},
        notice=notice,
        may_rate=AppRole(app_session.membership.app_role) in service.RATERS,
        me=app_session.membership.id,
        may_choose=_may_choose(app_session, program),
        rate_csrf=csrf_token(app_session, RATE),
        session_url=session_url,
        **_catalog(),
    )
    return page, status


@bp.get("/team")
def team() -> tuple[str, int]:
    with database().transaction() as db:
        return _team_page(db, _trainer(db))


@bp.get("/team/rate/<int:member_id>")
def team_form_page(member_id: int) -> Response:
    """A trainer's form's address, opened by a language link after a refused post: the team's page."""
    return redirect(session_url("competencies.team", team=request.args.get("team", type=int), rate=member_id), code=303)


@bp.post("/team/rate/<int:member_id>")
def rate(member_id: int) -> Response | tuple[str, int]:
    team_id = request.args.get("team", type=int)
    try:
        with database().transaction() as db:
            app_session = _rater(db, _("Only the course's trainers rate a teacher's competencies."))
            posted = AssessmentPost.posted(app_session, RATE)
            program = course_program(db, course_scope(app_session))
            if program is None:
                abort(404, description=_("The course has no PLC program yet."))
            phase = open_phase(program)
            if phase is None:
                abort(409, description=_("No competency assessment is open in this program."))
            levels = posted.levels(targets(program))
            service.rate_teacher(db, settings(), Actor(app_session), member_id, phase, levels)
    except InvalidInput as invalid:
        return _fresh_team(rating=member_id, problems=_level_problems(invalid), status=422)
    except NotATeamMember:
        abort(404, description=_("This person is not in a team of the program."))
    except ProgramError as refused:
        return _fresh_team(notice=messages.refusal(refused), status=409)
    return redirect(session_url("competencies.team", team=team_id, rated=member_id), code=303)


def _may_choose(app_session: AppSession, program: Program) -> bool:
    return program.state in PLAN_EDITABLE and AppRole(app_session.membership.app_role) is AppRole.TRAINER


def _targets_page(db: Session, app_session: AppSession, *, problem: str = "", notice: str = "",
                  status: int = 200) -> tuple[str, int]:  # fmt: skip
    program = course_program(db, course_scope(app_session))
    if program is None:
        abort(404, description=_("The course has no PLC program yet."))
    page = render_template(
        "competencies/targets.html",
        program=program,
        codes=request.form.getlist("targets") if problem else targets(program),
        may_choose=_may_choose(app_session, program),
        problem=problem,
        notice=notice,
        csrf=csrf_token(app_session, TARGETS),
        session_url=session_url,
        **_catalog(),
    )
    return page, status


@bp.get("/targets")
def targets_page() -> tuple[str, int]:
    """The program's target competencies: chosen by its trainers with the plan, while it is a draft."""
    with database().transaction() as db:
        return _targets_page(db, _trainer(db))


@bp.post("/targets")
def choose_targets() -> Response | tuple[str, int]:
    try:
        with database().transaction() as db:
            app_session = _rater(db, _("Only the course's trainers choose the program's target competencies."))
            posted = TargetsPost.posted(app_session, TARGETS)
            service.choose_targets(db, Actor(app_session), posted.codes())
    except InvalidInput:
        return _fresh_targets(problem=str(messages.ASSESSMENT_PROBLEMS["no_targets"]), status=422)
    except ProgramError as refused:
        return _fresh_targets(notice=messages.refusal(refused), status=409)
    return redirect(session_url("competencies.targets_page", saved=1), code=303)


def _fresh_targets(**kwargs: Any) -> tuple[str, int]:
    with database().transaction() as db:
        return _targets_page(db, _trainer(db), **kwargs)


def _fresh_team(**kwargs: Any) -> tuple[str, int]:
    with database().transaction() as db:
        return _team_page(db, _trainer(db), **kwargs)
