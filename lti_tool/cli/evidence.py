"""`plc-bridge evidence migrate`: move the evidence folder's files into the database, one file per transaction.

Resumable: a row whose bytes are in the database is skipped, and a run killed at any moment leaves every row either
moved (its chunks committed with the row's mark) or not (nothing of it committed); a file is deleted from the folder
only after its row's commit, and a later run deletes one that a killed run left behind. Every file is checked
against the digest recorded at upload, and again as read back from the database; a mismatch is refused.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from lti_tool.cli.context import open_database, settings_or_exit
from lti_tool.services.evidence import evidence_folder
from models.database import Database
from models.evidence import remove_stored_files
from models.evidence_chunks import Moved, evidence_in_database, folder_evidence_ids, move_to_database, moved_files_left


def migrate_folder(
    database: Database, folder: Path, *, dry_run: bool = False, limit: int | None = None
) -> tuple[Counter[Moved], list[str], int]:
    """Move (or, with `dry_run`, check) every folder file; the outcomes' counts, the problems in words, and how
    many files a stopped earlier run had left behind were deleted."""
    counts: Counter[Moved] = Counter()
    problems: list[str] = []
    left_behind = 0
    if not dry_run:
        with database.transaction() as db:
            left = moved_files_left(db, folder)
        left_behind = remove_stored_files(folder, left)
    with database.transaction() as db:
        ids = folder_evidence_ids(db)
        counts[Moved.ALREADY] = evidence_in_database(db)  # moved by an earlier run: skipped
    for evidence_id in ids:
        if limit is not None and counts[Moved.MOVED] >= limit:
            break
        with database.transaction() as db:
            outcome = move_to_database(db, folder, evidence_id, dry_run=dry_run)
            stored_name = outcome.detail
        counts[outcome.outcome] += 1
        if outcome.outcome is Moved.MOVED:
            remove_stored_files(folder, [stored_name])  # committed: the database holds it now
        elif outcome.outcome in (Moved.MISSING, Moved.MISMATCH):
            problems.append(f"evidence {evidence_id}: {outcome.outcome.value}: {outcome.detail}")
    return counts, problems, left_behind


@click.group(help="Evidence files: where their bytes are kept.")
def evidence() -> None:
    pass


@evidence.command(
    "migrate",
    help="Move the evidence files of PLC_EVIDENCE_PATH into the database (PLC_EVIDENCE_STORE=database), each checked"
    " by its SHA-256 digest; safe to stop and run again.",
)
@click.option("--dry-run", is_flag=True, help="Only check the files and count what would move; change nothing")
@click.option("--limit", type=int, default=None, help="Move at most this many files in this run")
def migrate(dry_run: bool, limit: int | None) -> None:
    settings = settings_or_exit()
    folder = evidence_folder(settings)
    counts, problems, left_behind = migrate_folder(open_database(settings), folder, dry_run=dry_run, limit=limit)
    for problem in problems:
        click.echo(problem, err=True)
    moved = counts[Moved.WOULD_MOVE] if dry_run else counts[Moved.MOVED]
    click.echo(
        f"evidence migrate{' (dry run: nothing changed)' if dry_run else ''}: "
        f"{'would move' if dry_run else 'moved'}={moved} "
        f"already_in_database={counts[Moved.ALREADY]} file_missing={counts[Moved.MISSING]} "
        f"digest_mismatch={counts[Moved.MISMATCH]} left_behind_removed={left_behind}"
    )
    if counts[Moved.MISMATCH] or counts[Moved.MISSING]:
        raise SystemExit(1)


COMMANDS = (evidence,)
