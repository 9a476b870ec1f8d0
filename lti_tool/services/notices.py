"""Notices: the use cases write one in the same transaction as their event (a Buddy's observation arrived, a
reflection graded, a certificate issued), with a delivery for each channel the person has; a person reads their
notice list, opens a notice, and chooses which kinds reach them by LINE and e-mail.

A notice never carries another person's reflection or observation text: numbers, dates, the program's name and, for
a grade, the grader's comment written for this reader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.services.actor import Actor
from models import line
from models import notices as model
from models.certificates import Certificate
from models.errors import NotFoundInCourse
from models.notices import Channel, Kind, Notice, Target
from models.observations import Observation
from models.people import Membership, Person
from models.reflections import Grade
from models.roles import AppRole


def channels_for(db: Session, person: Person, kind: Kind) -> list[Channel]:
    """Where a notice of `kind` goes besides the list: LINE when the person linked an account of their platform's
    (switched on, not blocked), e-mail when their LMS shares the address; neither for a kind they switched off."""
    if person.erased_at is not None or kind.value in model.switched_off(db, person.id):
        return []
    channels: list[Channel] = []
    # One query for the link and whether the platform's account is on: it runs in every event's transaction.
    on_line = db.scalar(
        select(func.count())
        .select_from(line.LineLink)
        .join(line.LineChannel, line.LineChannel.platform_id == line.LineLink.platform_id)
        .where(
            line.LineLink.person_id == person.id,
            line.LineLink.blocked_at.is_(None),
            line.LineChannel.access_token != "",
            line.LineChannel.channel_secret != "",
        )
    )
    if on_line:
        channels.append(Channel.LINE)
    if person.email:
        channels.append(Channel.EMAIL)
    return channels


def notify(
    db: Session,
    membership: Membership,
    kind: Kind,
    params: dict[str, Any],
    target: Target,
    *,
    once_key: str | None = None,
    now: datetime | None = None,
) -> Notice | None:
    """Write the notice to the member with its deliveries, in the caller's transaction (None: a reminder with this
    `once_key` was written before)."""
    person = membership.person
    return model.write_notice(
        db,
        person,
        kind,
        params,
        target,
        channels_for(db, person, kind),
        membership_id=membership.id,
        once_key=once_key,
        now=now,
    )


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def observation_arrived(db: Session, observation: Observation, model_teacher: Membership) -> None:
    """To the Model Teacher: a Buddy's observation of their lesson was submitted (not who wrote it, nor what)."""
    cycle = observation.cycle.number
    notify(
        db,
        model_teacher,
        Kind.OBSERVATION_SUBMITTED,
        {"cycle": cycle},
        Target("observations.for_cycle", {"number": cycle}),
    )


def reflection_graded(db: Session, grade: Grade) -> None:
    """To the teacher: their reflection's score and the grader's comment."""
    reflection = grade.reflection
    teacher = db.get(Membership, reflection.membership_id)
    assert teacher is not None
    cycle = reflection.cycle.number
    params = {
        "cycle": cycle,
        "score": _number(grade.total),
        "max_score": _number(grade.max_score),
        "comment": grade.comment,
    }
    notify(db, teacher, Kind.REFLECTION_GRADED, params, Target("reflections.show", {"number": cycle}))


def certificate_issued(db: Session, certificate: Certificate) -> None:
    """To the teacher: their certificate, with the public page that checks it."""
    notify(
        db,
        certificate.membership,
        Kind.CERTIFICATE_ISSUED,
        {"program": certificate.program_name, "code": certificate.code},
        Target("certificates.verify", {"code": certificate.code}),
    )


# Reading and choosing, for the person's own pages.


def my_notices(db: Session, actor: Actor, limit: int = 100) -> list[Notice]:
    return model.notices_of(db, actor.membership.person_id, limit)


def unread(db: Session, actor: Actor) -> int:
    return model.unread_count(db, actor.membership.person_id)


class NoticeOfAnotherCourse(Exception):
    """The person's notice is about another of their courses: its page opens from that course (`course_title`), not
    from the one this session was launched from."""

    def __init__(self, course_title: str) -> None:
        super().__init__(course_title)
        self.course_title = course_title


def open_notice(db: Session, actor: Actor, notice_id: int) -> Notice:
    """The actor's own notice of the course they launched from, marked read (NotFoundInCourse for anyone else's,
    NoticeOfAnotherCourse for one about another of their courses: its link would open the page in the wrong one)."""
    notice = db.get(Notice, notice_id)
    if notice is None or notice.person_id != actor.membership.person_id:
        raise NotFoundInCourse("notice", notice_id)
    if notice.membership_id is not None and notice.membership_id != actor.membership.id:
        other = db.get(Membership, notice.membership_id)
        raise NoticeOfAnotherCourse(other.context.title if other is not None else "")
    model.mark_read(notice)
    return notice


def read_all(db: Session, actor: Actor) -> int:
    return model.mark_all_read(db, actor.membership.person_id)


@dataclass(frozen=True)
class Preference:
    kind: Kind
    enabled: bool


def kinds_for(role: AppRole) -> tuple[Kind, ...]:
    return model.TEACHER_KINDS if role is AppRole.TEACHER else model.TRAINER_KINDS


def preferences(db: Session, actor: Actor) -> list[Preference]:
    off = model.switched_off(db, actor.membership.person_id)
    return [Preference(kind, kind.value not in off) for kind in kinds_for(actor.role)]


def save_preferences(db: Session, actor: Actor, enabled: set[str]) -> None:
    """The kinds of the actor's role that reach them by LINE and e-mail (the others: the list only)."""
    model.set_preferences(
        db, actor.membership.person_id, {kind.value: kind.value in enabled for kind in kinds_for(actor.role)}
    )
