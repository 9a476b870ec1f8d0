"""The one place where PLC events become xAPI statements in the outbox, inside the event's own transaction.

Each function is called by the use case (lti_tool/services/) that made the change, after the domain function
succeeded and before the transaction commits: the change and its learning records commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Collection
from dataclasses import fields, replace
from datetime import UTC, datetime, time
from typing import Protocol

from sqlalchemy.orm import Session

from models.assessments import Rated, RaterKind
from models.base import utcnow
from models.catalog import assessment_scale
from models.catalog import element as element_info
from models.certificates import Certificate
from models.completions import keep_statement_id, record_completions, withdraw_completions
from models.corrections import ObservationChanged, SessionChanged
from models.cycles import ElementSession, RecordedSession
from models.evidence import evidence_of_observation
from models.forms import OBSERVATION_FORM, form_templates
from models.observations import Observation, ObservationForm
from models.outbox import OutboxStatement
from models.people import Context, Membership, Person, ResourceLink
from models.plan import role_in_cycle
from models.platform import Platform
from models.reflections import Grade, Reflection
from models.roles import AppRole
from models.teams import Team
from xapi import outbox, statements
from xapi.vocabulary import ActivityType, Extension


class EventContext(Protocol):
    """What the events need of the tool's settings: its public address (activity IRIs), the default language and
    the names of the LRSs each statement goes to. The tool's Settings is one."""

    @property
    def public_base_url(self) -> str: ...

    @property
    def default_locale(self) -> str: ...

    @property
    def lrs_names(self) -> list[str]: ...


def _course(settings: EventContext, platform: Platform, context: Context) -> statements.Activity:
    title = context.title or context.context_id
    return statements.Activity(
        statements.activity_iri(settings.public_base_url, "course", platform.issuer, context.context_id),
        ActivityType.COURSE,
        {"th": title, "en": title},
    )


def _actor(platform: Platform, person: Person) -> statements.Actor:
    """The LMS account; the email instead only where the platform is set to share it."""
    return statements.Actor(platform.issuer, person.sub, person.email if platform.share_email else None)


def launched(
    db: Session,
    settings: EventContext,
    platform: Platform,
    person: Person,
    context: Context,
    link: ResourceLink,
    app_role: AppRole,
) -> None:
    """A person opened PLC Bridge from a course."""
    title = link.title or "PLC Bridge"
    placement = statements.Activity(
        statements.activity_iri(
            settings.public_base_url, "placement", platform.issuer, context.context_id, link.resource_link_id
        ),
        ActivityType.TOOL,
        {"th": title, "en": title},
    )
    ctx = statements.PlcContext(
        course=_course(settings, platform, context),
        language=person.locale or settings.default_locale,
        platform=platform.name or platform.issuer,
    )
    statement = statements.launched(
        str(uuid.uuid4()), _actor(platform, person), placement, ctx, app_role.value, utcnow()
    )
    outbox.record(db, statement, platform.id, settings.lrs_names)


def _plc_context(
    settings: EventContext,
    context: Context,
    team: Team,
    cycle_number: int | None,
    element: int | None,
    member: Membership,
) -> statements.PlcContext:
    """The PLC context of a teacher's statement; cycle and element are None for the program as a whole."""
    program, platform = team.program, context.platform
    base, issuer = settings.public_base_url, platform.issuer
    role = role_in_cycle(team, cycle_number, member.id) if cycle_number is not None else None
    return statements.PlcContext(
        course=_course(settings, platform, context),
        language=member.person.locale or settings.default_locale,
        platform=platform.name or issuer,
        program=statements.Activity(
            statements.activity_iri(base, "program", issuer, str(program.id)),
            ActivityType.PROGRAM,
            {"th": program.name, "en": program.name},
        ),
        team=statements.Activity(
            statements.activity_iri(base, "team", issuer, str(team.id)),
            ActivityType.TEAM,
            {"th": team.name, "en": team.name},
        ),
        # One registration per teacher per program: an analyst can follow one teacher's program as one attempt.
        registration=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base}/program/{program.id}/member/{member.id}")),
        cycle_number=cycle_number,
        element_number=element,
        plc_role=role.value if role else None,
    )


def session_recorded(db: Session, settings: EventContext, team: Team, recorded: RecordedSession) -> None:
    """Every teacher present at an element's session attended it, for its hours (result.duration)."""
    _attended(db, settings, team, recorded.session)
    progress_changed(db, settings, team, recorded.session.attendee_ids)


def _attended(db: Session, settings: EventContext, team: Team, session: ElementSession) -> None:
    """The `attended` statement of each attendee, its id kept on the attendance row so a correction can void it."""
    cycle = session.cycle
    context = db.get(Context, team.program.context_id)
    assert context is not None  # a program belongs to a course
    platform = context.platform
    info = element_info(session.element)
    activity = statements.Activity(
        statements.activity_iri(settings.public_base_url, "session", platform.issuer, str(session.id)),
        ActivityType.SESSION,
        {"th": f"วงรอบ {cycle.number}: {info.name['th']}", "en": f"Cycle {cycle.number}: {info.name['en']}"},
    )
    when = datetime.combine(session.held_on, time(12, 0), tzinfo=UTC)
    for attendance in session.attendance:
        member = db.get(Membership, attendance.membership_id)
        assert member is not None  # attendance rows point at memberships of the course
        actor = _actor(platform, member.person)
        ctx = _plc_context(settings, context, team, cycle.number, session.element, member)
        statement = statements.attended_session(str(uuid.uuid4()), actor, activity, ctx, session.hours, when)
        outbox.record(db, statement, platform.id, settings.lrs_names)
        attendance.statement_id = statement["id"]


def _void(db: Session, settings: EventContext, platform: Platform, by: Person, statement_ids: Collection[str]) -> None:
    """Void earlier statements (xAPI 1.0.3 §2.3.2), the person who made the change being the actor."""
    now = utcnow()
    for statement_id in statement_ids:
        statement = statements.voided(str(uuid.uuid4()), _actor(platform, by), statement_id, now)
        outbox.record(db, statement, platform.id, settings.lrs_names)


def session_changed(db: Session, settings: EventContext, team: Team, changed: SessionChanged, by: Membership) -> None:
    """A session was corrected or withdrawn: its earlier `attended` statements are voided and, unless withdrawn, the
    corrected ones recorded; completions that no longer hold are voided and ones that newly hold recorded once."""
    if changed.change is None:
        return
    context = db.get(Context, team.program.context_id)
    assert context is not None
    _void(db, settings, context.platform, by.person, changed.voided_statement_ids)
    if changed.session.withdrawn_at is None:
        _attended(db, settings, team, changed.session)
    progress_corrected(db, settings, team, changed.affected_member_ids, by)


def progress_corrected(
    db: Session, settings: EventContext, team: Team, member_ids: Collection[int], by: Membership
) -> None:
    """After a correction: void what no longer holds, then record what newly holds (each once)."""
    context = db.get(Context, team.program.context_id)
    assert context is not None
    gone = withdraw_completions(db, team, member_ids)
    _void(db, settings, context.platform, by.person, [statement_id for _, statement_id in gone if statement_id])
    progress_changed(db, settings, team, member_ids)


def _reflection_activity(settings: EventContext, platform: Platform, reflection: Reflection) -> statements.Activity:
    number = reflection.cycle.number
    return statements.Activity(
        statements.activity_iri(settings.public_base_url, "reflection", platform.issuer, str(reflection.id)),
        ActivityType.REFLECTION,
        {"th": f"การสะท้อนผล วงรอบ {number}", "en": f"Reflection on cycle {number}"},
    )


def reflection_submitted(db: Session, settings: EventContext, team: Team, reflection: Reflection) -> None:
    """A teacher submitted (or rewrote, before grading) their reflection on a cycle; it may complete the cycle."""
    context = db.get(Context, team.program.context_id)
    member = db.get(Membership, reflection.membership_id)
    assert context is not None and member is not None
    platform = context.platform
    ctx = _plc_context(settings, context, team, reflection.cycle.number, 5, member)
    statement = statements.reflection_submitted(
        str(uuid.uuid4()),
        _actor(platform, member.person),
        _reflection_activity(settings, platform, reflection),
        ctx,
        reflection.submitted_at,
    )
    outbox.record(db, statement, platform.id, settings.lrs_names)
    progress_changed(db, settings, team, [member.id])


def reflection_graded(db: Session, settings: EventContext, team: Team, grade: Grade) -> None:
    """The teacher's reflection was scored; the teacher is the actor and the trainer the instructor."""
    reflection = grade.reflection
    context = db.get(Context, team.program.context_id)
    member = db.get(Membership, reflection.membership_id)
    grader = db.get(Membership, grade.grader_id)
    assert context is not None and member is not None and grader is not None
    platform = context.platform
    ctx = _plc_context(settings, context, team, reflection.cycle.number, 5, member)
    statement = statements.reflection_scored(
        str(uuid.uuid4()),
        _actor(platform, member.person),
        _reflection_activity(settings, platform, reflection),
        ctx,
        raw=grade.total,
        minimum=0,
        maximum=grade.max_score,
        grader=_actor(platform, grader.person),
        timestamp=grade.graded_at,
        comment=grade.comment or None,
    )
    outbox.record(db, statement, platform.id, settings.lrs_names)


def progress_changed(db: Session, settings: EventContext, team: Team, member_ids: Collection[int]) -> None:
    """After any change that may complete something: an element, a cycle or the program, each recorded once."""
    context = db.get(Context, team.program.context_id)
    assert context is not None
    platform, base = context.platform, settings.public_base_url
    now = utcnow()
    for event in record_completions(db, team, member_ids, now):
        member = db.get(Membership, event.membership_id)
        assert member is not None
        if event.kind == "program":
            program = team.program
            what = statements.Activity(
                statements.activity_iri(base, "program", platform.issuer, str(program.id)),
                ActivityType.PROGRAM,
                {"th": program.name, "en": program.name},
            )
            ctx = _plc_context(settings, context, team, None, None, member)
        else:
            cycle = next(c for c in team.cycles if c.number == event.cycle_number)
            if event.kind == "cycle":
                what = statements.Activity(
                    statements.activity_iri(base, "cycle", platform.issuer, str(cycle.id)),
                    ActivityType.CYCLE,
                    {"th": f"วงรอบ {cycle.number}", "en": f"Cycle {cycle.number}"},
                )
            else:
                info = element_info(event.element)
                what = statements.Activity(
                    statements.activity_iri(base, "element", platform.issuer, str(cycle.id), str(event.element)),
                    ActivityType.ELEMENT,
                    {
                        "th": f"วงรอบ {cycle.number}: {info.name['th']}",
                        "en": f"Cycle {cycle.number}: {info.name['en']}",
                    },
                )
            ctx = _plc_context(settings, context, team, cycle.number, event.element or None, member)
        statement = statements.completed(str(uuid.uuid4()), _actor(platform, member.person), what, ctx, now)
        outbox.record(db, statement, platform.id, settings.lrs_names)
        keep_statement_id(db, team, event, statement["id"])


def observation_fingerprint(db: Session, observation: Observation | None) -> str | None:
    """What a Buddy has submitted: the form's text and the digests of the files attached (None before the first
    submission). `observation_submitted` compares it before and after a resubmission."""
    if observation is None:
        return None
    content: dict[str, object] = {f.name: getattr(observation, f.name) for f in fields(ObservationForm)}
    content["files"] = sorted(e.sha256 for e in evidence_of_observation(db, observation.id))
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def observation_submitted(
    db: Session, settings: EventContext, team: Team, observation: Observation, before: str | None
) -> None:
    """A Buddy submitted their observation of the cycle's Model Teacher (`before`: its fingerprint beforehand).

    A resubmission that leaves the text and files as they were records nothing; a changed one voids the earlier
    'observed' statement and records a new one about the same observation activity. The first observation of a
    cycle also records that the Model Teacher taught the lesson: a Buddy's observation is the one record of the
    lesson having been taught, and it comes from someone other than the teacher. That statement's id is fixed by
    the lesson, so a second Buddy's observation, a resubmission or a resend never records it twice.
    """
    if observation_fingerprint(db, observation) == before:
        return
    if observation.statement_id:  # a changed resubmission: the earlier statement no longer says what was observed
        context = db.get(Context, team.program.context_id)
        buddy = db.get(Membership, observation.buddy_id)
        assert context is not None and buddy is not None
        _void(db, settings, context.platform, buddy.person, [observation.statement_id])
    _observed(db, settings, team, observation)
    progress_changed(db, settings, team, [observation.buddy_id, observation.model_id])


def observation_changed(
    db: Session, settings: EventContext, team: Team, changed: ObservationChanged, by: Membership
) -> None:
    """An observation was corrected or withdrawn: its `observed` statement is voided and, unless withdrawn, the
    corrected one recorded; completions that no longer hold are voided and ones that newly hold recorded once."""
    if changed.change is None:
        return
    context = db.get(Context, team.program.context_id)
    assert context is not None
    _void(db, settings, context.platform, by.person, changed.voided_statement_ids)
    if changed.observation.withdrawn_at is None:
        _observed(db, settings, team, changed.observation)
    progress_corrected(db, settings, team, changed.affected_member_ids, by)


def _observed(db: Session, settings: EventContext, team: Team, observation: Observation) -> None:
    """The Buddy's `observed` statement (its id kept on the observation, so a correction voids exactly that one) and,
    once per lesson, the Model Teacher's `taught` statement."""
    context = db.get(Context, team.program.context_id)
    buddy, model = db.get(Membership, observation.buddy_id), db.get(Membership, observation.model_id)
    assert context is not None and buddy is not None and model is not None  # rows of the observation's course
    platform, base, cycle = context.platform, settings.public_base_url, observation.cycle
    lesson = observation.lesson[:200]
    activity = statements.Activity(
        statements.activity_iri(base, "observation", platform.issuer, str(observation.id)),
        ActivityType.OBSERVATION,
        {"th": f"สังเกตชั้นเรียน วงรอบ {cycle.number}: {lesson}", "en": f"Observation, cycle {cycle.number}: {lesson}"},
    )
    element = form_templates()[OBSERVATION_FORM].element
    ctx = _plc_context(settings, context, team, cycle.number, element, buddy)
    statement = statements.observation_submitted(
        str(uuid.uuid4()), _actor(platform, buddy.person), activity, ctx, _actor(platform, model.person),
        observation.submitted_at,
    )  # fmt: skip
    outbox.record(db, statement, platform.id, settings.lrs_names)
    observation.statement_id = statement["id"]

    taught = statements.Activity(
        statements.activity_iri(base, "lesson", platform.issuer, str(cycle.id)),
        ActivityType.LESSON,
        {
            "th": f"บทเรียนของครูผู้สอน วงรอบ {cycle.number}: {lesson}",
            "en": f"Model lesson, cycle {cycle.number}: {lesson}",
        },
    )
    taught_id = str(uuid.uuid5(uuid.NAMESPACE_URL, taught.iri))
    if db.get(OutboxStatement, taught_id) is None:
        extra = {
            key: value
            for key, value in (
                (Extension.LEARNING_AREA, cycle.learning_area or team.program.learning_area),
                (Extension.GRADE_LEVEL, cycle.grade_level or team.program.grade_level),
            )
            if value
        }
        model_ctx = replace(_plc_context(settings, context, team, cycle.number, element, model), extra=extra)
        outbox.record(
            db,
            statements.taught_model_lesson(
                taught_id, _actor(platform, model.person), taught, model_ctx, observation.submitted_at
            ),
            platform.id,
            settings.lrs_names,
        )


def certificate_earned(db: Session, settings: EventContext, team: Team, certificate: Certificate) -> None:
    """A teacher was issued the program's certificate, for the hours it certifies; written with the issue."""
    context = db.get(Context, team.program.context_id)
    member = db.get(Membership, certificate.membership_id)
    assert context is not None and member is not None
    platform = context.platform
    what = statements.Activity(
        statements.activity_iri(settings.public_base_url, "certificate", platform.issuer, str(certificate.id)),
        ActivityType.CERTIFICATE,
        {"th": f"เกียรติบัตร {certificate.program_name}", "en": f"Certificate: {certificate.program_name}"},
    )
    ctx = _plc_context(settings, context, team, None, None, member)
    statement = statements.certificate_earned(
        _earned_id(platform, certificate), _actor(platform, member.person), what, ctx, certificate.hours,
        certificate.issued_at,
    )  # fmt: skip
    outbox.record(db, statement, platform.id, settings.lrs_names)


def _earned_id(platform: Platform, certificate: Certificate) -> str:
    """The `earned` statement's id, derived from the certificate so that revoking can void exactly that one."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{platform.issuer}#plc-bridge/certificate/{certificate.id}/earned"))


def certificate_revoked(db: Session, settings: EventContext, certificate: Certificate) -> None:
    """A trainer revoked the certificate: its `earned` statement is voided (xAPI 1.0.3 §2.3.2), by the trainer."""
    context = db.get(Context, certificate.program.context_id)
    trainer = db.get(Membership, certificate.revoked_by_id) if certificate.revoked_by_id else None
    assert context is not None and trainer is not None and certificate.revoked_at is not None
    platform = context.platform
    statement = statements.voided(
        str(uuid.uuid4()), _actor(platform, trainer.person), _earned_id(platform, certificate), certificate.revoked_at
    )
    outbox.record(db, statement, platform.id, settings.lrs_names)


def competency_assessed(db: Session, settings: EventContext, team: Team, rated: list[Rated], by: Membership) -> None:
    """Competency ratings of one teacher: one `assessed` statement per competency whose rating is new or changed; a
    changed one voids its earlier statement (xAPI 1.0.3 §2.3.2), as corrected sessions and observations do."""
    changed = [r for r in rated if r.changed]
    if not changed:
        return
    context = db.get(Context, team.program.context_id)
    assert context is not None  # a program belongs to a course
    platform = context.platform
    _void(db, settings, platform, by.person, [r.replaced_statement_id for r in changed if r.replaced_statement_id])
    scale = assessment_scale()
    for item in changed:
        row = item.assessment
        member = db.get(Membership, row.membership_id)
        assert member is not None  # assessments are of memberships of the course
        trainer = row.rater_kind is RaterKind.TRAINER
        statement = statements.competency_assessed(
            str(uuid.uuid4()),
            _actor(platform, member.person),
            row.competency,
            _plc_context(settings, context, team, None, None, member),
            level=row.level,
            minimum=scale.minimum,
            maximum=scale.maximum,
            phase=row.phase.value,
            rater=row.rater_kind.value,
            scale_id=row.scale_id,
            timestamp=row.assessed_at,
            assessor=_actor(platform, by.person) if trainer else None,
        )
        outbox.record(db, statement, platform.id, settings.lrs_names)
        row.statement_id = statement["id"]
