"""Erasing a person at their request (PDPA), for the platform's site administrators: finding the person by name or
LMS user id, the page that says beforehand what goes and what stays, and the confirmation page that takes the step."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.services import erasure as service
from lti_tool.services.actor import Actor
from lti_tool.services.admin import administers_the_platform
from lti_tool.web import confirm, messages
from lti_tool.web.access import require_role
from lti_tool.web.forms.erasure import ErasurePost
from lti_tool.web.session import (
    LINK_PARAM,
    csrf_token,
    database,
    link_token,
    require_session,
    session_url,
    settings,
)
from lti_tool.web.uploads import folder
from models.erasure import MAX_PSEUDONYM, MAX_REASON, PersonErasure
from models.errors import InvalidInput, NotFoundInCourse, ProgramError
from models.people import Person
from models.roles import AppRole
from models.sessions import AppSession

bp = Blueprint("erasure", __name__, url_prefix="/admin/people")

ERASE = "person-erase"


def _administrator(db: Session) -> AppSession:
    """The session of the platform's site administrator (403 for anyone else, a school administrator included)."""
    app_session = require_session(db)
    message = _("Only the platform's administrators may see this page.")
    require_role(app_session, {AppRole.ADMIN}, message)
    if not administers_the_platform(app_session.membership):
        abort(403, description=message)
    return app_session


def _person(db: Session, app_session: AppSession, person_id: int) -> Person:
    try:
        return service.person_of_the_platform(db, Actor(app_session), person_id)
    except NotFoundInCourse:
        abort(404, description=_("There is no such person on your platform."))


@bp.get("")
def people() -> str:
    """The search: people of the platform by name or LMS user id, and the erasures taken so far."""
    with database().transaction() as db:
        app_session = _administrator(db)
        actor = Actor(app_session)
        query = request.args.get("q", "").strip()
        erased = request.args.get("erased", type=int)
        done = db.get(PersonErasure, erased) if erased else None
        platform_id = actor.scope.platform_id
        erasures = list(
            db.scalars(
                select(PersonErasure)
                .where(PersonErasure.platform_id == platform_id)
                .order_by(PersonErasure.erased_at.desc())
                .limit(50)
            )
        )
        erasers = {
            p.id: p.name for p in db.scalars(select(Person).where(Person.id.in_({e.erased_by_id for e in erasures})))
        }
        return render_template(
            "admin/people.html",
            query=query,
            found=service.find_people(db, actor, query) if query else [],
            me=app_session.person_id,
            done=done if done is not None and done.platform_id == platform_id else None,
            erasures=erasures,
            erasers=erasers,
            link={LINK_PARAM: link_token(app_session)},
            session_url=session_url,
        )


def _goes_and_stays(preview: service.ErasurePreview) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """What the page lists, per kind: (what, how many) that goes, and that stays."""
    held = preview.held
    goes = [
        (_("Name, given name and family name (replaced by the pseudonym)"), 1 if held.has_name else 0),
        (_("E-mail address"), 1 if held.person.email else 0),
        (_("Text of their reflections"), sum(1 for r in held.reflections if r.text)),
        (_("Text of the observations they wrote as a Buddy Teacher"), len(held.observations)),
        (_("Tracking forms only they wrote (the answers)"), len(held.forms_alone)),
        (_("Notes of sessions only they wrote"), len(held.notes_alone)),
        (_("Evidence files they attached (deleted from the server)"), len(held.evidence)),
        (_("Comments in the grades of their reflections"), len(held.grade_comments)),
        (_("Earlier values and reasons in the history of corrections"), len(held.changes)),
        (_("Drafts and open sessions"), held.drafts + held.app_sessions),
        (_("Learning records, voided in every Learning Record Store"), preview.learning_records),
    ]
    stays = [
        (_("Courses they are a member of"), len(held.memberships)),
        (_("Sessions attended (the hours count)"), held.attended),
        (_("Reflections and observations, counted without their text"), len(held.reflections) + len(held.observations)),
        (_("Certificates (they show the pseudonym)"), len(held.certificates)),
        (_("Tracking forms written with others (the text stays)"), len(held.forms_shared)),
        (_("Notes of sessions written with others (the notes stay)"), len(held.notes_shared)),
    ]
    return goes, stays


@bp.get("/<int:person_id>/erase")
def preview(person_id: int) -> str:
    """What erasing the person would take away and keep, counted; reading it changes nothing."""
    with database().transaction() as db:
        app_session = _administrator(db)
        person = _person(db, app_session, person_id)
        looked = service.preview_erasure(db, Actor(app_session), person.id)
        goes, stays = _goes_and_stays(looked)
        return render_template(
            "admin/erasure.html",
            person=person,
            held=looked.held,
            goes=goes,
            stays=stays,
            is_me=person.id == app_session.person_id,
            session_url=session_url,
        )


def _confirmation(db: Session, app_session: AppSession, person: Person, pseudonym: str = "", reason: str = "",
                  errors: dict[str, str] | None = None, refusal: str = "") -> confirm.Confirmation:  # fmt: skip
    errors = errors or {}
    looked = service.preview_erasure(db, Actor(app_session), person.id)
    goes, stays = _goes_and_stays(looked)
    return confirm.Confirmation(
        title=_("Erase %(name)s's personal data?", name=person.name or person.sub),
        follows=[
            *[_("Goes: %(what)s: %(count)s", what=what, count=count) for what, count in goes if count],
            *[_("Stays: %(what)s: %(count)s", what=what, count=count) for what, count in stays if count],
            _("This cannot be undone: what goes cannot be brought back."),
        ],
        people=[
            _("The results report and the certificate verification show the pseudonym instead of the name."),
            _(
                "If the person launches PLC Bridge again from the same LMS account, they stay under the pseudonym: the name the LMS sends is not kept."
            ),
        ],
        inputs=[
            confirm.Input(
                "pseudonym",
                _("Pseudonym chosen by the district (for example ครูผู้เข้าร่วม ก-017)"),
                kind="text",
                value=pseudonym,
                error=errors.get("pseudonym", ""),
                maxlength=MAX_PSEUDONYM,
            ),
            confirm.Input(
                "reason",
                _("Reason (for example the request's reference)"),
                value=reason,
                error=errors.get("reason", ""),
                maxlength=MAX_REASON,
            ),
        ],
        action=session_url("erasure.erase", person_id=person.id),
        csrf=csrf_token(app_session, ERASE),
        button=_("Erase the personal data"),
        back=session_url("erasure.preview", person_id=person.id),
        refusal=refusal,
    )


@bp.get("/<int:person_id>/erase/confirm")
def confirm_page(person_id: int) -> tuple[str, int]:
    """The confirmation page, which asks the pseudonym and the reason: reading it changes nothing."""
    with database().transaction() as db:
        app_session = _administrator(db)
        return confirm.render(_confirmation(db, app_session, _person(db, app_session, person_id)))


@bp.post("/<int:person_id>/erase/confirm")
def erase(person_id: int) -> Response | tuple[str, int]:
    """The confirmation page's own POST: the one place a person is erased. The evidence files leave the disk only
    once the transaction has committed: a rolled-back erasure keeps them."""
    pseudonym, reason = request.form.get("pseudonym", "").strip(), request.form.get("reason", "").strip()
    try:
        with database().transaction() as db:
            app_session = _administrator(db)
            _person(db, app_session, person_id)
            posted = ErasurePost.posted(app_session, ERASE)
            done = service.erase_person(
                db, settings(), Actor(app_session), person_id, posted.pseudonym.data, posted.reason.data
            )
            erasure_id, stored = done.erasure.id, done.stored_files
    except InvalidInput as invalid:  # the typed text stays in the fields, beside what is wrong with it
        errors = {p.field: str(messages.ERASURE_PROBLEMS.get(p.code, p.code)) % p.params for p in invalid.problems}
        with database().transaction() as db:
            app_session = _administrator(db)
            person = _person(db, app_session, person_id)
            return confirm.render(_confirmation(db, app_session, person, pseudonym, reason, errors), 422)
    except ProgramError as refused:
        with database().transaction() as db:
            app_session = _administrator(db)
            person = _person(db, app_session, person_id)
            page = _confirmation(db, app_session, person, pseudonym, reason, refusal=messages.refusal(refused))
            return confirm.render(page, 409)
    for name in stored:  # after the commit
        (folder() / name).unlink(missing_ok=True)
    return redirect(session_url("erasure.people", erased=erasure_id), code=303)
