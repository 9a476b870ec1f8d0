"""Erasing a person at their request (Thailand's PDPA §33) while the Council's record stays: what the tool holds of
theirs, the rules of a pseudonym, and the erasure itself. Rules and queries only; the caller owns the transaction.

Our reading of what stays and what goes. The Council's procedure (seed 004 §3.3) needs the results report and the
certificates: that the person took part, in which teams, cycles and roles, their hours and their certificate. So
every row that eligibility and the report count stays (memberships, attendance, reflections, observations, grades),
under a pseudonym the district chooses. What goes is what names them or what they wrote:
- their name, given and family names and e-mail (the tool keeps no LINE link or other contact);
- the text of their reflections and of the observations they wrote as a Buddy (the rows stay: they count);
- a team's tracking form that they alone wrote: saved by them and never changed since. A form's row keeps only its
  last writer, so once a form has been corrected its first writer is unknown and it counts as written with others:
  it keeps its text (the team's record), as does a form someone else also wrote;
- the notes of an element session when they alone wrote them (recorded it, and no one else corrected it); the
  session itself stays, with its date, hours and attendance;
- the history of those records (the values before and after a correction) and every reason they gave for one;
- the evidence files they attached (rows and files), their drafts and their open sessions;
- the comments of the grades given to their reflections (written to them, about them), here and in scores still
  on their way to the gradebook.
The erasure itself is kept: who erased, when, why and the pseudonym, never the earlier name.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, delete, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow
from models.certificates import Certificate
from models.corrections import FORM, OBSERVATION, SESSION, RecordChange
from models.cycles import ElementSession, SessionAttendance
from models.drafts import Draft
from models.errors import InvalidInput, Problem, ProgramError
from models.evidence import FOLDER, Evidence
from models.forms import FormEntry, free_text_fields
from models.line import unlink_person
from models.notices import Notice, NoticeDelivery, NoticePreference
from models.observations import Observation
from models.people import Membership, Person
from models.plan_versions import PlanVersion
from models.programs import Program
from models.reflections import Grade, Reflection
from models.scores import ScorePost
from models.sessions import AppSession

MAX_PSEUDONYM = 100
MAX_REASON = 1000
_OBSERVATION_TEXT = ("lesson", "students_did", "students_learned", "evidence", "suggestions")


class PersonErasure(Base):
    """One erasure: the person's row stays under the pseudonym; who erased them, when and why are kept."""

    __tablename__ = "person_erasures"
    __table_args__ = (UniqueConstraint("platform_id", "pseudonym"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(MAX_PSEUDONYM))
    reason: Mapped[str] = mapped_column(Text)
    erased_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What went, counted per kind (the page's words for them are the web layer's): {"reflections": 3, …}.
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


class AlreadyErased(ProgramError):
    """A person is erased once; their row already carries the pseudonym."""

    code = "already_erased"

    def __init__(self, person_id: int) -> None:
        super().__init__(f"person {person_id} is already erased", person_id=person_id)


class CannotEraseYourself(ProgramError):
    """An administrator's own erasure is done by another administrator (their session would end half-way)."""

    code = "cannot_erase_yourself"

    def __init__(self, person_id: int) -> None:
        super().__init__(f"person {person_id} may not erase themselves", person_id=person_id)


@dataclass(frozen=True)
class Holdings:
    """What the tool holds of one person that an erasure touches: what goes, and what stays."""

    person: Person
    memberships: list[Membership]
    reflections: list[Reflection]  # their text goes; the rows count toward eligibility and stay
    observations: list[Observation]  # written as a Buddy: their text goes, the rows stay
    forms_alone: list[FormEntry]  # answers go
    forms_shared: list[FormEntry]  # written with others: kept
    notes_alone: list[ElementSession]  # notes go
    notes_shared: list[ElementSession]  # notes written with others: kept
    evidence: list[Evidence]  # rows and files go
    grade_comments: list[Grade]  # comments to them go
    score_comments: list[ScorePost]  # the same comments on their way to the gradebook
    changes: list[RecordChange]  # history holding their text, or a reason they gave
    text_records: frozenset[tuple[str, int]]  # (kind, record id) whose history loses its text
    drafts: int
    app_sessions: int
    certificates: list[Certificate]  # stay, under the pseudonym
    attended: int  # element sessions attended: stay
    hours: Decimal  # their hours in those sessions: stay

    @property
    def has_name(self) -> bool:
        person = self.person
        return bool(person.name or person.given_name or person.family_name)

    def counts(self) -> dict[str, int]:
        """What goes, per kind (kept with the erasure)."""
        return {
            "reflections": sum(1 for r in self.reflections if r.text),
            "observations": len(self.observations),
            "forms": len(self.forms_alone),
            "session_notes": len(self.notes_alone),
            "evidence": len(self.evidence),
            "grade_comments": len(self.grade_comments),
            "history": len(self.changes),
            "drafts": self.drafts,
            "app_sessions": self.app_sessions,
        }


def _ids(rows: Iterable[Membership]) -> list[int]:
    return [m.id for m in rows]


UNKNOWN = -1  # a writer the tool no longer knows: someone else, as far as an erasure is concerned


def _authors(db: Session, kind: str, records: dict[int, int], *, last_writer: bool = False) -> dict[int, set[int]]:
    """Who wrote each record: `records` maps it to its recorder, and everyone who changed it is added. With
    `last_writer` (a form, whose row keeps only its last writer) a changed record's first writer is unknown."""
    found = {record_id: {by} for record_id, by in records.items()}
    if records:
        for record_id, by in db.execute(
            select(RecordChange.record_id, RecordChange.changed_by_id).where(
                RecordChange.kind == kind, RecordChange.record_id.in_(list(records))
            )
        ):
            found[record_id] |= {UNKNOWN if by is None else by, *([UNKNOWN] if last_writer else [])}
    return found


def holdings(db: Session, person: Person) -> Holdings:
    """Everything an erasure of `person` touches, by precise queries over their memberships (one platform's)."""
    memberships = list(db.scalars(select(Membership).where(Membership.person_id == person.id).order_by(Membership.id)))
    mine = _ids(memberships)
    me = set(mine)
    reflections = list(db.scalars(select(Reflection).where(Reflection.membership_id.in_(mine)).order_by(Reflection.id)))
    observations = list(db.scalars(select(Observation).where(Observation.buddy_id.in_(mine)).order_by(Observation.id)))
    # Forms: any they saved last or corrected; alone when every known writer is them.
    changed_forms = select(RecordChange.record_id).where(
        RecordChange.kind == FORM, RecordChange.changed_by_id.in_(mine)
    )
    forms = list(
        db.scalars(
            select(FormEntry)
            .where(or_(FormEntry.updated_by_id.in_(mine), FormEntry.id.in_(changed_forms)))
            .order_by(FormEntry.id)
        )
    )
    form_authors = _authors(db, FORM, {f.id: f.updated_by_id for f in forms}, last_writer=True)
    forms_alone = [f for f in forms if form_authors[f.id] <= me]
    # Session notes: any session they recorded or corrected that has notes; alone when no one else wrote them.
    changed_sessions = select(RecordChange.record_id).where(
        RecordChange.kind == SESSION, RecordChange.changed_by_id.in_(mine)
    )
    sessions = list(
        db.scalars(
            select(ElementSession)
            .where(
                or_(ElementSession.created_by_id.in_(mine), ElementSession.id.in_(changed_sessions)),
                ElementSession.notes != "",
            )
            .order_by(ElementSession.id)
        )
    )
    session_authors = _authors(db, SESSION, {s.id: s.created_by_id for s in sessions})
    notes_alone = [s for s in sessions if session_authors[s.id] <= me]
    changes, records = _changes_to_scrub(db, mine, observations, forms_alone, notes_alone)
    grades = list(
        db.scalars(
            select(Grade)
            .join(Reflection)
            .where(Reflection.membership_id.in_(mine), Grade.comment != "")
            .order_by(Grade.id)
        )
    )
    attended = db.execute(
        select(func.count(), func.coalesce(func.sum(ElementSession.hours), 0))
        .select_from(SessionAttendance)
        .join(ElementSession, ElementSession.id == SessionAttendance.session_id)
        .where(SessionAttendance.membership_id.in_(mine), ElementSession.withdrawn_at.is_(None))
    ).one()
    return Holdings(
        person=person,
        memberships=memberships,
        reflections=reflections,
        observations=observations,
        forms_alone=forms_alone,
        forms_shared=[f for f in forms if f not in forms_alone],
        notes_alone=notes_alone,
        notes_shared=[s for s in sessions if s not in notes_alone],
        evidence=list(db.scalars(select(Evidence).where(Evidence.uploaded_by_id.in_(mine)).order_by(Evidence.id))),
        grade_comments=grades,
        score_comments=[
            post
            for post in db.scalars(
                select(ScorePost).where(ScorePost.platform_id == person.platform_id, ScorePost.user_id == person.sub)
            )
            if post.score.get("comment")
        ],
        changes=changes,
        text_records=frozenset(records),
        drafts=int(db.scalar(select(func.count()).select_from(Draft).where(Draft.person_id == person.id)) or 0),
        app_sessions=int(
            db.scalar(select(func.count()).select_from(AppSession).where(AppSession.person_id == person.id)) or 0
        ),
        certificates=list(db.scalars(select(Certificate).where(Certificate.membership_id.in_(mine)))),
        attended=int(attended[0]),
        hours=Decimal(attended[1]),
    )


def _changes_to_scrub(
    db: Session,
    mine: list[int],
    observations: list[Observation],
    forms: list[FormEntry],
    sessions: list[ElementSession],
) -> tuple[list[RecordChange], set[tuple[str, int]]]:
    """History rows that hold the person's text: those of the records whose text goes (a withdrawn form's first writer
    is unknown: its history stays), and every change they gave a reason for."""
    records = {(OBSERVATION, o.id) for o in observations} | {(FORM, f.id) for f in forms}
    records |= {(SESSION, s.id) for s in sessions}
    found: dict[int, RecordChange] = {}
    kinds = {kind for kind, _ in records}
    for kind in kinds:
        ids = [record_id for k, record_id in records if k == kind]
        for change in db.scalars(
            select(RecordChange).where(RecordChange.kind == kind, RecordChange.record_id.in_(ids))
        ):
            found[change.id] = change
    for change in db.scalars(
        select(RecordChange).where(RecordChange.changed_by_id.in_(mine), RecordChange.reason != "")
    ):
        found[change.id] = change
    return sorted(found.values(), key=lambda c: c.id), records


# --- The pseudonym -----------------------------------------------------------------------------------------------


def pseudonym_problems(db: Session, platform_id: int, pseudonym: str, reason: str) -> list[Problem]:
    """A pseudonym is required, short, and names no one else on the platform (no one's name, no earlier erasure's
    pseudonym, compared without regard to case); the reason (the request's reference, say) is required too."""
    found: list[Problem] = []
    wanted = pseudonym.strip()
    if not wanted:
        found.append(Problem("pseudonym", "required", {}))
    elif len(wanted) > MAX_PSEUDONYM:
        found.append(Problem("pseudonym", "too_long", {"most": MAX_PSEUDONYM}))
    else:
        lowered = wanted.lower()
        named = select(Person.id).where(Person.platform_id == platform_id, func.lower(Person.name) == lowered)
        given = select(PersonErasure.id).where(
            PersonErasure.platform_id == platform_id, func.lower(PersonErasure.pseudonym) == lowered
        )
        if db.scalars(named.limit(1)).first() is not None or db.scalars(given.limit(1)).first() is not None:
            found.append(Problem("pseudonym", "taken", {}))
    text = reason.strip()
    if not text:
        found.append(Problem("reason", "required", {}))
    elif len(text) > MAX_REASON:
        found.append(Problem("reason", "too_long", {"most": MAX_REASON}))
    return found


# --- The erasure --------------------------------------------------------------------------------------------------


def _blank(values: Any) -> Any:
    """A JSON value with every text in it emptied (keys, numbers, dates and ids stay)."""
    if isinstance(values, dict):
        return {key: _blank(value) for key, value in values.items()}
    if isinstance(values, list):
        return [_blank(value) for value in values]
    return "" if isinstance(values, str) else values


def _scrub_change(
    change: RecordChange, text_goes: bool, reason_goes: bool, form_texts: frozenset[str] | None = None
) -> None:
    if text_goes and form_texts is not None:  # a form's history: its free text goes, its choices and numbers stay
        change.before = {k: _blank(v) if k in form_texts else v for k, v in change.before.items()}
        if change.after is not None:
            change.after = {k: _blank(v) if k in form_texts else v for k, v in change.after.items()}
    elif text_goes:
        keep = {"cycle", "element", "held_on", "hours", "attendee_ids", "cycle_id", "form"}
        change.before = {k: v if k in keep else _blank(v) for k, v in change.before.items()}
        if change.after is not None:
            change.after = {k: v if k in keep else _blank(v) for k, v in change.after.items()}
    if reason_goes:
        change.reason = ""


def _rename_in_plans(db: Session, held: Holdings, name: str, pseudonym: str) -> None:
    """The plans sent to the Council name every member and the facilitator: the pseudonym replaces the person's name
    there too (the plan's history and its differences show it)."""
    mine = set(_ids(held.memberships))
    contexts = {m.context_id for m in held.memberships}
    versions = select(PlanVersion).join(Program, PlanVersion.program_id == Program.id)
    for version in db.scalars(versions.where(Program.context_id.in_(contexts))):
        snapshot = copy.deepcopy(version.snapshot)
        for team in snapshot.get("teams", []):
            for member in team.get("members", []):
                if member.get("id") in mine:
                    member["name"] = pseudonym
            if name and team.get("facilitator") == name:
                team["facilitator"] = pseudonym
        if snapshot != version.snapshot:
            version.snapshot = snapshot  # a new value: SQLAlchemy's JSON does not see changes made in place


def erase(
    db: Session,
    held: Holdings,
    *,
    pseudonym: str,
    reason: str,
    erased_by_id: int | None,
    now: datetime,
) -> tuple[PersonErasure, list[str]]:
    """Erase what `held` says goes, put the pseudonym in the person's name (and on their certificates), and keep the
    erasure. Returns it and the stored names of the evidence files in the evidence folder, which the caller deletes
    once the transaction commits (bytes in the database go with their rows, in this transaction).
    InvalidInput for a bad pseudonym or reason, AlreadyErased for a second erasure."""
    person = held.person
    if person.erased_at is not None:
        raise AlreadyErased(person.id)
    if problems := pseudonym_problems(db, person.platform_id, pseudonym, reason):
        raise InvalidInput(problems)
    pseudonym, mine = pseudonym.strip(), set(_ids(held.memberships))
    counts = held.counts()
    for reflection in held.reflections:
        reflection.text = ""
    for observation in held.observations:
        for name in _OBSERVATION_TEXT:
            setattr(observation, name, "")
        observation.student_notes = []
    form_texts = {entry.id: free_text_fields(entry.form) for entry in held.forms_alone}
    for entry in held.forms_alone:  # the words go; choices, dates and numbers stay for the Council's figures
        entry.answers = {key: "" if key in form_texts[entry.id] else value for key, value in entry.answers.items()}
    for session in held.notes_alone:
        session.notes = ""
    for change in held.changes:
        texts = form_texts.get(change.record_id) if change.kind == FORM else None
        _scrub_change(change, (change.kind, change.record_id) in held.text_records, change.changed_by_id in mine, texts)
    for grade in held.grade_comments:
        grade.comment = ""
    for post in held.score_comments:
        post.score = {key: value for key, value in post.score.items() if key != "comment"}
    stored = [item.stored_name for item in held.evidence if item.storage == FOLDER]
    for item in held.evidence:
        db.delete(item)
    for certificate in held.certificates:
        certificate.holder_name = pseudonym
    db.execute(delete(Draft).where(Draft.person_id == person.id))
    db.execute(delete(AppSession).where(AppSession.person_id == person.id))
    # Notices (a grade's comment among them), the LINE user id and the notice choices go; e-mail goes below.
    notice_ids = select(Notice.id).where(Notice.person_id == person.id).scalar_subquery()
    db.execute(delete(NoticeDelivery).where(NoticeDelivery.notice_id.in_(notice_ids)))
    db.execute(delete(Notice).where(Notice.person_id == person.id))
    db.execute(delete(NoticePreference).where(NoticePreference.person_id == person.id))
    unlink_person(db, person.id)
    _rename_in_plans(db, held, person.name, pseudonym)
    person.name, person.given_name, person.family_name, person.email = pseudonym, "", "", None
    person.erased_at = now
    erasure = PersonErasure(
        platform_id=person.platform_id,
        person_id=person.id,
        pseudonym=pseudonym,
        reason=reason.strip(),
        erased_by_id=erased_by_id,
        erased_at=now,
        counts=counts,
    )
    db.add(erasure)
    db.flush()
    return erasure, stored
