"""How long the free text and uploads of an ended program are kept, and what is taken off when that time is over.

The Council needs the results report (one volume, with the teams' reflections, observations and forms) and the
certificates within 30 days after the program ends (seed 004 §3.3); the district keeps the texts a while longer
(the `retention_days_after_end` setting) and then removes them. What is removed: the teachers' reflections and
the trainers' comments on them, the Buddies' observation texts and notes on students, the free-text answers of the
tracking forms, the notes of element sessions (also inside the corrections' history), and the evidence files.
What stays: every date, hour, attendance, role, cycle, grade's numbers and certificate (its verification code and
what /verify shows), so eligibility, the logbooks' hours, the certificates and the results report's figures are
unchanged. A cancelled program has no certificates and no end: it is not touched here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow
from models.corrections import FORM, OBSERVATION, SESSION, RecordChange
from models.cycles import Cycle, ElementSession
from models.evidence import FOLDER, Evidence
from models.forms import FormEntry, free_text_fields
from models.observations import Observation
from models.programs import Program
from models.reflections import Grade, Reflection
from models.states import ProgramState
from models.teams import Team

OBSERVATION_TEXTS = ("lesson", "students_did", "students_learned", "evidence", "suggestions")
# An ended program's state, and the one after it; a cancelled program never ended.
ENDED_STATES = (ProgramState.ENDED, ProgramState.CERTIFICATES_REQUESTED)


class RetentionRun(Base):
    """One retention run that changed the database (dry runs leave none): when, and how much it removed."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    trigger: Mapped[str] = mapped_column(String(16))  # "command" or "worker"
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


@dataclass
class Removed:
    """What a run removed (or would remove); `files` are the evidence files' names in the evidence folder, for the
    caller to delete once the transaction has committed."""

    programs: int = 0
    reflections: int = 0
    grade_comments: int = 0
    observations: int = 0
    form_entries: int = 0
    session_notes: int = 0
    record_changes: int = 0
    evidence: int = 0
    read_log: int = 0
    drafts: int = 0  # typed text kept from refused posts, past its week
    files: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "programs": self.programs,
            "reflections": self.reflections,
            "grade_comments": self.grade_comments,
            "observations": self.observations,
            "form_entries": self.form_entries,
            "session_notes": self.session_notes,
            "record_changes": self.record_changes,
            "evidence": self.evidence,
            "read_log": self.read_log,
            "drafts": self.drafts,
        }

    @property
    def total(self) -> int:
        return sum(count for name, count in self.counts().items() if name != "programs")


def expired_programs(db: Session, ended_before: date) -> list[Program]:
    """Every platform's ended programs whose last day is before `ended_before`."""
    return list(
        db.scalars(
            select(Program)
            .where(Program.state.in_(ENDED_STATES), Program.ended_on.is_not(None), Program.ended_on < ended_before)
            .order_by(Program.id)
        )
    )


def _cycle_ids(db: Session, program: Program) -> list[int]:
    return list(db.scalars(select(Cycle.id).join(Team).where(Team.program_id == program.id)))


def _blank(values: dict[str, Any] | None, keys: frozenset[str] | tuple[str, ...]) -> tuple[dict[str, Any] | None, bool]:
    if not values:
        return values, False
    cleared = dict(values)
    for key in keys:
        if key in cleared and cleared[key] not in ("", [], None):
            cleared[key] = [] if isinstance(cleared[key], list) else ""
    return cleared, cleared != values


def remove_free_text(db: Session, program: Program, removed: Removed, *, dry_run: bool = False) -> None:
    """Take the free text and evidence off one ended program (or, with `dry_run`, only count them into `removed`)."""
    cycles = _cycle_ids(db, program)
    removed.programs += 1
    for reflection in db.scalars(select(Reflection).where(Reflection.cycle_id.in_(cycles), Reflection.text != "")):
        removed.reflections += 1
        if not dry_run:
            reflection.text = ""
    grades = select(Grade).join(Reflection).where(Reflection.cycle_id.in_(cycles), Grade.comment != "")
    for grade in db.scalars(grades):
        removed.grade_comments += 1
        if not dry_run:
            grade.comment = ""
    for observation in db.scalars(select(Observation).where(Observation.cycle_id.in_(cycles))):
        if any(getattr(observation, name) for name in OBSERVATION_TEXTS) or observation.student_notes:
            removed.observations += 1
            if not dry_run:
                for name in OBSERVATION_TEXTS:
                    setattr(observation, name, "")
                observation.student_notes = []
    form_fields: dict[int, frozenset[str]] = {}
    for entry in db.scalars(select(FormEntry).where(FormEntry.cycle_id.in_(cycles))):
        form_fields[entry.id] = free_text_fields(entry.form)
        answers, changed = _blank(entry.answers, form_fields[entry.id])
        if changed:
            removed.form_entries += 1
            if not dry_run:
                entry.answers = answers or {}
    sessions = select(ElementSession).where(ElementSession.cycle_id.in_(cycles), ElementSession.notes != "")
    for session in db.scalars(sessions):
        removed.session_notes += 1
        if not dry_run:
            session.notes = ""
    keys_of = {SESSION: ("notes",), OBSERVATION: (*OBSERVATION_TEXTS, "student_notes")}
    for change in db.scalars(select(RecordChange).where(RecordChange.program_id == program.id)):
        keys = form_fields.get(change.record_id, frozenset()) if change.kind == FORM else keys_of.get(change.kind, ())
        before, changed_before = _blank(change.before, keys)
        after, changed_after = _blank(change.after, keys)
        if changed_before or changed_after:
            removed.record_changes += 1
            if not dry_run:
                change.before, change.after = before or {}, after
    for evidence in db.scalars(select(Evidence).where(Evidence.cycle_id.in_(cycles)).order_by(Evidence.id)):
        removed.evidence += 1
        if evidence.storage == FOLDER:  # bytes in the database leave with the row
            removed.files.append(evidence.stored_name)
        if not dry_run:
            db.delete(evidence)
    db.flush()


def last_run(db: Session) -> RetentionRun | None:
    return db.scalars(select(RetentionRun).order_by(RetentionRun.ran_at.desc()).limit(1)).first()
