"""The reminders' scheduler: every few minutes (never in the quiet hours) one pass writes the time-based reminders
that are due (lti_tool/services/reminders.py). Any number of schedulers may run, in any number of processes: a
reminder's once-key is unique, so the second writer of the same reminder writes nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from lti_tool.services.reminders import ReminderReport, write_due_reminders
from models.base import utcnow
from models.database import Database

log = logging.getLogger(__name__)

EVERY = timedelta(minutes=5)


class ReminderJob:
    name = "reminders"

    def __init__(self, database: Database, clock: Callable[[], datetime] = utcnow, every: timedelta = EVERY) -> None:
        self.database = database
        self.clock = clock
        self.every = every
        self._next_at: datetime | None = None

    def run_once(self) -> ReminderReport:
        now = self.clock()
        if self._next_at is not None and now < self._next_at:
            return ReminderReport()
        with self.database.transaction() as db:
            report = write_due_reminders(db, now)
        self._next_at = now + self.every
        if report.written:
            log.info("%s", report.summary())
        return report
