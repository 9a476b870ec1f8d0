"""Issuing a program's certificates with their learning records, and the bulk job that does it in batches while a
trainer watches its progress page. One transaction per batch: the certificates and their `earned` statements commit
together or not at all."""

from __future__ import annotations

import logging
import threading
from datetime import date, timedelta

from sqlalchemy.orm import Session

from lti_tool.services.actor import Actor
from lti_tool.settings import Settings
from models import certificates as certs
from models.base import utcnow
from models.calendar import program_day
from models.database import Database
from models.eligibility import Eligibility, program_eligibility
from models.programs import Program
from models.scope import get_in_course
from xapi import events

log = logging.getLogger(__name__)

BATCH = 25
# A running job whose worker has said nothing for this long is taken over (its process stopped mid-way).
STALE_AFTER = timedelta(seconds=30)


def issue_certificates(
    db: Session,
    settings: Settings,
    program: Program,
    *,
    issued_by_id: int | None,
    today: date | None = None,
    member_ids: list[int] | None = None,
    eligibility: dict[int, Eligibility] | None = None,
) -> list[certs.Issued]:
    """Issue the program's certificates to eligible teachers who have none (or to those of `member_ids`), each
    with its `earned` learning record in the caller's transaction. Idempotent: a second call issues nothing."""
    now = utcnow()
    issued = certs.issue_certificates(
        db,
        program,
        issued_by_id=issued_by_id,
        today=today or program_day(now),
        now=now,
        member_ids=member_ids,
        eligibility=eligibility,
    )
    team_of = {member_id: team for team in program.teams for member_id in team.member_ids}
    for item in issued:
        events.certificate_earned(db, settings, team_of[item.certificate.membership_id], item.certificate)
    return issued


def request_certificates(db: Session, actor: Actor, program: Program) -> certs.CertificateJob:
    """A trainer asks for the program's certificates: a bulk-issue job (the one already queued or running, if any)
    that the caller starts once this transaction commits."""
    certs.require_trainer(actor.membership, program)
    return certs.request_bulk_issue(db, program, actor.membership_id)


def revoke_certificate(
    db: Session, settings: Settings, actor: Actor, certificate_id: int, reason: str
) -> certs.Certificate:
    """A trainer withdraws a certificate of their course, for a reason; its `earned` learning record is voided."""
    certificate = get_in_course(db, actor.scope, certs.Certificate, certificate_id)
    certs.require_trainer(actor.membership, certificate.program)
    certs.revoke(certificate, revoked_by_id=actor.membership_id, reason=reason, now=utcnow())
    events.certificate_revoked(db, settings, certificate)
    return certificate


def run_job(database: Database, settings: Settings, job_id: int, batch: int = BATCH) -> None:
    """Work a bulk-issue job to the end, one batch per transaction, counting progress on the job row."""
    try:
        with database.transaction() as db:
            job = certs.claim_job(db, job_id, utcnow(), STALE_AFTER)
            if job is None:  # finished, or another worker has it
                return
            # An ended program takes no more records, so its eligibility holds for the whole job: read it once.
            eligibility = program_eligibility(db, job.program)
            job.total = job.issued + len(certs.waiting_for_certificate(db, job.program, eligibility))
        while True:
            with database.transaction() as db:
                job = db.get(certs.CertificateJob, job_id)
                assert job is not None
                program = job.program
                waiting = certs.waiting_for_certificate(db, program, eligibility)
                if not waiting:
                    job.state = certs.JobState.DONE
                    job.finished_at = job.heartbeat_at = utcnow()
                    return
                issued = issue_certificates(
                    db,
                    settings,
                    program,
                    issued_by_id=job.requested_by_id,
                    member_ids=waiting[:batch],
                    eligibility=eligibility,
                )
                job.issued += len(issued)
                job.total = max(job.total, job.issued)
                job.heartbeat_at = utcnow()
    except Exception as error:  # the job row says what went wrong; the trainer may start it again
        log.exception("certificate job %s failed", job_id)
        with database.transaction() as db:
            job = db.get(certs.CertificateJob, job_id)
            if job is not None:
                job.state = certs.JobState.FAILED
                job.error = type(error).__name__
                job.finished_at = utcnow()


def start_job_thread(database: Database, settings: Settings, job_id: int) -> threading.Thread:
    """Run the job beside the web request that started it (the page shows its progress from the job row)."""
    thread = threading.Thread(
        target=run_job, args=(database, settings, job_id), name=f"certificates-{job_id}", daemon=True
    )
    thread.start()
    return thread


def is_stale(job: certs.CertificateJob) -> bool:
    """Queued or running, but no worker has touched it lately: its process went away; start it again."""
    if job.finished:
        return False
    last = job.heartbeat_at or job.created_at
    return utcnow() - last > STALE_AFTER
