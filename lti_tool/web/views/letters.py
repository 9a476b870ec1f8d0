"""The agency's two letters to the Council as PDF (seed 004 §3.1 and §3.3), for the course's trainers and
administrators: each printed under the letter number and date they type; a number left out or a date that is not
one is refused beside its field, with what was typed kept."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, g, render_template, request
from flask_babel import gettext as _
from sqlalchemy.orm import Session, object_session
from werkzeug.wrappers import Response

from lti_tool.documents import pdf as documents
from lti_tool.services import letters
from lti_tool.services.letters import LETTER_NUMBER_LENGTH, LetterKind, LetterNotReady
from lti_tool.services.programs import PLAN_READERS, course_program
from lti_tool.web import messages
from lti_tool.web.access import course_scope, require_role
from lti_tool.web.forms.agencies import LetterForm
from lti_tool.web.session import csrf_token, database, require_session, session_url, settings
from models.base import utcnow
from models.calendar import program_day
from models.errors import InvalidInput, ProgramError
from models.programs import Program
from models.sessions import AppSession

bp = Blueprint("letters", __name__, url_prefix="/program/letters")

LETTERS = "program-letters"
FILE_NAMES = {LetterKind.APPLICATION: "หนังสือขอความร่วมมือ", LetterKind.CERTIFICATES: "หนังสือขอเกียรติบัตร"}


@bp.app_context_processor
def _letter_forms() -> dict[str, Any]:
    """The letters' forms on the program page: their token for the person of this request."""

    def letter_csrf() -> str:
        app_session = g.get("plc_session")
        return csrf_token(app_session, LETTERS) if app_session is not None else ""

    return {"letter_csrf": letter_csrf, "letter_state": _letter_state, "letter_number_most": LETTER_NUMBER_LENGTH}


def _letter_state(program: Program) -> dict[str, str]:
    """Why each letter cannot be printed yet, by kind ("" when it can), and whether the Council's approval letter
    that the request for certificates cites is missing ("no_reference") or it would enclose no certificate
    ("no_certificates"), for the program page and this one."""
    db = object_session(program)  # the page's own transaction
    if db is None:
        return {}
    state = {kind.value: _why_not(letters.letter_problem(db, program, kind)) for kind in LetterKind}
    if not state[LetterKind.CERTIFICATES] and letters.standing_certificates(db, program) == 0:
        state["no_certificates"] = _(
            "No certificate is issued yet: the letter would enclose none. Issue the certificates first."
        )
    if letters.approval_reference(db, program) is None:
        state["no_reference"] = _(
            "The Council's approval letter (its number and date) is not recorded: the letter will say so where it "
            "cites it. Record it before sending."
        )
    return state


def _why_not(refused: ProgramError | None) -> str:
    if refused is None:
        return ""
    if isinstance(refused, LetterNotReady):
        missing = ", ".join(str(messages.AGENCY_FIELDS[name]) for name in refused.missing)
        return str(messages.REFUSALS["letter_not_ready"]) % {"missing": missing}
    return messages.refusal(refused)


def _reader(db: Session) -> tuple[AppSession, Program]:
    app_session = require_session(db)
    require_role(
        app_session, PLAN_READERS, _("Only the course's trainers and administrators print the letters to the Council.")
    )
    program = course_program(db, course_scope(app_session))
    if program is None:
        abort(404, description=_("This course has no PLC program yet."))
    return app_session, program


def _page(
    app_session: AppSession,
    program: Program,
    errors: dict[str, dict[str, str]] | None = None,
    refusal: str = "",
    status: int = 200,
) -> tuple[str, int]:
    kind = request.view_args.get("kind", "") if request.view_args else ""
    values = {kind: {k: v for k, v in request.form.items() if k != "csrf"}} if errors or refusal else {}
    page = render_template(
        "letters.html",
        program=program,
        errors=errors or {},
        values=values,
        refusal=refusal,
        today=program_day(utcnow()).isoformat(),
        session_url=session_url,
    )
    return page, status


@bp.get("")
def show() -> tuple[str, int]:
    with database().transaction() as db:
        app_session, program = _reader(db)
        return _page(app_session, program)


@bp.post("/<kind>.pdf")
def letter_pdf(kind: str) -> Response | tuple[str, int]:
    if kind not in set(LetterKind):
        abort(404, description=_("There is no such letter."))
    with database().transaction() as db:
        app_session, program = _reader(db)
        form = LetterForm.posted(app_session, LETTERS)
        if not form.validate():
            return _page(app_session, program, errors={kind: form.problems()}, status=422)
        try:
            letter = letters.letter(db, program, LetterKind(kind), form.head(), today=program_day(utcnow()))
        except InvalidInput as invalid:
            errors = messages.field_problems(invalid.problems, messages.AGENCY_PROBLEMS)
            return _page(app_session, program, errors={kind: errors}, status=422)
        except ProgramError as refused:
            return _page(app_session, program, refusal=_why_not(refused), status=409)
        pdf = documents.render_pdf(settings(), f"letter-{kind}.html", **letter.context())
        filename = f"{program.name} - {FILE_NAMES[LetterKind(kind)]}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
