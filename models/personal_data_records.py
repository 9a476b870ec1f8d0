"""What `held_about` returns about a person (models/personal_data.py): one record type per kind of thing held, and
the whole, which the page, the JSON and the PDF of "My data" show."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class ErasureRecord:
    pseudonym: str
    erased_at: datetime


@dataclass(frozen=True)
class PersonRecord:
    platform: str  # the LMS's issuer
    lms_user_id: str  # the LTI `sub`
    name: str
    given_name: str
    family_name: str
    email: str | None
    locale: str | None
    first_seen_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CourseRecord:
    course: str
    course_id: str
    app_role: str
    lti_roles: list[str]
    status: str
    last_launch_at: datetime
    left_at: datetime | None


@dataclass(frozen=True)
class Where:
    """A program, team and cycle a record belongs to."""

    course: str
    program: str
    team: str
    cycle: int | None = None


@dataclass(frozen=True)
class TeamRecord:
    where: Where
    roles: list[tuple[int, str]]  # (cycle, "model" | "buddy")


@dataclass(frozen=True)
class SessionRecord:
    where: Where
    element: int
    held_on: date
    hours: Decimal
    recorded_by_me: bool
    notes: str  # only of a session they recorded: the notes are the writer's
    withdrawn: bool


@dataclass(frozen=True)
class FormRecord:
    where: Where
    form: str
    title: dict[str, str]
    answers: dict[str, str]
    updated_at: datetime


@dataclass(frozen=True)
class ObservationRecord:
    where: Where
    mine_as: str  # "buddy": I wrote it; "model": it is of my lesson
    lesson: str
    students_did: str
    students_learned: str
    evidence: str
    student_notes: list[dict[str, str]]
    suggestions: str
    submitted_at: datetime
    withdrawn: bool


@dataclass(frozen=True)
class GradeRecord:
    rubric: str
    scores: dict[str, int | float]
    total: Decimal
    max_score: Decimal
    comment: str
    graded_at: datetime


@dataclass(frozen=True)
class ReflectionRecord:
    where: Where
    text: str
    submitted_at: datetime
    grades: list[GradeRecord]


@dataclass(frozen=True)
class AssessmentRecord:
    """A competency level of the person: their own, or a trainer's rating of them (the trainer unnamed)."""

    program: str
    competency: str
    phase: str
    rater: str
    level: int
    assessed_at: datetime


@dataclass(frozen=True)
class CertificateRecord:
    code: str
    holder_name: str
    program: str
    agency: str
    cycles: int
    hours: Decimal
    issued_on: date
    revoked: bool
    revoked_reason: str


@dataclass(frozen=True)
class EvidenceRecord:
    where: Where
    file_name: str
    content_type: str
    size: int
    uploaded_at: datetime


@dataclass(frozen=True)
class DraftRecord:
    course: str
    page: str
    fields: dict[str, list[str]]
    saved_at: datetime


@dataclass(frozen=True)
class SignInRecord:
    course: str
    opened_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class AcknowledgementRecord:
    version: str
    acknowledged_at: datetime


@dataclass(frozen=True)
class NoticeRecord:
    kind: str
    params: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True)
class LineRecord:
    line_user_id: str
    linked_at: datetime
    blocked_at: datetime | None


@dataclass(frozen=True)
class PersonalData:
    """Everything held about one person, in the order the download shows it."""

    person: PersonRecord
    courses: list[CourseRecord] = field(default_factory=list)
    teams: list[TeamRecord] = field(default_factory=list)
    sessions_attended: list[SessionRecord] = field(default_factory=list)
    forms_written: list[FormRecord] = field(default_factory=list)
    observations: list[ObservationRecord] = field(default_factory=list)
    reflections: list[ReflectionRecord] = field(default_factory=list)
    certificates: list[CertificateRecord] = field(default_factory=list)
    competency_assessments: list[AssessmentRecord] = field(default_factory=list)
    evidence: list[EvidenceRecord] = field(default_factory=list)
    drafts: list[DraftRecord] = field(default_factory=list)
    sign_ins: list[SignInRecord] = field(default_factory=list)
    notice_acknowledgements: list[AcknowledgementRecord] = field(default_factory=list)
    erasures: list[ErasureRecord] = field(default_factory=list)  # the person's own erasure: when, and the pseudonym
    learning_record_ids: list[str] = field(default_factory=list)
    notices: list[NoticeRecord] = field(default_factory=list)
    notice_kinds_off: list[str] = field(default_factory=list)
    line_account: LineRecord | None = None

    def as_json(self) -> dict[str, Any]:
        """Plain JSON values: dates and times in ISO 8601 (UTC), decimals as strings."""
        converted: dict[str, Any] = _plain(dataclasses.asdict(self))
        return converted


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
