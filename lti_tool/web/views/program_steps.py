"""Weighty steps on the course's program ask first: recording the Council's approval (its letter), withdrawing a
submission, End, Cancel, Reopen and a corrected approval date each have a confirmation page that says what follows in
the Council's terms and what it means for the teachers; only that page's own POST (with its own token) takes the
step, and going back changes nothing."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, redirect, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.services import programs
from lti_tool.services.actor import Actor
from lti_tool.services.programs import PROGRAM_EDITORS, course_program
from lti_tool.web import confirm, messages
from lti_tool.web.access import course_scope, require_role
from lti_tool.web.forms.cancellation import CancelForm
from lti_tool.web.forms.program import ConfirmStepForm
from lti_tool.web.i18n import format_date_local as be_date
from lti_tool.web.session import csrf_token, database, require_session, session_url
from models import plan_versions
from models.base import utcnow
from models.calendar import last_day_for_certificates, program_day
from models.cancellations import CancelledBy
from models.errors import InvalidInput, ProgramError
from models.plan_versions import LETTER_NUMBER_LENGTH
from models.program_history import REASON_LENGTH
from models.programs import Program
from models.sessions import AppSession

bp = Blueprint("program_steps", __name__, url_prefix="/program/confirm")

# Weighty steps: their button leads to a confirmation page, whose own POST alone takes the step.
CONFIRMED = ("approve", "withdraw", "end", "cancel", "reopen", "correct_approval")
CONFIRM_LABELS = {
    "approve": _l("Record the Council's approval"),
    "withdraw": _l("Withdraw the submission"),
    "end": _l("End the program"),
    "cancel": _l("Cancel the program"),
    "reopen": _l("Reopen the program"),
    "correct_approval": _l("Correct the approval date or letter number"),
}


CANCEL_FIELDS = ("cancelled_by", "letter_number", "letter_date")


def _confirm_purpose(step: str) -> str:
    return f"program-confirm-{step}"


def _confirmation(
    db: Session,
    app_session: AppSession,
    program: Program,
    step: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refusal: str = "",
) -> confirm.Confirmation:
    """The confirmation page of `step`: what follows in the Council's terms and what it means for the teachers."""
    values, errors = values or {}, errors or {}
    today = program_day(utcnow())
    reason = confirm.Input(
        "reason",
        _("Reason (kept in the program's history)"),
        value=values.get("reason", ""),
        error=errors.get("reason", ""),
        maxlength=REASON_LENGTH,
    )
    teachers = sum(len(team.member_ids) for team in program.teams)
    people: list[str] = []
    inputs: list[confirm.Input] = []
    version = plan_versions.latest_version(db, program) if step in ("approve", "withdraw") else None
    number = version.number if version else 1  # the version approved or withdrawn
    match step:
        case "approve":
            follows = [
                _(
                    "The Council's letter approves version %(number)s of the plan: its number and date are kept with "
                    "that version and printed on the application, the results report and every page that shows the plan.",
                    number=number,
                ),
                _(
                    "From then on the plan cannot change at all: the Council's guideline, clause 2.6: a program is not "
                    "changed while it runs."
                ),
                _(
                    "The letter's date is the approval's date: the program's year, at most one year, is counted from it, "
                    "and nothing may start before it."
                ),
            ]
            people = [
                _(
                    "%(num)s teachers in %(teams)s teams are in the plan the Council approves.",
                    num=teachers,
                    teams=len(program.teams),
                )
            ]
            inputs = [
                _approval_letter_input(values, errors),
                confirm.Input(
                    "approved_on",
                    _("Dated (ลงวันที่): the day of the Council's approval"),
                    kind="date",
                    value=values.get("approved_on", ""),
                    error=errors.get("approved_on", ""),
                    max=today.isoformat(),
                    min=program.submitted_on.isoformat() if program.submitted_on else "",
                ),
            ]
        case "withdraw":
            follows = [
                _(
                    "Version %(number)s of the plan is withdrawn from the Council: it stays in the program's versions, "
                    "with the day and your reason.",
                    number=number,
                ),
                _(
                    "The plan becomes a draft again: change it, then submit it to the Council as version %(next)s. The "
                    "page shows what changed between the two.",
                    next=number + 1,
                ),
            ]
            people = [_("Nothing can be recorded before the Council approves a version of the plan.")]
            inputs = [reason]
        case "end":
            last_day = program.last_day
            ends_on = min(today, last_day) if last_day else today
            follows = [
                _(
                    "Ending starts the 30 days within which the agency must send the Council the results report and "
                    "request the certificates: by %(due)s.",
                    due=be_date(last_day_for_certificates(ends_on)),
                ),
                _("No session, observation or reflection can be recorded after it."),
                _(
                    "A trainer can reopen it, with a reason, while no certificate is issued and the program's year runs."
                ),
            ]
            people = confirm.not_eligible(db, program)
        case "cancel":
            follows = [
                _("A cancelled program takes no more records and gives no certificates: it cannot be resumed."),
                _("It stays in the course's history, read-only, with who cancelled it, when and why."),
                _(
                    "The agency may cancel its own program; the Council (the Office of the Secretary-General of the "
                    "Teachers' Council) may cancel the co-operation of an agency that does not follow its guideline, "
                    "and says so by letter: record that letter's number and date."
                ),
                _("The course can then set up a new program, which goes to the Council for approval again."),
            ]
            people = [_("%(num)s teachers will get no certificate from this program.", num=teachers)]
            inputs = [*_cancel_inputs(values, errors, today), reason]
        case "reopen":
            follows = [
                _(
                    "The program runs again: sessions can be recorded until it is ended again, at the latest on the "
                    "last day of its year, %(day)s.",
                    day=be_date(program.last_day) if program.last_day else "",
                ),
                _("The 30 days for the certificates start again when it ends again."),
                _("Your reason is kept in the program's history."),
            ]
            people = confirm.not_eligible(db, program)
            inputs = [reason]
        case _:  # correct_approval
            follows = [
                _(
                    "The program's year is counted from the approval date: it will end one year after the corrected date."
                ),
                _(
                    "The date cannot be in the future, nor later than the program's start or its first recorded session."
                ),
                _("The date before and after, and your reason, are kept in the program's history."),
            ]
            approved = plan_versions.approved_version(db, program)
            if approved is not None:
                follows.append(
                    _(
                        "The letter number is kept with the plan version the Council approved, and the request for "
                        "certificates cites it; a number before and after is kept in the history too."
                    )
                )
            recorded = approved.council_letter_number if approved else ""
            # Not known for a program approved before letters were kept: it may stay empty until it is found.
            hint = "" if recorded else _("Leave it empty if you do not have the letter at hand.")
            letter = _approval_letter_input(values, errors, recorded=recorded, hint=hint)
            inputs = [
                *([letter] if approved else []),
                confirm.Input(
                    "approved_on",
                    _("Date of the Council's approval"),
                    kind="date",
                    value=values.get("approved_on", program.approved_on.isoformat() if program.approved_on else ""),
                    error=errors.get("approved_on", ""),
                    max=today.isoformat(),
                ),
                reason,
            ]
    return confirm.Confirmation(
        title=str(CONFIRM_TITLES[step]),
        follows=follows,
        people=people,
        inputs=inputs,
        action=session_url("program_steps.confirmed", step=step),
        csrf=csrf_token(app_session, _confirm_purpose(step)),
        button=str(CONFIRM_LABELS[step]),
        back=session_url("program.show"),
        refusal=refusal,
        weighty=step not in ("correct_approval", "withdraw"),
    )


def _approval_letter_input(
    values: dict[str, str], errors: dict[str, str], *, recorded: str = "", hint: str = ""
) -> confirm.Input:
    """The number of the Council's approval letter, asked when the approval is recorded and when it is corrected."""
    return confirm.Input(
        "council_letter_number",
        _("Letter number (เลขที่หนังสือ) of the Council's approval"),
        kind="text",
        value=values.get("council_letter_number", recorded),
        error=errors.get("council_letter_number", ""),
        maxlength=LETTER_NUMBER_LENGTH,
        hint=hint,
    )


def _cancel_inputs(values: dict[str, str], errors: dict[str, str], today: date) -> list[confirm.Input]:
    """Who cancels, and the Council's letter when it is the Council."""
    only_council = _("Only when the Council cancels.")
    return [
        confirm.Input(
            "cancelled_by",
            _("Who cancels the program"),
            kind="radio",
            value=values.get("cancelled_by", ""),
            error=errors.get("cancelled_by", ""),
            options=tuple((by.value, str(messages.CANCELLED_BY_NAMES[by.value])) for by in CancelledBy),
        ),
        confirm.Input(
            "letter_number",
            _("Number of the Council's letter"),
            kind="text",
            value=values.get("letter_number", ""),
            error=errors.get("letter_number", ""),
            maxlength=LETTER_NUMBER_LENGTH,
            hint=only_council,
        ),
        confirm.Input(
            "letter_date",
            _("Date of the Council's letter"),
            kind="date",
            value=values.get("letter_date", ""),
            error=errors.get("letter_date", ""),
            max=today.isoformat(),
            hint=only_council,
        ),
    ]


CONFIRM_TITLES = {
    "approve": _l("Record the Council's approval?"),
    "withdraw": _l("Withdraw the submission to the Council?"),
    "end": _l("End the program?"),
    "cancel": _l("Cancel the program?"),
    "reopen": _l("Reopen the program?"),
    "correct_approval": _l("Correct the Council's approval date or letter number?"),
}


def _confirmed_program(db: Session, app_session: AppSession, step: str) -> Program:
    if step not in CONFIRMED:
        abort(404, description=_("There is no such step for this course's program."))
    program = course_program(db, course_scope(app_session))
    if program is None:
        abort(404, description=_("This course has no PLC program yet."))
    return program


@bp.get("/<step>")
def confirm_step(step: str) -> tuple[str, int]:
    """The confirmation page: reading it changes nothing."""
    with database().transaction() as db:
        app_session = require_session(db)
        require_role(app_session, PROGRAM_EDITORS, _("Only the course's trainers may change the PLC program."))
        program = _confirmed_program(db, app_session, step)
        return confirm.render(_confirmation(db, app_session, program, step))


@bp.post("/<step>")
def confirmed(step: str) -> Response | tuple[str, int]:
    """The confirmation page's own POST: the one place the weighty step is taken."""
    values = {
        name: request.form.get(name, "") for name in ("reason", "approved_on", "council_letter_number", *CANCEL_FIELDS)
    }
    try:
        with database().transaction() as db:
            app_session = require_session(db)
            require_role(app_session, PROGRAM_EDITORS, _("Only the course's trainers may change the PLC program."))
            form = (CancelForm if step == "cancel" else ConfirmStepForm).posted(app_session, _confirm_purpose(step))
            program = _confirmed_program(db, app_session, step)
            form.validate()
            if step in ("approve", "correct_approval") and (form.approved_on.errors or form.approved_on.data is None):
                errors = {"approved_on": str(messages.PROGRAM_PROBLEMS["not_a_date"])}
                if step == "approve":  # the letter number's problem too, so that both fields say theirs at once
                    letter = plan_versions.letter_number_problems(form.council_letter_number.data)
                    errors |= messages.field_problems(letter, messages.PROGRAM_PROBLEMS)
                page = _confirmation(db, app_session, program, step, values=values, errors=errors)
                return confirm.render(page, 422)
            if isinstance(form, CancelForm) and form.letter_date.errors:  # with the other fields' problems, at once
                problems = form.details().problems(program, program_day(utcnow()))
                errors = messages.field_problems(problems, messages.CANCEL_PROBLEMS)
                errors["letter_date"] = str(messages.PROGRAM_PROBLEMS["not_a_date"])
                page = _confirmation(db, app_session, program, step, values=values, errors=errors)
                return confirm.render(page, 422)
            _take_confirmed_step(db, Actor(app_session), program, step, form)
    except InvalidInput as invalid:
        catalog = {"cancel": messages.CANCEL_PROBLEMS, "approve": messages.PROGRAM_PROBLEMS}.get(
            step, messages.REASON_PROBLEMS
        )
        # The Council's letter number and the approval date have the program form's messages wherever they are asked.
        council = ("council_letter_number", "approved_on")
        letter = [p for p in invalid.problems if p.field in council]
        others = [p for p in invalid.problems if p.field not in council]
        errors = messages.field_problems(letter, messages.PROGRAM_PROBLEMS) | messages.field_problems(others, catalog)
        return _refused_confirmation(step, values, errors=errors, status=422)
    except ProgramError as refused:
        return _refused_confirmation(step, values, refusal=messages.refusal(refused), status=409)
    saved = {"approve": "approved", "withdraw": "withdrawn"}.get(step)
    return redirect(session_url("program.show", **({"saved": saved} if saved else {})), code=303)


def _take_confirmed_step(db: Session, actor: Actor, program: Program, step: str, form: ConfirmStepForm) -> None:
    today = program_day(utcnow())
    match step:
        case "approve":
            programs.approve_program(
                db, actor, program, form.council_letter_number.data, form.approved_on.data, today=today
            )
        case "withdraw":
            programs.withdraw_submission(db, actor, program, form.reason.data, today=today)
        case "end":
            programs.end_program(actor, program, today=today)
        case "cancel":
            assert isinstance(form, CancelForm)
            programs.cancel_program(db, actor, program, form.details(), today=today)
        case "reopen":
            programs.reopen_program(db, actor, program, form.reason.data, today=today)
        case "correct_approval":
            letter = form.council_letter_number.data if "council_letter_number" in request.form else None
            programs.correct_approval_date(
                db, actor, program, form.approved_on.data, form.reason.data, today=today, letter_number=letter
            )


def _refused_confirmation(
    step: str, values: dict[str, str], *, errors: dict[str, str] | None = None, refusal: str = "", status: int
) -> tuple[str, int]:
    """The rule refused the step and the transaction rolled back: the confirmation again, with what was typed."""
    with database().transaction() as db:
        app_session = require_session(db)
        program = _confirmed_program(db, app_session, step)
        page = _confirmation(db, app_session, program, step, values=values, errors=errors, refusal=refusal)
        return confirm.render(page, status)
