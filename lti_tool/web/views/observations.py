"""Buddy observations: a Buddy of a cycle fills the observation form for their Model Teacher's lesson, with evidence
files; the Buddy, the Model Teacher observed and the course's trainers read it, and nobody else."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.services import observations as service
from lti_tool.services import read_log
from lti_tool.services.actor import Actor
from lti_tool.services.evidence import EvidenceFiles
from lti_tool.web import confirm, messages
from lti_tool.web import uploads as files
from lti_tool.web.access import course_scope
from lti_tool.web.forms.observations import WithdrawObservation, correction_form, observation_form
from lti_tool.web.session import csrf_token, database, require_session, session_url, settings
from models import corrections
from models import evidence as ev
from models.base import utcnow
from models.calendar import program_day
from models.corrections import MAX_REASON_CHARS
from models.errors import InvalidInput, NotABuddy, NotFoundInCourse, NotYourObservation, ProgramError
from models.forms import OBSERVATION_FORM, form_templates
from models.observations import Observation, observations_for, open_observation
from models.people import Membership, course_members
from models.plan import PlcRole, team_plan
from models.programs import check_recording_allowed
from models.read_log import ReadKind
from models.roles import AppRole
from models.sessions import AppSession
from models.states import ProgramState
from models.teams import Team, team_of

bp = Blueprint("observations", __name__, url_prefix="/program")
bp.before_request(files.allow_uploads)
FORM = "buddy-observation"
CORRECT = "correct-observation"
WITHDRAW = "withdraw-observation"
EMPTY_NOTE_ROWS = 5


def _buddy_of(db: Session, app_session: AppSession, number: int) -> tuple[Team, Membership]:
    """The viewer's team and the Model Teacher they observe in cycle `number`; 403 unless they are its Buddy."""
    try:
        return service.observed_lesson(db, Actor(app_session), number)
    except NotABuddy:
        abort(
            403,
            description=_(
                "Only a Buddy Teacher of cycle %(number)s fills in its observation form, for the Model Teacher they observe. Your team's plan does not make you a Buddy in that cycle.",
                number=number,
            ),
        )
    except service.NoModelTeacher:
        abort(403, description=_("Cycle %(number)s has no Model Teacher in your team's plan.", number=number))


def _form_page(
    db: Session,
    app_session: AppSession,
    number: int,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status: int = 200,
) -> tuple[str, int]:
    team, model = _buddy_of(db, app_session, number)
    observation = service.own_observation(db, team, number, app_session.membership_id)
    if errors is not None:
        values = {key: request.form.get(key, "") for key in request.form}
        rows = list(zip(request.form.getlist("student"), request.form.getlist("note"), strict=False))
    elif observation is not None:
        values = {f.id: getattr(observation, f.id) for f in form_templates()[OBSERVATION_FORM].fields}
        rows = [(n.get("student", ""), n.get("note", "")) for n in observation.student_notes]
    else:
        values, rows = {}, []
    rows = [row for row in rows if row[0].strip() or row[1].strip()]
    if not notice:
        try:
            check_recording_allowed(team.program, program_day(utcnow()))
        except ProgramError as refused:
            notice = messages.refusal(refused)
    page = render_template(
        "observations/form.html",
        template=form_templates()[OBSERVATION_FORM],
        team=team,
        number=number,
        model=model,
        observation=observation,
        attached=ev.evidence_of_observation(db, observation.id) if observation else [],
        values=values,
        rows=rows + [("", "")] * EMPTY_NOTE_ROWS,
        errors=errors or {},
        notice=notice,
        csrf=csrf_token(app_session, FORM),
        most_files=ev.MAX_FILES_PER_UPLOAD,
        most_mb=ev.MAX_EVIDENCE_BYTES // (1024 * 1024),
        session_url=session_url,
    )
    return page, status


@bp.get("/cycles/<int:number>/observation")
def form(number: int) -> tuple[str, int]:
    with database().transaction() as db:
        return _form_page(db, require_session(db), number)


@bp.get("/cycles/<int:number>/observations")
def for_cycle(number: int) -> Response | str:
    """Where the course's observation link of cycle `number` leads, whoever opens it (every learner of the course
    sees it): a Buddy of the cycle to the form, its Model Teacher to what their Buddies wrote of the lesson, a trainer
    or administrator to the course's observations, and a teacher with no part in the cycle to a page saying why."""
    with database().transaction() as db:
        app_session = require_session(db)
        if app_session.membership.app_role != AppRole.TEACHER:
            return redirect(session_url("observations.list_observations"), code=303)
        part = service.part_in_cycle(db, Actor(app_session), number)
        if part.role is PlcRole.BUDDY:
            return redirect(session_url("observations.form", number=number), code=303)
        return render_template("observations/cycle.html", part=part, session_url=session_url)


@bp.post("/cycles/<int:number>/observation")
def submit(number: int) -> Response | tuple[str, int]:
    """Submit (or resubmit) the Buddy's observation with any new evidence files, in one transaction with its
    learning records; a refused field or file writes nothing at all."""
    try:
        with files.kept_on_commit() as stored, database().transaction() as db:
            app_session = require_session(db)
            _buddy_of(db, app_session, number)
            posted = observation_form().posted(app_session, FORM)
            errors = posted.problems()
            uploads = files.read_uploads()
            if problem := files.upload_problems(uploads):
                errors[files.FIELD] = problem
            if errors:
                return _form_page(db, app_session, number, errors=errors, status=422)
            observation = service.submit_observation(
                db, settings(), Actor(app_session), number, posted.observation(), uploads,
                EvidenceFiles(files.store(), stored),
            )  # fmt: skip
            observation_id = observation.id
    except ev.EvidenceRefused as refused:
        return _fresh_form_page(number, errors={files.FIELD: files.refusal(refused)}, status=422)
    except ProgramError as refused:
        return _fresh_form_page(number, notice=messages.refusal(refused), status=409)
    return redirect(session_url("observations.show", observation_id=observation_id, saved=1), code=303)


def _fresh_form_page(
    number: int, errors: dict[str, str] | None = None, notice: str = "", status: int = 200
) -> tuple[str, int]:
    """The form again after the transaction rolled back (no observation, no file, no learning record)."""
    with database().transaction() as db:
        return _form_page(db, require_session(db), number, errors=errors, notice=notice, status=status)


def _show_page(
    db: Session, app_session: AppSession, observation_id: int, errors: dict[str, str] | None = None,
    notice: str = "", status: int = 200,
) -> tuple[str, int]:  # fmt: skip
    try:
        observation = open_observation(db, course_scope(app_session), app_session.membership, observation_id)
    except NotFoundInCourse:
        abort(404, description=_("There is no such observation in this course."))
    except NotYourObservation:
        abort(
            403,
            description=_(
                "Only the Buddy who wrote an observation, the Model Teacher observed and the course's trainers may read it."
            ),
        )
    team = observation.cycle.team
    me = app_session.membership
    read_log.log_read(db, Actor(app_session), observation.buddy_id, ReadKind.OBSERVATION, observation.id)
    did = request.args.get("did", "")
    changed = ""
    if did in messages.OBSERVATION_CHANGED:
        changed = str(messages.OBSERVATION_CHANGED[did]) % {"cycle": observation.cycle.number}
    if errors:
        values = {key: request.form.get(key, "") for key in request.form}
        rows = list(zip(request.form.getlist("student"), request.form.getlist("note"), strict=False))
    else:
        values = {f.id: getattr(observation, f.id) for f in form_templates()[OBSERVATION_FORM].fields}
        rows = [(n.get("student", ""), n.get("note", "")) for n in observation.student_notes]
    rows = [row for row in rows if row[0].strip() or row[1].strip()]
    lang = "th" if str(get_locale()) == "th" else "en"
    labels = {f.id: f.label[lang] for f in form_templates()[OBSERVATION_FORM].fields}
    labels["student_notes"] = _("Notes on individual students")
    page = render_template(
        "observations/show.html",
        labels=labels,
        observation=observation,
        template=form_templates()[OBSERVATION_FORM],
        team=team,
        buddy=db.get(Membership, observation.buddy_id),
        model=db.get(Membership, observation.model_id),
        members={m.id: m for m in course_members(db, app_session.context_id)},
        attached=ev.evidence_of_observation(db, observation.id),
        mine=observation.buddy_id == me.id,
        running=team.program.state == ProgramState.RUNNING,
        saved=request.args.get("saved") == "1",
        changed=changed,
        changes=corrections.history(db, corrections.OBSERVATION, [observation.id]).get(observation.id, []),
        is_trainer=me.app_role == AppRole.TRAINER,
        may_change=observation.withdrawn_at is None and corrections.may_change(team.program, observation.buddy_id, me),
        values=values,
        rows=rows + [("", "")] * 2,
        errors=errors or {},
        notice=notice,
        csrf_correct=csrf_token(app_session, CORRECT),
        session_url=session_url,
    )
    return page, status


@bp.get("/observations/<int:observation_id>")
def show(observation_id: int) -> tuple[str, int]:
    with database().transaction() as db:
        return _show_page(db, require_session(db), observation_id)


def _fresh_show(observation_id: int, errors: dict[str, str] | None = None, notice: str = "", status: int = 200
                ) -> tuple[str, int]:  # fmt: skip
    with database().transaction() as db:
        return _show_page(db, require_session(db), observation_id, errors=errors, notice=notice, status=status)


@bp.post("/observations/<int:observation_id>/correct")
def correct(observation_id: int) -> Response | tuple[str, int]:
    """Correct every field of an observation; its history, its learning records and completions follow in one
    transaction, or nothing changes."""
    try:
        with database().transaction() as db:
            app_session = require_session(db)
            posted = correction_form().posted(app_session, CORRECT)
            posted.validate()
            errors = posted.problems()
            if reason_problem := posted.reason.errors:
                errors["reason"] = str(reason_problem[0])
            if errors:
                return _show_page(db, app_session, observation_id, errors=errors, status=422)
            service.correct_observation(
                db, settings(), Actor(app_session), observation_id, posted.observation(), posted.reason.data,
                now=utcnow(),
            )  # fmt: skip
    except InvalidInput as invalid:
        errors = messages.field_problems(invalid.problems, messages.OBSERVATION_PROBLEMS)
        return _fresh_show(observation_id, errors, status=422)
    except NotFoundInCourse:
        abort(404)
    except ProgramError as refused:
        return _fresh_show(observation_id, notice=messages.refusal(refused), status=409)
    return redirect(session_url("observations.show", observation_id=observation_id, did="corrected"), code=303)


def _open(db: Session, app_session: AppSession, observation_id: int) -> Observation:
    """The observation the viewer may read, or 404."""
    try:
        return open_observation(db, course_scope(app_session), app_session.membership, observation_id)
    except NotFoundInCourse:
        abort(404, description=_("There is no such observation in this course."))
    except NotYourObservation:
        abort(
            403,
            description=_("Only the Buddy who wrote this observation, or a trainer of the course, may withdraw it."),
        )


def _withdrawal(db: Session, app_session: AppSession, observation_id: int, reason: str = "", error: str = "",
                refusal: str = "") -> confirm.Confirmation:  # fmt: skip
    """What withdrawing means: the observation no longer counts toward the Buddy's cycle, progress or certificate,
    its learning record is voided and its history kept. Only those who may change it see the page."""
    observation = _open(db, app_session, observation_id)
    if observation.withdrawn_at is not None:
        abort(404, description=_("This observation is already withdrawn."))
    if not corrections.may_change(observation.cycle.team.program, observation.buddy_id, app_session.membership):
        abort(
            403,
            description=_("Only the Buddy who wrote this observation, or a trainer of the course, may withdraw it."),
        )
    buddy = db.get(Membership, observation.buddy_id)
    model = db.get(Membership, observation.model_id)
    number = observation.cycle.number
    return confirm.Confirmation(
        title=_("Withdraw the observation of cycle %(cycle)s?", cycle=number),
        follows=[
            _("It will no longer count toward the Buddy's cycle, their progress or their certificate."),
            _("Its learning record is voided in the learning record store; a completion that no longer holds is "
              "voided too."),
            _("Its history is kept, with who withdrew it, when and why."),
        ],
        people=[
            _("%(buddy)s's observation of %(model)s's lesson in cycle %(cycle)s will be missing until it is filled "
              "in again.", buddy=buddy.person.name if buddy else "", model=model.person.name if model else "",
              cycle=number),
        ],
        inputs=[confirm.Input("reason", _("Reason for the change"), value=reason, error=error,
                              maxlength=MAX_REASON_CHARS, field_id="withdraw-reason")],
        action=session_url("observations.withdraw_confirmed", observation_id=observation_id),
        csrf=csrf_token(app_session, WITHDRAW),
        button=_("Withdraw the observation"),
        back=session_url("observations.show", observation_id=observation_id),
        refusal=refusal,
    )  # fmt: skip


@bp.post("/observations/<int:observation_id>/withdraw")
def withdraw(observation_id: int) -> Response:
    """The old direct POST: it changes nothing and leads to the confirmation page."""
    with database().transaction() as db:
        require_session(db)
        return redirect(session_url("observations.withdraw_confirm", observation_id=observation_id), code=303)


@bp.get("/observations/<int:observation_id>/withdraw/confirm")
def withdraw_confirm(observation_id: int) -> tuple[str, int]:
    """The confirmation page, which asks the reason: reading it changes nothing."""
    with database().transaction() as db:
        return confirm.render(_withdrawal(db, require_session(db), observation_id))


@bp.post("/observations/<int:observation_id>/withdraw/confirm")
def withdraw_confirmed(observation_id: int) -> Response | tuple[str, int]:
    """Withdraw an observation: it counts nowhere any more, its learning record is voided, its history is kept."""
    reason = request.form.get("reason", "")
    try:
        with database().transaction() as db:
            app_session = require_session(db)
            posted = WithdrawObservation.posted(app_session, WITHDRAW)
            posted.validate()
            if errors := posted.problems():
                return confirm.render(
                    _withdrawal(db, app_session, observation_id, reason, errors.get("reason", "")), 422
                )
            service.withdraw_observation(
                db, settings(), Actor(app_session), observation_id, posted.reason.data, now=utcnow()
            )
    except InvalidInput as invalid:  # the reason typed stays in the field, beside what is wrong with it
        errors = messages.field_problems(invalid.problems, messages.OBSERVATION_PROBLEMS)
        return _refused_withdrawal(observation_id, reason, error=errors.get("reason", ""), status=422)
    except NotFoundInCourse:
        abort(404)
    except ProgramError as refused:
        return _refused_withdrawal(observation_id, reason, refusal=messages.refusal(refused), status=409)
    return redirect(session_url("observations.show", observation_id=observation_id, did="withdrawn"), code=303)


def _refused_withdrawal(observation_id: int, reason: str, *, error: str = "", refusal: str = "", status: int
                        ) -> tuple[str, int]:  # fmt: skip
    """The confirmation again with the reason typed and what was refused; for someone who may not change the
    observation at all, its own page with the refusal."""
    with database().transaction() as db:
        app_session = require_session(db)
        observation = _open(db, app_session, observation_id)
        program = observation.cycle.team.program
        if observation.withdrawn_at is not None or not corrections.may_change(
            program, observation.buddy_id, app_session.membership
        ):
            return _show_page(db, app_session, observation_id, notice=refusal or error, status=status)
        return confirm.render(_withdrawal(db, app_session, observation_id, reason, error, refusal), status)


@bp.get("/observations")
def list_observations() -> str:
    """What the viewer may read (their own, those of their lessons; a trainer: all in the course), and for a Buddy
    the cycles whose form waits for them."""
    with database().transaction() as db:
        app_session = require_session(db)
        me = app_session.membership
        readable = observations_for(db, course_scope(app_session), me)
        forms: list[tuple[int, int | None, Observation | None]] = []
        team = team_of(db, course_scope(app_session), me.id) if me.app_role == AppRole.TEACHER else None
        if team is not None:
            for number, (model_id, buddy_ids) in sorted(team_plan(team).items()):
                if me.id in buddy_ids:
                    forms.append((number, model_id, service.own_observation(db, team, number, me.id)))
        return render_template(
            "observations/list.html",
            readable=readable,
            forms=forms,
            team=team,
            members={m.id: m for m in course_members(db, app_session.context_id)},
            is_trainer=me.app_role == AppRole.TRAINER,
            session_url=session_url,
        )
