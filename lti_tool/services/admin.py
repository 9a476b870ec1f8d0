"""A platform administrator's repairs: sending again what the learning-record outbox and the score outbox gave up
on, for their own platform only. The platform's administrator is the LMS's site administrator (a system role,
ผู้ดูแลระบบ); a school administrator (an institution or course Administrator, ผู้บริหารสถานศึกษา) reads the PLC
pages of their course but not the platform's queues, which hold every course's records."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lti_tool.services.actor import Actor
from models import scores
from models.errors import NotFoundInCourse, ProgramError
from models.people import Membership
from models.roles import AppRole, administers_the_site
from xapi import outbox


class NotAnAdministrator(ProgramError):
    """Only the platform's LTI administrators repair its outboxes."""

    code = "not_an_administrator"

    def __init__(self, role: AppRole) -> None:
        super().__init__(f"a {role} is not the platform's administrator", role=role)


def administers_the_platform(membership: Membership) -> bool:
    """Whether the launch came from the LMS's site administrator: the Administrator role at the system scope."""
    return membership.app_role == AppRole.ADMIN and administers_the_site(membership.lti_roles or [])


def _require_admin(actor: Actor) -> int:
    """The actor's platform, if they administer it."""
    if not administers_the_platform(actor.membership):
        raise NotAnAdministrator(actor.role)
    return actor.scope.platform_id


def retry_learning_records(db: Session, actor: Actor) -> int:
    """Queue the platform's dead-lettered learning records again (after the LRS or the statement was fixed)."""
    return outbox.retry_dead(db, platform_id=_require_admin(actor))


def resend_scores(db: Session, actor: Actor) -> int:
    """Queue the platform's failed gradebook scores again, due now (the superseded ones are closed instead)."""
    return scores.resend(db, platform_id=_require_admin(actor))


def score_of_the_platform(db: Session, actor: Actor, post_id: int) -> scores.ScorePost:
    """One score of the administrator's platform; NotFoundInCourse for another platform's or none."""
    post = db.get(scores.ScorePost, post_id)
    if post is None or post.platform_id != _require_admin(actor):
        raise NotFoundInCourse("ScorePost", post_id)
    return post


def dismiss_score(db: Session, actor: Actor, post_id: int, reason: str) -> scores.ScorePost:
    """Close a failed score of the platform for good, with the administrator's reason (kept, with who and when)."""
    post = score_of_the_platform(db, actor, post_id)
    scores.dismiss(post, actor.membership.person_id, reason)
    return post
