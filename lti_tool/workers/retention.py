"""The daily retention job (PDPA): once a day at most, over every platform, the free text and evidence of programs
ended longer ago than the district keeps them, the read log's old entries and drafts past their week are removed
(lti_tool/services/retention.py). `plc-bridge retention run` runs the same pass by hand."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lti_tool.services.retention import remove_files, run_retention
from lti_tool.settings import Settings
from models.base import utcnow
from models.database import Database
from models.retention import Removed, last_run

log = logging.getLogger(__name__)

EVERY = timedelta(days=1)
# Between runs the job asks the database whether a day has passed at most this often (another process may have run).
CHECK_EVERY = timedelta(minutes=10)


@dataclass
class RetentionReport:
    ran: bool = False
    removed: Removed = field(default_factory=Removed)
    dry_run: bool = False

    @property
    def handled(self) -> int:
        return self.removed.total if self.ran else 0

    def summary(self) -> str:
        if not self.ran:
            return "retention: not due (it runs once a day)"
        counts = " ".join(f"{name}={count}" for name, count in self.removed.counts().items())
        return f"retention{' (dry run: nothing changed)' if self.dry_run else ''}: {counts}"


def retention_pass(
    database: Database, settings: Settings, *, trigger: str, dry_run: bool = False, now: datetime | None = None
) -> RetentionReport:
    """One run in its own transaction; the evidence files are deleted only once it has committed."""
    with database.transaction() as db:
        removed = run_retention(db, settings, now or utcnow(), trigger=trigger, dry_run=dry_run)
    if not dry_run:
        remove_files(settings, removed)
    return RetentionReport(ran=True, removed=removed, dry_run=dry_run)


class RetentionJob:
    """The worker loop's job: a pass when no run (by any process) is recorded in the last day, else nothing."""

    name = "retention"

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self._next_check: datetime | None = None

    def run_once(self) -> RetentionReport:
        now = utcnow()
        if self._next_check is not None and now < self._next_check:
            return RetentionReport()
        with self.database.transaction() as db:
            previous = last_run(db)
            due = previous is None or previous.ran_at <= now - EVERY
        if not due:
            assert previous is not None
            self._next_check = min(previous.ran_at + EVERY, now + CHECK_EVERY)
            return RetentionReport()
        report = retention_pass(self.database, self.settings, trigger="worker", now=now)
        self._next_check = now + CHECK_EVERY
        log.info("%s", report.summary())
        return report
