"""The retention run (PDPA): removes the free text and evidence of programs that ended longer ago than the district
keeps them (`PLC_RETENTION_DAYS_AFTER_END`), and the read log's entries older than `PLC_READ_LOG_DAYS`, on every
platform. `plc-bridge retention run` and the worker's daily job both call `run_retention`, in their transaction;
the files leave the disk once it has committed (`remove_files`)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from lti_tool.services.evidence import evidence_folder
from lti_tool.settings import Settings
from models.calendar import program_day
from models.drafts import purge_expired
from models.read_log import purge_read_log
from models.retention import Removed, RetentionRun, expired_programs, remove_free_text

log = logging.getLogger(__name__)


def run_retention(db: Session, settings: Settings, now: datetime, *, trigger: str, dry_run: bool = False) -> Removed:
    """Remove (or, with `dry_run`, count) what has expired at `now`; a real run is recorded with its counts."""
    removed = Removed()
    ended_before = program_day(now) - timedelta(days=settings.retention_days_after_end)
    for program in expired_programs(db, ended_before):
        remove_free_text(db, program, removed, dry_run=dry_run)
    removed.read_log = purge_read_log(db, now - timedelta(days=settings.read_log_days), dry_run=dry_run)
    removed.drafts = purge_expired(db, now, dry_run=dry_run)
    if not dry_run:
        db.add(RetentionRun(ran_at=now, trigger=trigger, counts=removed.counts()))
        db.flush()
    log.info(
        "retention %s: %s",
        "dry run" if dry_run else "run",
        " ".join(f"{name}={count}" for name, count in removed.counts().items()),
    )
    return removed


def remove_files(settings: Settings, removed: Removed) -> int:
    """Delete the removed evidence's files in the evidence folder, after the transaction that deleted their rows has
    committed (bytes kept in the database went in that transaction)."""
    folder = evidence_folder(settings)
    gone = 0
    for name in removed.files:
        path = folder / name
        try:
            path.unlink(missing_ok=True)
            gone += 1
        except OSError:  # the row is gone; a file left behind is logged for whoever runs the server
            log.exception("retention: could not delete evidence file %s", path)
    return gone
