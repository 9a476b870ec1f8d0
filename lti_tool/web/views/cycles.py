"""A cycle of a team: the student learning problem it targets (baseline and result), the five elements as recorded,
and the team's tracking forms (problem reflection, PLC operation tracking, results report) from config/forms."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Blueprint, abort, current_app, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.services import cycles
from lti_tool.services.actor import Actor
from lti_tool.web import confirm, messages
from lti_tool.web.access import TeamView, team_view
from lti_tool.web.forms.base import PlcForm
from lti_tool.web.forms.cycles import TargetForm, TrackingForm, WithdrawForm
from lti_tool.web.session import csrf_token, database, require_session, session_url
from models import corrections
from models.base import utcnow
from models.calendar import program_day
from models.catalog import elements
from models.cycles import ELEMENT_NUMBERS, Cycle, ElementSession
from models.errors import InvalidInput, ProgramError
from models.forms import TEAM_FORMS, carried_over, form_entries, form_templates
from models.people import course_members
from models.plan import role_in_cycle, team_plan
from models.programs import is_expired
from models.sessions import AppSession
from models.states import ProgramState
from models.teams import Team

bp = Blueprint("cycles", __name__, url_prefix="/program/cycles")
TARGET, FORM, WITHDRAW = "cycle-target", "cycle-form", "withdraw-form"
F = TypeVar("F", bound=PlcForm)


def _cycle_or_none(team: Team, number: int) -> Cycle | None:
    return next((c for c in team.cycles if c.number == number), None)


def _page(db: Session, app_session: AppSession, view: TeamView, number: int, *, errors: dict[str, dict[str, str]]
          | None = None, notice: str = "", status: int = 200) -> tuple[str, int]:  # fmt: skip
    team, program = view.team, view.team.program
    if not 1 <= number <= program.planned_cycles:
        abort(404, description=_("The program plans %(planned)s cycles.", planned=program.planned_cycles))
    cycle = _cycle_or_none(team, number)
    members = {m.id: m for m in course_members(db, app_session.context_id)}
    model_id, buddy_ids = team_plan(team).get(number, (None, []))
    sessions_by_element: dict[int, list[ElementSession]] = {n: [] for n in ELEMENT_NUMBERS}
    for session in cycle.sessions if cycle else []:
        sessions_by_element[session.element].append(session)
    today = program_day(utcnow())
    running = program.state is ProgramState.RUNNING and not is_expired(program, today)
    entries = form_entries(db, cycle) if cycle else {}
    page = render_template(
        "cycle.html",
        view=view,
        team=team,
        program=program,
        number=number,
        cycle=cycle,
        members=members,
        model=members.get(model_id) if model_id else None,
        buddies=[members[b] for b in buddy_ids if b in members],
        my_role=role_in_cycle(team, number, app_session.membership_id),
        sessions_by_element=sessions_by_element,
        elements=elements(),
        templates=[form_templates()[slug] for slug in TEAM_FORMS if slug in form_templates()],
        entries=entries,
        carried=carried_over(db, team, number),
        editable=view.may_write and running,
        correctable=view.may_write and (running or corrections.may_correct_forms(program, app_session.membership)),
        form_changes=corrections.history(db, corrections.FORM, [e.id for e in entries.values()]),
        withdrawals=corrections.form_withdrawals(db, cycle.id) if cycle else {},
        reason_needed={
            slug: corrections.form_reason_needed(program, e, app_session.membership) for slug, e in entries.items()
        },
        errors=errors or {},
        values=request.form if errors else {},
        notice=notice,
        saved=None if errors else _saved(team, number),
        csrf_target=csrf_token(app_session, TARGET),
        csrf_form=csrf_token(app_session, FORM),
        endpoints=current_app.view_functions,
        session_url=session_url,
    )
    return page, status


def _saved(team: Team, number: int) -> messages.Saved | None:
    """What the save that led here saved (`?saved=target` or a tracking form's slug), with a link to it."""
    code = request.args.get("saved", "")
    link = session_url("cycles.show", number=number, team=team.id) + f"#{code}"
    if code == "target":
        return messages.saved("target", link, number=number)
    if code in TEAM_FORMS and code in form_templates():
        lang = "th" if str(get_locale() or "th").startswith("th") else "en"
        return messages.saved("form", link, form=form_templates()[code].title[lang], number=number)
    return None


@bp.get("/<int:number>")
def show(number: int) -> tuple[str, int]:
    with database().transaction() as db:
        app_session = require_session(db)
        return _page(db, app_session, team_view(db, app_session), number)


def _fresh_page(number: int, **kwargs: Any) -> tuple[str, int]:
    with database().transaction() as db:
        app_session = require_session(db)
        return _page(db, app_session, team_view(db, app_session), number, **kwargs)


def _writer(db: Session, form: type[F], purpose: str) -> tuple[AppSession, TeamView, F]:
    """A member, the facilitator or a trainer posting `form` for their team with its token; 403 or 400 otherwise."""
    app_session = require_session(db)
    view = team_view(db, app_session)
    if not view.may_write:
        abort(403, description=_("Only the team's members and the course's trainers change its cycle records."))
    return app_session, view, form.posted(app_session, purpose)


@bp.post("/<int:number>/target")
def save_target(number: int) -> Response | tuple[str, int]:
    try:
        with database().transaction() as db:
            app_session, view, form = _writer(db, TargetForm, TARGET)
            if not form.validate():
                return _page(db, app_session, view, number, errors={"target": form.problems()}, status=422)
            cycles.save_cycle_target(
                db,
                Actor(app_session),
                view.team,
                number,
                form.target(),
                form.result.data,
                form.result_value.data,
                today=program_day(utcnow()),
            )
    except ProgramError as refused:
        return _fresh_page(number, notice=messages.refusal(refused), status=409)
    return redirect(session_url("cycles.show", number=number, team=view.team.id, saved="target") + "#target", 303)


@bp.post("/<int:number>/forms/<slug>")
def save_team_form(number: int, slug: str) -> Response | tuple[str, int]:
    if slug not in TEAM_FORMS:
        abort(404, description=str(messages.FORM_PROBLEMS["unknown"]))
    try:
        with database().transaction() as db:
            app_session, view, form = _writer(db, TrackingForm, FORM)
            now = utcnow()
            cycles.save_tracking_form(
                db, Actor(app_session), view.team, number, slug, form.answers, today=program_day(now),
                reason=form.reason, now=now,
            )  # fmt: skip
    except InvalidInput as invalid:
        problems = messages.field_problems(invalid.problems, messages.FORM_PROBLEMS)
        return _fresh_page(number, errors={slug: problems}, status=422)
    except ProgramError as refused:
        return _fresh_page(number, notice=messages.refusal(refused), status=409)
    return redirect(session_url("cycles.show", number=number, team=view.team.id, saved=slug) + f"#{slug}", 303)


def _withdrawable(db: Session, app_session: AppSession, view: TeamView, number: int, slug: str) -> None:
    """403 unless the viewer writes the team's records and may correct its forms now; 404 without a saved form."""
    program = view.team.program
    running = program.state is ProgramState.RUNNING and not is_expired(program, program_day(utcnow()))
    if not view.may_write or not (running or corrections.may_correct_forms(program, app_session.membership)):
        abort(403, description=_("Only the team's members and the course's trainers change its cycle records."))
    if slug not in TEAM_FORMS or cycles.saved_form(db, view.team, number, slug) is None:
        abort(404, description=_("This form is not filled in: there is nothing to withdraw."))


def _withdrawal(app_session: AppSession, view: TeamView, number: int, slug: str, reason: str = "", error: str = "",
                refusal: str = "") -> confirm.Confirmation:  # fmt: skip
    lang = "th" if str(get_locale() or "th").startswith("th") else "en"
    title = form_templates()[slug].title[lang]
    return confirm.Confirmation(
        title=_("Withdraw the form “%(form)s” of cycle %(cycle)s?", form=title, cycle=number),
        follows=[
            _("The form will show as not filled in, and the team can fill it in again."),
            _("Its history is kept, with the answers before, who withdrew it, when and why."),
        ],
        inputs=[confirm.Input("reason", _("Reason for the change"), value=reason, error=error,
                              maxlength=corrections.MAX_REASON_CHARS, field_id="withdraw-reason")],
        action=session_url("cycles.withdraw_form_confirmed", number=number, slug=slug, team=view.team.id),
        csrf=csrf_token(app_session, WITHDRAW),
        button=_("Withdraw the form"),
        back=session_url("cycles.show", number=number, team=view.team.id) + f"#{slug}",
        refusal=refusal,
    )  # fmt: skip


@bp.get("/<int:number>/forms/<slug>/withdraw")
def withdraw_form_confirm(number: int, slug: str) -> tuple[str, int]:
    """The confirmation page, which asks the reason: reading it changes nothing."""
    with database().transaction() as db:
        app_session = require_session(db)
        view = team_view(db, app_session)
        _withdrawable(db, app_session, view, number, slug)
        return confirm.render(_withdrawal(app_session, view, number, slug))


@bp.post("/<int:number>/forms/<slug>/withdraw")
def withdraw_form_confirmed(number: int, slug: str) -> Response | tuple[str, int]:
    """Withdraw the team's saved form: it shows as not filled in, its history keeps the answers before."""
    reason = request.form.get("reason", "")
    try:
        with database().transaction() as db:
            app_session = require_session(db)
            view = team_view(db, app_session)
            _withdrawable(db, app_session, view, number, slug)
            posted = WithdrawForm.posted(app_session, WITHDRAW)
            posted.validate()
            if errors := posted.problems():
                return confirm.render(
                    _withdrawal(app_session, view, number, slug, reason, errors.get("reason", "")), 422
                )
            cycles.withdraw_tracking_form(
                db, Actor(app_session), view.team, number, slug, reason=posted.reason.data, now=utcnow()
            )
    except InvalidInput as invalid:  # the reason typed stays in the field, beside what is wrong with it
        error = messages.field_problems(invalid.problems, messages.FORM_PROBLEMS).get("reason", "")
        return _refused_withdrawal(number, slug, reason, error=error, status=422)
    except ProgramError as refused:
        return _refused_withdrawal(number, slug, reason, refusal=messages.refusal(refused), status=409)
    return redirect(session_url("cycles.show", number=number, team=view.team.id) + f"#{slug}", 303)


def _refused_withdrawal(number: int, slug: str, reason: str, *, error: str = "", refusal: str = "", status: int
                        ) -> tuple[str, int]:  # fmt: skip
    with database().transaction() as db:
        app_session = require_session(db)
        view = team_view(db, app_session)
        return confirm.render(_withdrawal(app_session, view, number, slug, reason, error, refusal), status)
