"""The standing work of a worker process: learning records to each configured LRS, grades to the LMS gradebooks, and
once a day the retention run (personal data kept no longer than the settings say).

`plc-bridge worker` runs these jobs in its own process (any number at once on PostgreSQL); in the embedded default
(`PLC_WORKER_THREAD=true`) the entry points that serve the app start them as threads beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lti_tool.lti.service_tokens import ServiceClient
from lti_tool.settings import Settings
from lti_tool.workers.loop import Job, Loop, Running
from lti_tool.workers.notices import NoticeDeliveryJob
from lti_tool.workers.reminders import ReminderJob
from lti_tool.workers.retention import RetentionJob
from lti_tool.workers.scores import ScoreDelivery
from models.database import Database
from xapi.delivery import OutboxDelivery


def delivery_jobs(database: Database, settings: Settings, services: ServiceClient) -> list[Job]:
    """One job per kind of delivery (learning records, scores, notices), the reminders' scheduler and the daily
    retention run; no learning-record job while no LRS is configured (the records wait)."""
    jobs: list[Job] = []
    if settings.lrs:
        jobs.append(
            OutboxDelivery(database, settings.lrs, settings.outbox_batch_size, settings.outbox_max_backoff_seconds)
        )
    jobs.append(
        ScoreDelivery(
            database,
            services,
            max_backoff_seconds=settings.outbox_max_backoff_seconds,
            keyset_url=settings.public_base_url + "/lti/jwks",
        )
    )
    jobs.append(NoticeDeliveryJob(database, settings, max_backoff_seconds=settings.outbox_max_backoff_seconds))
    jobs.append(ReminderJob(database))
    jobs.append(RetentionJob(database, settings))
    return jobs


@dataclass
class Workers:
    """Loops running in this process; `stop()` ends them all after their current pass."""

    running: list[Running] = field(default_factory=list)

    def stop(self, wait_seconds: float = 10.0) -> None:
        for loop in self.running:
            loop.stop_event.set()
        for loop in self.running:
            loop.thread.join(wait_seconds)


def start_loops(jobs: list[Job], poll_seconds: float = 1.0) -> Workers:
    return Workers([Loop(job, poll_seconds=poll_seconds).start() for job in jobs])


def start_in_process(database: Database, settings: Settings, services: ServiceClient) -> Workers:
    """The embedded default: the delivery jobs as daemon threads of the web process, unless the settings leave them
    to `plc-bridge worker` (PLC_WORKER_THREAD=false)."""
    if not settings.worker_thread:
        return Workers()
    return start_loops(delivery_jobs(database, settings, services))
