"""What the tool holds about one person (PDPA B.E. 2562, the right of access): `held_about` collects it, table by
table, for the person's own download; whatever erases a person can walk the same list (`HELD_TABLES`).

A person is one platform's (issuer + LTI `sub`), so everything is reached from their own memberships, in courses of
their own platform. Other people's names and texts are left out: of an observation of their lesson the person gets
the observation, not the name of the Buddy who wrote it; of a grade, the grade and the comment, not the grader's name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.assessments import Assessment
from models.certificates import Certificate
from models.cycles import Cycle, ElementSession, SessionAttendance
from models.drafts import Draft
from models.erasure import PersonErasure
from models.evidence import Evidence
from models.forms import FormEntry, form_templates
from models.line import LineLink, LineLinkCode
from models.notices import Notice, NoticePreference
from models.observations import Observation
from models.outbox import OutboxStatement
from models.people import Context, Membership, Person
from models.personal_data_records import (
    AcknowledgementRecord,
    AssessmentRecord,
    CertificateRecord,
    CourseRecord,
    DraftRecord,
    ErasureRecord,
    EvidenceRecord,
    FormRecord,
    GradeRecord,
    LineRecord,
    NoticeRecord,
    ObservationRecord,
    PersonalData,
    PersonRecord,
    ReflectionRecord,
    SessionRecord,
    SignInRecord,
    TeamRecord,
    Where,
)
from models.privacy_notice import NoticeAcknowledgement, acknowledgements_of
from models.reflections import Reflection
from models.sessions import AppSession
from models.teams import CycleAssignment, TeamMember

# Every table that holds rows about a person, through their person id or one of their memberships.
HELD_TABLES = (
    Person,
    Membership,
    AppSession,
    TeamMember,
    CycleAssignment,
    SessionAttendance,
    ElementSession,
    FormEntry,
    Observation,
    Reflection,
    Certificate,
    Evidence,
    Draft,
    NoticeAcknowledgement,
    PersonErasure,
    OutboxStatement,
    Notice,
    NoticePreference,
    LineLink,
    LineLinkCode,
    Assessment,
)


def _where(cycle: Cycle, courses: dict[int, str]) -> Where:
    team = cycle.team
    return Where(courses.get(team.program.context_id, ""), team.program.name, team.name, cycle.number)


def held_about(db: Session, person_id: int) -> PersonalData:
    """Everything the tool holds about this person, and nothing about anyone else."""
    person = db.get(Person, person_id)
    if person is None:
        raise LookupError(f"no person {person_id}")
    memberships = list(
        db.scalars(
            select(Membership)
            .join(Context, Membership.context_id == Context.id)
            .where(Membership.person_id == person.id, Context.platform_id == person.platform_id)
            .order_by(Membership.id)
        )
    )
    mine = [m.id for m in memberships]
    courses = {m.context_id: m.context.title for m in memberships}
    return PersonalData(
        person=PersonRecord(
            platform=person.platform.issuer,
            lms_user_id=person.sub,
            name=person.name,
            given_name=person.given_name,
            family_name=person.family_name,
            email=person.email,
            locale=person.locale,
            first_seen_at=person.created_at,
            updated_at=person.updated_at,
        ),
        courses=[
            CourseRecord(
                course=m.context.title,
                course_id=m.context.context_id,
                app_role=m.app_role,
                lti_roles=list(m.lti_roles),
                status=m.status,
                last_launch_at=m.last_launch_at,
                left_at=m.inactive_since,
            )
            for m in memberships
        ],
        teams=_teams(db, mine, courses),
        sessions_attended=_sessions(db, mine, courses),
        forms_written=_forms(db, mine, courses),
        observations=_observations(db, mine, courses),
        reflections=_reflections(db, mine, courses),
        certificates=_certificates(db, mine),
        competency_assessments=[
            AssessmentRecord(a.program.name, a.competency, a.phase.value, a.rater_kind.value, a.level, a.assessed_at)
            for a in db.scalars(
                select(Assessment)
                .where(Assessment.membership_id.in_(mine))
                .order_by(Assessment.assessed_at, Assessment.id)
            )
        ],
        evidence=_evidence(db, mine, courses),
        drafts=[
            DraftRecord(courses.get(d.context_id, ""), d.path, dict(d.fields), d.saved_at)
            for d in db.scalars(
                select(Draft)
                .where(Draft.person_id == person.id, Draft.context_id.in_(list(courses)))
                .order_by(Draft.saved_at, Draft.id)
            )
        ],
        sign_ins=[
            SignInRecord(courses.get(s.context_id, ""), s.created_at, s.ended_at)
            for s in db.scalars(
                select(AppSession)
                .where(AppSession.person_id == person.id, AppSession.membership_id.in_(mine))
                .order_by(AppSession.created_at, AppSession.id)
            )
        ],
        notice_acknowledgements=[
            AcknowledgementRecord(a.version, a.acknowledged_at) for a in acknowledgements_of(db, person.id)
        ],
        erasures=[
            ErasureRecord(e.pseudonym, e.erased_at)
            for e in db.scalars(
                select(PersonErasure).where(PersonErasure.person_id == person.id).order_by(PersonErasure.id)
            )
        ],
        learning_record_ids=learning_records_about(db, person),
        notices=[
            NoticeRecord(n.kind, dict(n.params), n.created_at, n.read_at)
            for n in db.scalars(select(Notice).where(Notice.person_id == person.id).order_by(Notice.id))
        ],
        notice_kinds_off=sorted(
            p.kind
            for p in db.scalars(select(NoticePreference).where(NoticePreference.person_id == person.id))
            if not p.enabled
        ),
        line_account=next(
            (LineRecord(k.line_user_id, k.linked_at, k.blocked_at) for k in [db.get(LineLink, person.id)] if k),
            None,
        ),
    )


def _teams(db: Session, mine: list[int], courses: dict[int, str]) -> list[TeamRecord]:
    found: list[TeamRecord] = []
    rows = db.scalars(select(TeamMember).where(TeamMember.membership_id.in_(mine)).order_by(TeamMember.id))
    for row in rows:
        team = row.team
        roles = [(a.cycle_number, str(a.role)) for a in team.assignments if a.membership_id == row.membership_id]
        program = team.program
        found.append(TeamRecord(Where(courses.get(program.context_id, ""), program.name, team.name), roles))
    return found


def _sessions(db: Session, mine: list[int], courses: dict[int, str]) -> list[SessionRecord]:
    rows = db.scalars(
        select(ElementSession)
        .join(SessionAttendance, SessionAttendance.session_id == ElementSession.id)
        .where(SessionAttendance.membership_id.in_(mine))
        .order_by(ElementSession.held_on, ElementSession.id)
        .distinct()
    )
    return [
        SessionRecord(
            where=_where(s.cycle, courses),
            element=s.element,
            held_on=s.held_on,
            hours=s.hours,
            recorded_by_me=s.created_by_id in mine,
            notes=s.notes if s.created_by_id in mine else "",
            withdrawn=s.withdrawn_at is not None,
        )
        for s in rows
    ]


def _forms(db: Session, mine: list[int], courses: dict[int, str]) -> list[FormRecord]:
    templates = form_templates()
    rows = db.scalars(
        select(FormEntry).where(FormEntry.updated_by_id.in_(mine)).order_by(FormEntry.updated_at, FormEntry.id)
    )
    return [
        FormRecord(
            where=_where(e.cycle, courses),
            form=e.form,
            title=dict(templates[e.form].title) if e.form in templates else {},
            answers=dict(e.answers),
            updated_at=e.updated_at,
        )
        for e in rows
    ]


def _observations(db: Session, mine: list[int], courses: dict[int, str]) -> list[ObservationRecord]:
    rows = db.scalars(
        select(Observation)
        .where(Observation.buddy_id.in_(mine) | Observation.model_id.in_(mine))
        .order_by(Observation.submitted_at, Observation.id)
    )
    return [
        ObservationRecord(
            where=_where(o.cycle, courses),
            mine_as="buddy" if o.buddy_id in mine else "model",
            lesson=o.lesson,
            students_did=o.students_did,
            students_learned=o.students_learned,
            evidence=o.evidence,
            student_notes=[dict(n) for n in o.student_notes],
            suggestions=o.suggestions,
            submitted_at=o.submitted_at,
            withdrawn=o.withdrawn_at is not None,
        )
        for o in rows
    ]


def _reflections(db: Session, mine: list[int], courses: dict[int, str]) -> list[ReflectionRecord]:
    rows = db.scalars(
        select(Reflection).where(Reflection.membership_id.in_(mine)).order_by(Reflection.submitted_at, Reflection.id)
    )
    return [
        ReflectionRecord(
            where=_where(r.cycle, courses),
            text=r.text,
            submitted_at=r.submitted_at,
            grades=[
                GradeRecord(g.rubric_id, dict(g.scores), g.total, g.max_score, g.comment, g.graded_at) for g in r.grades
            ],
        )
        for r in rows
    ]


def _certificates(db: Session, mine: list[int]) -> list[CertificateRecord]:
    rows = db.scalars(
        select(Certificate).where(Certificate.membership_id.in_(mine)).order_by(Certificate.issued_at, Certificate.id)
    )
    return [
        CertificateRecord(
            c.code, c.holder_name, c.program_name, c.agency, c.cycles, c.hours, c.issued_on, c.revoked, c.revoked_reason
        )
        for c in rows
    ]


def _evidence(db: Session, mine: list[int], courses: dict[int, str]) -> list[EvidenceRecord]:
    rows = db.scalars(
        select(Evidence).where(Evidence.uploaded_by_id.in_(mine)).order_by(Evidence.uploaded_at, Evidence.id)
    )
    return [
        EvidenceRecord(_where(e.cycle, courses), e.original_name, e.content_type, e.size, e.uploaded_at) for e in rows
    ]


# --- learning records ----------------------------------------------------------------------------------------


def _agents(node: Any) -> Iterator[dict[str, Any]]:
    """Every xAPI Agent in a statement: the actor, a grade's instructor, an observation's Model Teacher…"""
    if isinstance(node, dict):
        if "account" in node or "mbox" in node:
            yield node
        for value in node.values():
            yield from _agents(value)
    elif isinstance(node, list):
        for item in node:
            yield from _agents(item)


def names(agent: dict[str, Any], person: Person) -> bool:
    """Does this Agent stand for the person: their LMS account, or the e-mail their platform shared?"""
    account = agent.get("account")
    if isinstance(account, dict) and account.get("homePage") == person.platform.issuer:
        return bool(account.get("name") == person.sub)
    return bool(person.email) and agent.get("mbox") == f"mailto:{person.email}"


def learning_records_about(db: Session, person: Person) -> list[str]:
    """The ids of the outbox statements (learning records for the LRS) in which the person appears, of their own
    platform only: as the actor, or named in the context (the instructor of a grade, the Model Teacher observed)."""
    statement = select(OutboxStatement).where(OutboxStatement.platform_id == person.platform_id)
    return [
        row.id
        for row in db.scalars(statement.order_by(OutboxStatement.created_at, OutboxStatement.id)).yield_per(500)
        if any(names(agent, person) for agent in _agents(row.payload))
    ]
