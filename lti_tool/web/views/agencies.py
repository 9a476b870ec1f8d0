"""The agency that runs the course's program (seed 004 §1, §2.1): the course's trainers set it up or choose one the
course keeps, correct its details and its staff who lead PLC work; its administrators read it."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.services import agencies as agency_services
from lti_tool.services.actor import Actor
from lti_tool.services.programs import PLAN_READERS, PROGRAM_EDITORS, course_program
from lti_tool.web import confirm, messages
from lti_tool.web.access import course_scope, require_role
from lti_tool.web.forms.agencies import AgencyForm, ChooseAgencyForm, StaffForm
from lti_tool.web.forms.base import PlcForm
from lti_tool.web.forms.fields import text_limits
from lti_tool.web.session import csrf_token, database, require_session, session_url
from models import agencies
from models.agencies import AgencyKind
from models.base import utcnow
from models.calendar import program_day
from models.errors import InvalidInput, NotFoundInCourse, ProgramError
from models.programs import Program
from models.roles import AppRole
from models.sessions import AppSession

bp = Blueprint("agency", __name__, url_prefix="/program/agency")

AGENCY, STAFF = "agency", "agency-staff"
LIMITS = {"agency": text_limits(AgencyForm), "staff": text_limits(StaffForm)}


def _reader(db: Session) -> tuple[AppSession, Program]:
    """The session of a trainer or administrator of a course with a program; 403 or 404 otherwise."""
    app_session = require_session(db)
    require_role(app_session, PLAN_READERS, _("Only the course's trainers and administrators see the agency."))
    program = course_program(db, course_scope(app_session))
    if program is None:
        abort(404, description=_("This course has no PLC program yet."))
    return app_session, program


def _editor(db: Session) -> tuple[AppSession, Program]:
    app_session, program = _reader(db)
    require_role(app_session, PROGRAM_EDITORS, _("Only the course's trainers may change the agency."))
    return app_session, program


def _page(
    db: Session,
    app_session: AppSession,
    program: Program,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, str]] | None = None,
    refusal: str = "",
    status: int = 200,
) -> tuple[str, int]:
    """The page: the program's agency and its details form, the course's other agencies, the staff."""
    errors, values = errors or {}, values or {}
    agency = agencies.program_agency(db, program)
    new = request.args.get("new") == "1" or "new" in errors
    shown = None if new else agency
    agency_values = (
        values.get("agency")
        or values.get("new")
        or ({name: str(getattr(shown, name)) for name in ("kind", *LIMITS["agency"])} if shown else {"kind": "other"})
    )
    if shown is None and not new and "name" not in agency_values:
        agency_values = {**agency_values, "name": program.agency}  # the name the program was set up with
    correcting = request.args.get("staff", type=int)
    staff_values = values.get("staff", {})
    if correcting and not staff_values and agency is not None:
        member = next((m for m in agency.staff if m.id == correcting), None)
        if member is not None:
            staff_values = {
                "name": member.name,
                "position": member.position,
                "training": member.training,
                "trained_on": member.trained_on.isoformat(),
            }
    page = render_template(
        "agency.html",
        program=program,
        agency=agency,
        others=[a for a in agencies.course_agencies(db, course_scope(app_session)) if a is not agency],
        new=new,
        may_edit=AppRole(app_session.membership.app_role) in PROGRAM_EDITORS,
        kinds=[(kind.value, messages.AGENCY_KINDS[kind.value]) for kind in AgencyKind],
        kind_names=messages.AGENCY_KINDS,
        agency_values=agency_values,
        agency_errors=errors.get("agency") or errors.get("new") or {},
        staff_values=staff_values,
        staff_errors=errors.get("staff", {}),
        correcting=correcting if staff_values else None,
        choose_error=errors.get("choose", {}).get("agency", ""),
        refusal=refusal,
        saved=None if errors or refusal else _saved(),
        field_limits=LIMITS,
        csrf_agency=csrf_token(app_session, AGENCY),
        csrf_staff=csrf_token(app_session, STAFF),
        today=program_day(utcnow()).isoformat(),
        session_url=session_url,
    )
    return page, status


def _saved() -> messages.Saved | None:
    code = request.args.get("saved", "")
    return messages.saved(code, session_url("agency.show"), name=request.args.get("name", ""))


def _done(code: str, name: str) -> Response:
    return redirect(session_url("agency.show", saved=code, name=name), code=303)


def _refused(refused: ProgramError) -> tuple[str, int]:
    with database().transaction() as db:
        app_session, program = _reader(db)
        return _page(db, app_session, program, refusal=messages.refusal(refused), status=409)


def _invalid(form_name: str, invalid: InvalidInput) -> tuple[str, int]:
    """A rule refused the input beside its fields (nothing changed): the page again, with the text as typed."""
    with database().transaction() as db:
        app_session, program = _reader(db)
        errors = messages.field_problems(invalid.problems, messages.AGENCY_PROBLEMS)
        values = {form_name: {k: v for k, v in request.form.items() if k != "csrf"}}
        return _page(db, app_session, program, errors={form_name: errors}, values=values, status=422)


@bp.get("")
def show() -> tuple[str, int]:
    with database().transaction() as db:
        app_session, program = _reader(db)
        return _page(db, app_session, program)


@bp.post("")
def save() -> Response | tuple[str, int]:
    """Correct the program's agency, or set up its first one."""
    return _save_details("agency")


@bp.post("/new")
def save_new() -> Response | tuple[str, int]:
    """Set up another agency of the course, which runs the program from now on."""
    return _save_details("new")


def _save_details(form_name: str) -> Response | tuple[str, int]:
    try:
        with database().transaction() as db:
            app_session, program = _editor(db)
            form = AgencyForm.posted(app_session, AGENCY)
            if not form.validate():
                values = {form_name: {k: v for k, v in request.form.items() if k != "csrf"}}
                return _page(db, app_session, program, errors={form_name: form.problems()}, values=values, status=422)
            actor = Actor(app_session)
            if form_name == "new":
                agency = agency_services.new_agency(db, actor, program, form.details())
            else:
                agency = agency_services.save_agency(db, actor, program, form.details())
            name = agency.name
    except InvalidInput as invalid:
        return _invalid(form_name, invalid)
    except ProgramError as refused:
        return _refused(refused)
    return _done("agency", name)


@bp.post("/choose")
def choose() -> Response | tuple[str, int]:
    try:
        with database().transaction() as db:
            app_session, program = _editor(db)
            form = ChooseAgencyForm.posted(app_session, AGENCY)
            if not form.validate() or form.agency.data is None:
                return _page(db, app_session, program, errors={"choose": form.problems()}, status=422)
            agency = agency_services.choose_agency(db, Actor(app_session), program, form.agency.data)
            name = agency.name
    except NotFoundInCourse:
        abort(404, description=_("There is no such agency in this course."))
    except ProgramError as refused:
        return _refused(refused)
    return _done("agency_chosen", name)


@bp.post("/staff")
def add_staff() -> Response | tuple[str, int]:
    return _save_staff(None)


@bp.post("/staff/<int:staff_id>")
def correct_staff(staff_id: int) -> Response | tuple[str, int]:
    return _save_staff(staff_id)


def _save_staff(staff_id: int | None) -> Response | tuple[str, int]:
    try:
        with database().transaction() as db:
            app_session, program = _editor(db)
            form = StaffForm.posted(app_session, STAFF)
            today = program_day(utcnow())
            agency = agencies.program_agency(db, program)
            if agency is None:
                abort(409, description=_("Set up the agency first, then list its staff."))
            if not form.validate_for(today):
                values = {"staff": {k: v for k, v in request.form.items() if k != "csrf"}}
                return _page(db, app_session, program, errors={"staff": form.problems()}, values=values, status=422)
            actor = Actor(app_session)
            if staff_id is None:
                member = agency_services.add_staff(db, actor, agency.id, form.details(), today=today)
            else:
                member = agency_services.correct_staff(db, actor, staff_id, form.details(), today=today)
            name = member.name
    except NotFoundInCourse:
        abort(404, description=_("There is no such person on this course's agency staff."))
    except InvalidInput as invalid:
        return _invalid("staff", invalid)
    except ProgramError as refused:
        return _refused(refused)
    return _done("staff_added" if staff_id is None else "staff_corrected", name)


def _removal(app_session: AppSession, staff_id: int, name: str) -> confirm.Confirmation:
    return confirm.Confirmation(
        title=_("Remove %(name)s from the agency's staff?", name=name),
        follows=[
            _("%(name)s is no longer listed among the staff who lead the PLC work.", name=name),
            _(
                "The application printed from now on no longer names them; letters and documents already sent stay as they are."
            ),
        ],
        action=session_url("agency.remove_staff", staff_id=staff_id),
        csrf=csrf_token(app_session, f"{STAFF}-remove-{staff_id}"),
        button=_("Remove from the staff"),
        back=session_url("agency.show"),
    )


@bp.get("/staff/<int:staff_id>/remove")
def confirm_removal(staff_id: int) -> tuple[str, int]:
    """Removing a staff member asks first; reading this page changes nothing."""
    with database().transaction() as db:
        app_session, _program = _editor(db)
        try:
            member = agencies.staff_in_course(db, course_scope(app_session), staff_id)
        except NotFoundInCourse:
            abort(404, description=_("There is no such person on this course's agency staff."))
        return confirm.render(_removal(app_session, staff_id, member.name))


@bp.post("/staff/<int:staff_id>/remove")
def remove_staff(staff_id: int) -> Response | tuple[str, int]:
    try:
        with database().transaction() as db:
            app_session, _program = _editor(db)
            PlcForm.posted(app_session, f"{STAFF}-remove-{staff_id}")
            name = agency_services.remove_staff(db, Actor(app_session), staff_id)
    except NotFoundInCourse:
        abort(404, description=_("There is no such person on this course's agency staff."))
    except ProgramError as refused:
        return _refused(refused)
    return _done("staff_removed", name)
