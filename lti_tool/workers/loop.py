"""One loop for every kind of background work: a job's passes, repeated in a thread until it is stopped.

A job is anything with a `name` and a `run_once()` that does one pass in its own transactions and reports what it
handled. The loop sleeps for the poll interval when a pass found nothing to do, or when its report says that it left
nothing more waiting (`more_waiting` false: its batches were not full), so what comes in meanwhile goes out together
in the next pass rather than one request each; it backs off (exponential, with jitter) while passes fail, so a
database outage neither ends a worker nor has it hammer the database.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Protocol

from xapi.backoff import backoff_seconds

log = logging.getLogger(__name__)


class PassReport(Protocol):
    @property
    def handled(self) -> int:
        """How many items this pass settled (sent, parked or put off); 0 means there was nothing to do."""
        ...

    def summary(self) -> str: ...


class Job(Protocol):
    @property
    def name(self) -> str: ...

    def run_once(self) -> PassReport: ...


@dataclass
class Running:
    """A loop running in its own daemon thread."""

    thread: threading.Thread
    stop_event: threading.Event

    def stop(self, wait_seconds: float = 10.0) -> None:
        """Ask the loop to end after its current pass, and wait that long for it."""
        self.stop_event.set()
        self.thread.join(wait_seconds)


class Loop:
    def __init__(self, job: Job, *, poll_seconds: float = 1.0, max_backoff_seconds: float = 60.0) -> None:
        self.job = job
        self.poll_seconds = poll_seconds
        self.max_backoff_seconds = max(max_backoff_seconds, poll_seconds)

    def run(self, stop: threading.Event, *, until_idle: bool = False) -> None:
        """Run passes until `stop` is set; with `until_idle`, end at the first pass that finds nothing to do or
        fails (a job that is worked to its end, like a bulk certificate issue)."""
        failures = 0
        while not stop.is_set():
            try:
                report = self.job.run_once()
            except Exception:  # a database outage must not end the worker; log and try again
                log.exception("%s: pass failed", self.job.name)
                if until_idle:
                    return
                failures += 1
                stop.wait(backoff_seconds(failures, self.poll_seconds, self.max_backoff_seconds))
                continue
            failures = 0
            if report.handled == 0:
                if until_idle:
                    return
                stop.wait(self.poll_seconds)
            elif not getattr(report, "more_waiting", True):  # a report that does not say: at once, as before
                stop.wait(self.poll_seconds)

    def start(self, *, until_idle: bool = False) -> Running:
        """Run the loop in a daemon thread of this process."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self.run, args=(stop,), kwargs={"until_idle": until_idle}, name=self.job.name, daemon=True
        )
        thread.start()
        return Running(thread, stop)
