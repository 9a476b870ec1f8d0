"""Hours logbooks, certificates (bulk issue with progress, download, revoke), the results report, and the public
certificate check at /verify/<code>."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.documents import pdf as documents
from lti_tool.services import certificates as service
from lti_tool.services import read_log
from lti_tool.services.actor import Actor
from lti_tool.services.programs import course_program
from lti_tool.web import confirm, messages
from lti_tool.web.access import require_role
from lti_tool.web.csv_export import csv_response
from lti_tool.web.forms.certificates import IssuePost, RevokePost
from lti_tool.web.i18n import LOCALES
from lti_tool.web.security import limiter
from lti_tool.web.session import LINK_PARAM, database, link_token, require_session, session_url, settings
from lti_tool.web.views.certificate_steps import (
    ISSUE,
    REVOKE,
    issue_confirmation,
    job_stopped,
    revoke_confirmation,
)
from lti_tool.workers import certificates as certificate_jobs
from models import certificates as certs
from models.base import utcnow
from models.calendar import program_day
from models.catalog import element as element_info
from models.errors import InvalidInput, NotFoundInCourse, ProgramError
from models.facts import program_eligibility
from models.logbook import logbook, team_in_program
from models.people import Membership
from models.programs import Program
from models.read_log import ReadKind
from models.results_report import results_report
from models.roles import AppRole
from models.scope import CourseScope, get_in_course
from models.sessions import AppSession
from models.windows import certificate_window

bp = Blueprint("certificates", __name__)


# --- Access -----------------------------------------------------------------------------------------------------


def _scope(app_session: AppSession) -> CourseScope:
    return CourseScope(app_session.context.platform_id, app_session.context_id)


def _program(db: Session, app_session: AppSession) -> Program:
    program = course_program(db, _scope(app_session))
    if program is None:
        abort(404, description=_("This course has no PLC program yet."))
    return program


def _is_trainer(app_session: AppSession) -> bool:
    return app_session.membership.app_role == AppRole.TRAINER


def _require_trainer(app_session: AppSession) -> None:
    require_role(
        app_session,
        {AppRole.TRAINER},
        _("Only the course's trainers issue or revoke certificates and read the results report."),
    )


def _logbook_member(db: Session, app_session: AppSession, program: Program, member_id: int) -> Membership:
    """A teacher reads their own logbook; a trainer of the course reads any team member's."""
    if member_id != app_session.membership_id and not _is_trainer(app_session):
        abort(403, description=_("A teacher reads only their own logbook."))
    member = db.get(Membership, member_id)
    if member is None or member.context_id != program.context_id or team_in_program(db, program, member_id) is None:
        abort(404, description=_("This teacher is not in a team of the course's program."))
    read_log.log_read(db, Actor(app_session), member, ReadKind.LOGBOOK, member.id)  # the page, its CSV and its PDF
    return member


def _lang() -> str:
    chosen = request.args.get("lang")
    return chosen if chosen in LOCALES else "th"


def _pdf(body: bytes, filename: str) -> Response:
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}"},
    )


# --- Hours logbook ----------------------------------------------------------------------------------------------


@bp.get("/program/logbook")
def my_logbook() -> Response:
    with database().transaction() as db:
        app_session = require_session(db)
        member_id = app_session.membership_id
    return redirect(session_url("certificates.logbook_page", member_id=member_id), code=303)


@bp.get("/program/logbook/<int:member_id>")
def logbook_page(member_id: int) -> str:
    with database().transaction() as db:
        app_session = require_session(db)
        program = _program(db, app_session)
        book = logbook(db, program, _logbook_member(db, app_session, program, member_id))
        return render_template(
            "logbook.html",
            book=book,
            role_names=messages.ROLE_NAMES,
            element_name=lambda n: element_info(n).name,
            session_url=session_url,
        )


@bp.get("/program/logbook/<int:member_id>.csv")
def logbook_csv(member_id: int) -> Response:
    with database().transaction() as db:
        app_session = require_session(db)
        program = _program(db, app_session)
        book = logbook(db, program, _logbook_member(db, app_session, program, member_id))
        header = [
            "ที่ (No.)",
            "วันที่ ค.ศ. ปี-เดือน-วัน (Date, ISO 8601)",
            "วันที่ พ.ศ. (Date, Buddhist Era)",
            "วงรอบ (Cycle)",
            "องค์ประกอบ (Element)",
            "กิจกรรม (Activity)",
            "บทบาท (Role)",
            "ชั่วโมง (Hours)",
            "บันทึก (Notes)",
            "ชื่อ (Name)",
            "โครงการ (Program)",
        ]
        rows = [
            [
                n,
                e.held_on.isoformat(),
                documents.be_date(e.held_on, "th"),
                e.cycle,
                e.element,
                element_info(e.element).name["th"],
                documents.role_name(e.role, "th"),
                documents.hours_text(e.hours),
                e.notes,
                book.member.person.name,
                program.name,
            ]
            for n, e in enumerate(book.entries, start=1)
        ]
        rows.append(["", "", "", "", "", "รวม (Total)", "", documents.hours_text(book.total_hours), "", "", ""])
    return csv_response(f"plc-logbook-{member_id}.csv", header, rows)


@bp.get("/program/logbook/<int:member_id>.pdf")
def logbook_pdf(member_id: int) -> Response:
    with database().transaction() as db:
        app_session = require_session(db)
        program = _program(db, app_session)
        book = logbook(db, program, _logbook_member(db, app_session, program, member_id))
        body = documents.render_pdf(
            settings(), "logbook.html", book=book, lang=_lang(), printed_on=program_day(utcnow())
        )
    return _pdf(body, f"plc-logbook-{member_id}.pdf")


# --- Certificates -----------------------------------------------------------------------------------------------


def _certificates_page(db: Session, app_session: AppSession, refusal: str = "", status: int = 200) -> tuple[str, int]:
    program = _program(db, app_session)
    issued = certs.certificates_of(db, program)
    trainer = _is_trainer(app_session)
    if not trainer:
        mine = issued.get(app_session.membership_id)
        rows: list[dict[str, Any]] = []
        if mine is not None:
            rows = [{"member_id": mine.membership_id, "name": mine.holder_name, "certificate": mine}]
    else:
        eligibility = program_eligibility(db, program)
        people = {m.id: m for m in db.scalars(select(Membership).where(Membership.id.in_(list(eligibility))))}
        rows = [
            {
                "member_id": member_id,
                "name": people[member_id].person.name if member_id in people else "",
                "eligibility": result,
                "certificate": issued.get(member_id),
            }
            for member_id, result in eligibility.items()
        ]
    page = render_template(
        "certificates.html",
        program=program,
        trainer=trainer,
        rows=rows,
        issuable=program.state in certs.ISSUABLE,
        window=certificate_window(program, program_day(utcnow())),
        waiting=sum(1 for r in rows if r.get("eligibility") and r["eligibility"].eligible and not r["certificate"]),
        job=certs.latest_job(db, program) if trainer else None,
        refusal=refusal,
        link={LINK_PARAM: link_token(app_session)},
        session_url=session_url,
    )
    return page, status


@bp.get("/program/certificates")
def list_certificates() -> tuple[str, int]:
    with database().transaction() as db:
        return _certificates_page(db, require_session(db))


@bp.post("/program/certificates/issue")
def issue() -> Response:
    """The old direct POST: it changes nothing and leads to the confirmation page."""
    with database().transaction() as db:
        require_session(db)
        return redirect(session_url("certificates.issue_confirm"), code=303)


@bp.get("/program/certificates/issue/confirm")
def issue_confirm() -> tuple[str, int]:
    """The confirmation page: reading it changes nothing."""
    with database().transaction() as db:
        app_session = require_session(db)
        _require_trainer(app_session)
        return confirm.render(issue_confirmation(db, app_session, _program(db, app_session)))


@bp.post("/program/certificates/issue/confirm")
def issue_confirmed() -> Response | tuple[str, int]:
    """The confirmation page's own POST: the one place certificates are issued."""
    reason = request.form.get("reason", "")
    try:
        with database().transaction() as db:
            app_session = require_session(db)
            _require_trainer(app_session)
            posted = IssuePost.posted(app_session, ISSUE)
            program = _program(db, app_session)
            job_id = service.request_certificates(db, Actor(app_session), program, posted.reason.data).id
    except InvalidInput as invalid:  # the reason for issuing late, refused beside its field with the text kept
        error = messages.field_problems(invalid.problems, messages.ISSUE_PROBLEMS).get("reason", "")
        with database().transaction() as db:
            app_session = require_session(db)
            page = issue_confirmation(db, app_session, _program(db, app_session), reason=reason, error=error)
            return confirm.render(page, 422)
    except ProgramError as refused:
        with database().transaction() as db:
            app_session = require_session(db)
            page = issue_confirmation(db, app_session, _program(db, app_session), refusal=messages.refusal(refused))
            return confirm.render(page, 409)
    certificate_jobs.start_job(database(), settings(), job_id)  # a job another worker holds is left to it
    return redirect(session_url("certificates.job_progress", job_id=job_id), code=303)


@bp.get("/program/certificates/jobs/<int:job_id>")
def job_progress(job_id: int) -> Response:
    with database().transaction() as db:
        app_session = require_session(db)
        _require_trainer(app_session)
        try:
            job = get_in_course(db, _scope(app_session), certs.CertificateJob, job_id)
        except NotFoundInCourse:
            abort(404, description=_("There is no such certificate issue in this course."))
        stale = certificate_jobs.is_stale(job)
        page = render_template(
            "certificate_job.html", job=job, program=job.program, stopped=job_stopped(job), session_url=session_url
        )
        finished = job.finished
    if stale:
        certificate_jobs.start_job(database(), settings(), job_id)
    response = Response(page, mimetype="text/html")
    if not finished:
        response.headers["Refresh"] = "2"  # a plain reload: no script, and the link's session token is kept
    return response


def _certificate(db: Session, app_session: AppSession, certificate_id: int) -> certs.Certificate:
    try:
        certificate = get_in_course(db, _scope(app_session), certs.Certificate, certificate_id)
    except NotFoundInCourse:
        abort(404, description=_("There is no such certificate in this course."))
    if certificate.membership_id != app_session.membership_id and not _is_trainer(app_session):
        abort(403, description=_("A teacher downloads only their own certificate."))
    return certificate


def verify_url(code: str) -> str:
    return f"{settings().public_base_url}/verify/{code}"


@bp.get("/program/certificates/<int:certificate_id>.pdf")
def certificate_pdf(certificate_id: int) -> Response:
    with database().transaction() as db:
        app_session = require_session(db)
        certificate = _certificate(db, app_session, certificate_id)
        read_log.log_read(db, Actor(app_session), certificate.membership_id, ReadKind.CERTIFICATE, certificate.id)
        body = documents.render_pdf(
            settings(), "certificate.html", c=certificate, verify_url=verify_url(certificate.code), lang=_lang()
        )
        name = f"certificate-{certificate.code}.pdf"
    return _pdf(body, name)


@bp.post("/program/certificates/<int:certificate_id>/revoke")
def revoke(certificate_id: int) -> Response:
    """The old direct POST: it changes nothing and leads to the confirmation page."""
    with database().transaction() as db:
        require_session(db)
        return redirect(session_url("certificates.revoke_confirm", certificate_id=certificate_id), code=303)


@bp.get("/program/certificates/<int:certificate_id>/revoke/confirm")
def revoke_confirm(certificate_id: int) -> tuple[str, int]:
    """The confirmation page, which asks the reason: reading it changes nothing."""
    with database().transaction() as db:
        app_session = require_session(db)
        _require_trainer(app_session)
        certificate = _certificate(db, app_session, certificate_id)
        refusal = _("This certificate is already revoked.") if certificate.revoked else ""
        return confirm.render(revoke_confirmation(app_session, certificate, refusal=refusal))


@bp.post("/program/certificates/<int:certificate_id>/revoke/confirm")
def revoke_confirmed(certificate_id: int) -> Response | tuple[str, int]:
    """The confirmation page's own POST: the one place a certificate is revoked."""
    reason = request.form.get("reason", "")
    try:
        with database().transaction() as db:
            app_session = require_session(db)
            _require_trainer(app_session)
            posted = RevokePost.posted(app_session, REVOKE)
            service.revoke_certificate(db, settings(), Actor(app_session), certificate_id, posted.reason.data)
    except NotFoundInCourse:
        abort(404, description=_("There is no such certificate in this course."))
    except InvalidInput as invalid:  # the text typed stays in the field, beside what is wrong with it
        problem = invalid.problems[0]
        message = str(messages.REVOKE_PROBLEMS.get(problem.code, problem.code)) % problem.params
        with database().transaction() as db:
            app_session = require_session(db)
            page = revoke_confirmation(app_session, _certificate(db, app_session, certificate_id), reason, message)
            return confirm.render(page, 422)
    except ProgramError as refused:
        with database().transaction() as db:
            app_session = require_session(db)
            certificate = _certificate(db, app_session, certificate_id)
            page = revoke_confirmation(app_session, certificate, reason, refusal=messages.refusal(refused))
            return confirm.render(page, 409)
    return redirect(session_url("certificates.list_certificates"), code=303)


# --- Results report ---------------------------------------------------------------------------------------------


@bp.get("/program/report.pdf")
def report_pdf() -> Response:
    with database().transaction() as db:
        app_session = require_session(db)
        _require_trainer(app_session)
        program = _program(db, app_session)
        report = results_report(db, program)
        for member_id in sorted({m for team in program.teams for m in team.member_ids}):  # everyone's texts in it
            read_log.log_read(db, Actor(app_session), member_id, ReadKind.RESULTS_REPORT, program.id)
        standing = {m: c for m, c in certs.certificates_of(db, program).items() if not c.revoked}
        codes = {m: c.code for m, c in standing.items()}
        late = {m: c for m, c in standing.items() if c.issued_late}  # issued after the Council's 30 days
        body = documents.render_pdf(
            settings(),
            "results-report.html",
            r=report,
            codes=codes,
            late=late,
            lang=_lang(),
            printed_on=program_day(utcnow()),
        )
    return _pdf(body, f"plc-results-report-{program.id}.pdf")


# --- Public verification ----------------------------------------------------------------------------------------


def _verify_limit() -> str:
    return settings().rate_limit_verify


def _verify_limited() -> str:
    return _("Too many certificate checks from your address. Wait a minute, then try again.")


@bp.get("/verify")
@limiter.limit(_verify_limit, error_message=_verify_limited)
def verify_form() -> Response | str:
    typed = request.args.get("code", "").strip()
    if typed:
        code = certs.normalise_code(typed)
        return redirect(url_for("certificates.verify", code=code or typed[:40]), code=303)
    return render_template("verify.html", certificate=None, typed="", found=None)


@bp.get("/verify/<path:code>")
@limiter.limit(_verify_limit, error_message=_verify_limited)
def verify(code: str) -> tuple[str, int]:
    with database().transaction() as db:
        certificate = certs.find_by_code(db, code)
        page = render_template("verify.html", certificate=certificate, typed=code[:40], found=certificate is not None)
    return page, 200 if certificate is not None else 404


bp.add_app_template_filter(documents.hours_text, "hours")
