"""Reflections (element 5, reflection dialogue): every member writes one per cycle; the course's trainers grade it
with the rubric in config/rubrics, and regrading keeps the history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload
from werkzeug.wrappers import Response

from lti_tool.services import read_log
from lti_tool.services import reflections as service
from lti_tool.services.actor import Actor
from lti_tool.web import messages
from lti_tool.web.access import course_scope, require_role, team_view
from lti_tool.web.forms.reflections import ReflectionPost, grade_form
from lti_tool.web.grade_delivery import Delivery, delivery
from lti_tool.web.session import csrf_token, database, require_session, session_url, settings
from models.base import utcnow
from models.calendar import program_day
from models.cycles import Cycle
from models.errors import InvalidInput, NotFoundInCourse, ProgramError
from models.people import members_by_id
from models.plan import role_in_cycle
from models.programs import is_expired
from models.read_log import ReadKind
from models.reflections import Reflection, own_reflection
from models.roles import AppRole
from models.rubrics import rubric
from models.scope import get_in_course, scoped
from models.scores import latest_for_grades
from models.sessions import AppSession
from models.states import ProgramState

bp = Blueprint("reflections", __name__, url_prefix="/program")
WRITE, GRADE = "reflection-write", "reflection-grade"


# --- A teacher's own reflection ---------------------------------------------------------------------------------


def _own_page(db: Session, app_session: AppSession, number: int, *, error: str = "", notice: str = "",
              status: int = 200) -> tuple[str, int]:  # fmt: skip
    view = team_view(db, app_session)
    team, program = view.team, view.team.program
    if not 1 <= number <= program.planned_cycles:
        abort(404, description=_("The program plans %(planned)s cycles.", planned=program.planned_cycles))
    if not view.is_member:
        abort(403, description=str(messages.REFUSALS["not_a_team_member"]))
    # The reflection and the teacher's role in the cycle, in one statement; the team's cycles and plan are not read.
    reflection, my_role = own_reflection(db, team, number, app_session.membership_id)
    graders = [g.grader_id for g in reflection.grades] if reflection is not None else []
    members = members_by_id(db, app_session.context_id, graders)
    today = program_day(utcnow())
    page = render_template(
        "reflection.html",
        team=team,
        program=program,
        number=number,
        reflection=reflection,
        rubric=rubric(),
        members=members,
        writable=program.state is ProgramState.RUNNING
        and not is_expired(program, today)
        and not (reflection and reflection.grades),
        text=request.form.get("text", "") if error else (reflection.text if reflection else ""),
        error=error,
        notice=notice,
        my_role=my_role,
        csrf=csrf_token(app_session, WRITE),
        session_url=session_url,
    )
    return page, status


@bp.get("/cycles/<int:number>/reflection")
def show(number: int) -> tuple[str, int]:
    with database().transaction() as db:
        return _own_page(db, require_session(db), number)


@bp.post("/cycles/<int:number>/reflection")
def submit(number: int) -> Response | tuple[str, int]:
    try:
        with database().transaction() as db:
            app_session = require_session(db)
            posted = ReflectionPost.posted(app_session, WRITE)
            view = team_view(db, app_session)
            if not posted.validate():
                return _own_page(db, app_session, number, error=posted.problems()["text"], status=422)
            service.write_reflection(db, settings(), Actor(app_session), view.team, number, posted.text.data)
    except InvalidInput as invalid:
        problem = invalid.problems[0]
        message = messages.REFLECTION_PROBLEMS.get(problem.code, problem.code)
        return _fresh_own(number, error=str(message) % problem.params, status=422)
    except ProgramError as refused:
        return _fresh_own(number, notice=messages.refusal(refused), status=409)
    return redirect(session_url("reflections.show", number=number, saved=1), code=303)


def _fresh_own(number: int, **kwargs: Any) -> tuple[str, int]:
    with database().transaction() as db:
        return _own_page(db, require_session(db), number, **kwargs)


# --- Trainers: the reflections of the course, and grading ------------------------------------------------------


def _reader(db: Session) -> AppSession:
    app_session = require_session(db)
    require_role(
        app_session,
        {AppRole.TRAINER, AppRole.ADMIN},
        _("Only the course's trainers read and grade the reflections of a team."),
    )
    return app_session


@bp.get("/reflections")
def list_for_grading() -> str:
    with database().transaction() as db:
        app_session = _reader(db)
        view = team_view(db, app_session)
        rows = db.scalars(
            scoped(Reflection, course_scope(app_session))
            .where(Cycle.team_id == view.team.id)
            .options(selectinload(Reflection.grades))
            .order_by(Cycle.number, Reflection.submitted_at)
        ).all()
        members = members_by_id(db, app_session.context_id, (r.membership_id for r in rows))
        return render_template(
            "reflections.html",
            view=view,
            team=view.team,
            program=view.team.program,
            reflections=rows,
            members=members,
            deliveries=_deliveries(db, rows),
            session_url=session_url,
        )


def _deliveries(db: Session, rows: Sequence[Reflection]) -> dict[int, Delivery]:
    """Where each reflection's current grade is on its way to the LMS gradebook, by reflection id."""
    current = {r.id: r.current_grade for r in rows if r.current_grade is not None}
    posts = latest_for_grades(db, [grade.id for grade in current.values()])
    zone = settings().timezone
    by_reflection = {}
    for r in rows:
        grade = current.get(r.id)
        post = posts.get(grade.id) if grade is not None else None
        if post is not None:
            by_reflection[r.id] = delivery(post, r.cycle.number, zone)
    return by_reflection


def _review_page(db: Session, app_session: AppSession, reflection_id: int, *, errors: dict[str, str] | None = None,
                 notice: str = "", status: int = 200) -> tuple[str, int]:  # fmt: skip
    try:
        reflection = get_in_course(db, course_scope(app_session), Reflection, reflection_id)
    except NotFoundInCourse:
        abort(404, description=_("There is no such reflection in this course."))
    team = reflection.cycle.team
    members = members_by_id(
        db, app_session.context_id, [reflection.membership_id, *(g.grader_id for g in reflection.grades)]
    )
    read_log.log_read(db, Actor(app_session), reflection.membership_id, ReadKind.REFLECTION, reflection.id)
    page = render_template(
        "reflection_review.html",
        reflection=reflection,
        team=team,
        program=team.program,
        author=members.get(reflection.membership_id),
        role=role_in_cycle(team, reflection.cycle.number, reflection.membership_id),
        members=members,
        rubric=rubric(),
        may_grade=app_session.membership.app_role == AppRole.TRAINER,
        delivery=_deliveries(db, [reflection]).get(reflection.id),
        errors=errors or {},
        values=request.form if errors else {},
        notice=notice,
        csrf=csrf_token(app_session, GRADE),
        session_url=session_url,
    )
    return page, status


@bp.get("/reflections/<int:reflection_id>")
def review(reflection_id: int) -> tuple[str, int]:
    with database().transaction() as db:
        return _review_page(db, _reader(db), reflection_id)


@bp.post("/reflections/<int:reflection_id>/grade")
def grade(reflection_id: int) -> Response | tuple[str, int]:
    try:
        with database().transaction() as db:
            app_session = require_session(db)
            require_role(app_session, {AppRole.TRAINER}, _("Only the course's trainers grade reflections."))
            posted = grade_form().posted(app_session, GRADE)
            if not posted.validate():
                return _review_page(db, app_session, reflection_id, errors=posted.problems(), status=422)
            service.grade_reflection(
                db, settings(), Actor(app_session), reflection_id, posted.scores(), posted.comment.data
            )
    except NotFoundInCourse:
        abort(404, description=_("There is no such reflection in this course."))
    except InvalidInput as invalid:
        errors = {p.field: str(messages.REFLECTION_PROBLEMS.get(p.code, p.code)) % p.params for p in invalid.problems}
        return _fresh_review(reflection_id, errors=errors, status=422)
    except ProgramError as refused:
        return _fresh_review(reflection_id, notice=messages.refusal(refused), status=409)
    return redirect(session_url("reflections.review", reflection_id=reflection_id, saved=1), code=303)


def _fresh_review(reflection_id: int, **kwargs: Any) -> tuple[str, int]:
    with database().transaction() as db:
        return _review_page(db, _reader(db), reflection_id, **kwargs)
