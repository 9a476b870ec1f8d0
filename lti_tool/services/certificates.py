"""Issuing a program's certificates with their learning records, in the caller's transaction: the certificates and
their `earned` statements commit together or not at all. The bulk job that issues them in batches while a trainer
watches its progress page is lti_tool/workers/certificates.py."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from lti_tool.services import notices
from lti_tool.services.actor import Actor
from lti_tool.settings import Settings
from models import certificates as certs
from models.base import utcnow
from models.calendar import program_day
from models.eligibility import Eligibility
from models.programs import Program
from models.scope import get_in_course
from xapi import events


def issue_certificates(
    db: Session,
    settings: Settings,
    program: Program,
    *,
    issued_by_id: int | None,
    today: date | None = None,
    member_ids: list[int] | None = None,
    eligibility: dict[int, Eligibility] | None = None,
    late_reason: str = "",
) -> list[certs.Issued]:
    """Issue the program's certificates to eligible teachers who have none (or to those of `member_ids`), each
    with its `earned` learning record in the caller's transaction. Idempotent: a second call issues nothing.
    After the Council's 30 days it needs `late_reason`, kept with every certificate it issues."""
    now = utcnow()
    issued = certs.issue_certificates(
        db,
        program,
        issued_by_id=issued_by_id,
        today=today or program_day(now),
        now=now,
        member_ids=member_ids,
        eligibility=eligibility,
        late_reason=late_reason,
    )
    team_of = {member_id: team for team in program.teams for member_id in team.member_ids}
    for item in issued:
        events.certificate_earned(db, settings, team_of[item.certificate.membership_id], item.certificate)
        notices.certificate_issued(db, item.certificate)
    return issued


def request_certificates(
    db: Session, actor: Actor, program: Program, late_reason: str = "", *, today: date | None = None
) -> certs.CertificateJob:
    """A trainer asks for the program's certificates: a bulk-issue job (the one already queued or running, if any)
    that the caller starts once this transaction commits. After the Council's 30 days it needs the reason, which
    the job carries to every certificate (InvalidInput on `reason` without one)."""
    certs.require_trainer(actor.membership, program)
    day = today or program_day(utcnow())
    return certs.request_bulk_issue(db, program, actor.membership_id, today=day, late_reason=late_reason)


def revoke_certificate(
    db: Session, settings: Settings, actor: Actor, certificate_id: int, reason: str
) -> certs.Certificate:
    """A trainer withdraws a certificate of their course, for a reason; its `earned` learning record is voided."""
    certificate = get_in_course(db, actor.scope, certs.Certificate, certificate_id)
    certs.require_trainer(actor.membership, certificate.program)
    certs.revoke(certificate, revoked_by_id=actor.membership_id, reason=reason, now=utcnow())
    events.certificate_revoked(db, settings, certificate)
    return certificate
