"""The bulk certificate issue a trainer starts: worked to its end beside the request that started it, one batch per
transaction, its progress counted on the job row for the progress page. The certificates and their `earned`
statements of a batch commit together or not at all (lti_tool/services/certificates.py issues them)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from lti_tool.services.certificates import issue_certificates
from lti_tool.settings import Settings
from lti_tool.workers.loop import Loop, Running
from models import certificates as certs
from models.base import utcnow
from models.database import Database
from models.eligibility import Eligibility
from models.errors import InvalidInput, ProgramError
from models.facts import program_eligibility

log = logging.getLogger(__name__)

BATCH = 25
# A running job whose worker has said nothing for this long is taken over (its process stopped mid-way).
STALE_AFTER = timedelta(seconds=30)


@dataclass
class CertificatePassReport:
    worked: bool = False  # the job was claimed or a batch issued; False once it is done, failed or held elsewhere
    issued: int = 0

    @property
    def handled(self) -> int:
        return 1 if self.worked else 0

    def summary(self) -> str:
        return f"certificates: issued {self.issued}"


class CertificateJobRun:
    """One bulk-issue job: the first pass claims it, each later pass issues one batch, until none are waiting."""

    def __init__(self, database: Database, settings: Settings, job_id: int, batch: int = BATCH) -> None:
        self.database = database
        self.settings = settings
        self.job_id = job_id
        self.batch = batch
        self._eligibility: dict[int, Eligibility] | None = None
        self._over = False

    @property
    def name(self) -> str:
        return f"certificates-{self.job_id}"

    def run_once(self) -> CertificatePassReport:
        if self._over:
            return CertificatePassReport()
        try:
            if self._eligibility is None:
                return self._claim()
            return self._issue_batch(self._eligibility)
        except ProgramError as refused:  # a rule refused it, e.g. the Council's 30 days ended while it ran
            log.info("certificate job %s refused: %s", self.job_id, refused.code)
            problems = refused.problems if isinstance(refused, InvalidInput) else []
            return self._fail(problems[0].code if problems else refused.code)
        except Exception as error:  # the job row says what went wrong; the trainer may start it again
            log.exception("certificate job %s failed", self.job_id)
            return self._fail(type(error).__name__)

    def _fail(self, error: str) -> CertificatePassReport:
        self._over = True
        with self.database.transaction() as db:
            job = db.get(certs.CertificateJob, self.job_id)
            if job is not None:
                job.state = certs.JobState.FAILED
                job.error = error
                job.finished_at = utcnow()
        return CertificatePassReport()

    def _claim(self) -> CertificatePassReport:
        with self.database.transaction() as db:
            job = certs.claim_job(db, self.job_id, utcnow(), STALE_AFTER)
            if job is None:  # finished, or another worker has it
                self._over = True
                return CertificatePassReport()
            # An ended program takes no more records, so its eligibility holds for the whole job: read it once.
            self._eligibility = program_eligibility(db, job.program)
            job.total = job.issued + len(certs.waiting_for_certificate(db, job.program, self._eligibility))
        return CertificatePassReport(worked=True)

    def _issue_batch(self, eligibility: dict[int, Eligibility]) -> CertificatePassReport:
        with self.database.transaction() as db:
            job = db.get(certs.CertificateJob, self.job_id)
            assert job is not None
            program = job.program
            waiting = certs.waiting_for_certificate(db, program, eligibility)
            if not waiting:
                job.state = certs.JobState.DONE
                job.finished_at = job.heartbeat_at = utcnow()
                self._over = True
                return CertificatePassReport()
            issued = issue_certificates(
                db,
                self.settings,
                program,
                issued_by_id=job.requested_by_id,
                member_ids=waiting[: self.batch],
                eligibility=eligibility,
                late_reason=job.late_reason,
            )
            job.issued += len(issued)
            job.total = max(job.total, job.issued)
            job.heartbeat_at = utcnow()
        return CertificatePassReport(worked=True, issued=len(issued))


def run_job(database: Database, settings: Settings, job_id: int, batch: int = BATCH) -> None:
    """Work the job to its end in this thread."""
    Loop(CertificateJobRun(database, settings, job_id, batch)).run(threading.Event(), until_idle=True)


def start_job(database: Database, settings: Settings, job_id: int) -> Running:
    """Run the job beside the web request that started it (the page shows its progress from the job row)."""
    return Loop(CertificateJobRun(database, settings, job_id)).start(until_idle=True)


def is_stale(job: certs.CertificateJob) -> bool:
    """Queued or running, but no worker has touched it lately: its process went away; start it again."""
    if job.finished:
        return False
    last = job.heartbeat_at or job.created_at
    return utcnow() - last > STALE_AFTER
