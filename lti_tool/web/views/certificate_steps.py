"""What issuing and revoking certificates mean, as their confirmation pages say it (the Council's 30 days included),
and why a rule stopped a bulk issue. The pages themselves are web/views/certificates.py."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.web import confirm, messages
from lti_tool.web.i18n import format_date_local as be_date
from lti_tool.web.session import csrf_token, session_url
from models import certificates as certs
from models.base import utcnow
from models.calendar import program_day
from models.facts import program_eligibility
from models.people import Membership
from models.programs import Program
from models.sessions import AppSession
from models.windows import Window, certificate_window

ISSUE, REVOKE = "certificates-issue", "certificate-revoke"  # the purposes of their form tokens


def issue_confirmation(
    db: Session, app_session: AppSession, program: Program, refusal: str = "", reason: str = "", error: str = ""
) -> confirm.Confirmation:
    """What issuing means: who gets a certificate, who does not and why, and the records it locks; after the
    Council's 30 days, that the certificates will say so, and the reason asked for."""
    window = certificate_window(program, program_day(utcnow()))
    issued = certs.certificates_of(db, program)
    results = program_eligibility(db, program)
    people = {m.id: m for m in db.scalars(select(Membership).where(Membership.id.in_(list(results))))}
    new = [m for m, e in results.items() if e.eligible and m not in issued]
    lines = [_("%(num)s teachers will get a certificate now.", num=len(new))]
    if already := sum(1 for m in results if m in issued):
        lines.append(_("%(num)s teachers already have one: they do not get a second.", num=already))
    for member_id, result in results.items():
        if not result.eligible:
            why = "; ".join(str(messages.ELIGIBILITY_SUMMARIES.get(r.code, r.code)) for r in result.reasons)
            name = people[member_id].person.name if member_id in people else str(member_id)
            lines.append(_("%(name)s will not get a certificate: %(why)s.", name=name, why=why))
    return confirm.Confirmation(
        title=_("Issue certificates to every eligible teacher?"),
        follows=[
            _(
                "Each eligible teacher gets a certificate of the Council's PLC hours with its own code, which anyone "
                "can check on the verification page."
            ),
            _(
                "An issued certificate locks the records it rests on (sessions, tracking forms, observations): they "
                "can be corrected only after the certificate is revoked, because the certificate states those hours."
            ),
            _("Issuing again never makes a second certificate for a teacher."),
            *issue_window_lines(window),
        ],
        people=lines,
        inputs=[
            confirm.Input(
                "reason",
                _("Reason for issuing after the Council's 30 days"),
                value=reason,
                error=error,
                maxlength=certs.MAX_REASON_CHARS,
            )
        ]
        if window is not None and window.passed
        else [],
        action=session_url("certificates.issue_confirmed"),
        csrf=csrf_token(app_session, ISSUE),
        button=_("Issue the certificates"),
        back=session_url("certificates.list_certificates"),
        refusal=refusal,
    )


def issue_window_lines(window: Window | None) -> list[str]:
    """What the Council's 30 days after the end mean for certificates issued now (seed 004 §3.3)."""
    if window is None:
        return []
    if not window.passed:
        return [
            _(
                "Certificates issued by %(day)s are within the Council's 30 days after the program's end.",
                day=be_date(window.last_day),
            )
        ]
    return [
        _(
            "The Council's 30 days after the program's end ended on %(day)s. Certificates issued now are issued late: "
            "each says so, with the date, and so do its verification page and the results report.",
            day=be_date(window.last_day),
        ),
        _("Give the reason for issuing them now: it is kept with the certificates and printed in the results report."),
    ]


def job_stopped(job: certs.CertificateJob) -> str:
    """Why a rule stopped the job, in the person's words ("" when it did not stop, or for an error of ours)."""
    if job.error == "late_without_reason":
        return _(
            "The Council's 30 days after the program's end ended while the certificates were being issued: issue the rest again and give the reason."
        )
    message = messages.REFUSALS.get(job.error)
    return str(message) if message is not None and "%(" not in str(message) else ""


def revoke_confirmation(
    app_session: AppSession, certificate: certs.Certificate, reason: str = "", error: str = "", refusal: str = ""
) -> confirm.Confirmation:
    """What revoking means: verify answers "revoked", the teacher's `earned` record is voided, the reason is kept."""
    return confirm.Confirmation(
        title=_("Revoke the certificate of %(name)s?", name=certificate.holder_name),
        follows=[
            _(
                "Checking the code %(code)s on the verification page will answer “revoked”, with the date.",
                code=certificate.code,
            ),
            _("The teacher's learning record that they earned the certificate is voided."),
            _("Your reason is kept with the certificate; the records it rested on can then be corrected."),
        ],
        people=[_("%(name)s no longer holds this certificate.", name=certificate.holder_name)],
        inputs=[
            confirm.Input(
                "reason",
                _("Reason for revoking"),
                value=reason,
                error=error,
                maxlength=certs.MAX_REASON_CHARS,
                field_id=f"reason-{certificate.id}",
            )
        ],
        action=session_url("certificates.revoke_confirmed", certificate_id=certificate.id),
        csrf=csrf_token(app_session, REVOKE),
        button=_("Revoke the certificate"),
        back=session_url("certificates.list_certificates"),
        refusal=refusal,
    )
