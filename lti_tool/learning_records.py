"""The one place where PLC events become xAPI statements in the outbox, inside the event's own transaction.

Each function is called by the view that made the change, after the domain function succeeded and before the
transaction commits: the change and its learning records commit together or not at all.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time

from sqlalchemy.orm import Session

from lti_tool.settings import Settings
from models import program as plc
from models.base import utcnow
from models.catalog import element as element_info
from models.people import Context, Membership, Person, ResourceLink
from models.platform import Platform
from models.roles import AppRole
from xapi import outbox, statements
from xapi.vocabulary import ActivityType


def _course(settings: Settings, platform: Platform, context: Context) -> statements.Activity:
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
    settings: Settings,
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
    settings: Settings, context: Context, team: plc.Team, cycle_number: int, element: int, member: Membership
) -> statements.PlcContext:
    program, platform = team.program, context.platform
    base, issuer = settings.public_base_url, platform.issuer
    role = plc.role_in_cycle(team, cycle_number, member.id)
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


def session_recorded(db: Session, settings: Settings, team: plc.Team, recorded: plc.RecordedSession) -> None:
    """Every teacher present at an element's session attended it, for its hours (result.duration)."""
    session = recorded.session
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
