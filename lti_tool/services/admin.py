"""A platform administrator's repairs: sending again what the learning-record outbox and the score outbox gave up
on, for their own platform only."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lti_tool.services.actor import Actor
from models import scores
from models.errors import ProgramError
from models.roles import AppRole
from xapi import outbox


class NotAnAdministrator(ProgramError):
    """Only the platform's LTI administrators repair its outboxes."""

    code = "not_an_administrator"

    def __init__(self, role: AppRole) -> None:
        super().__init__(f"a {role} is not the platform's administrator", role=role)


def _require_admin(actor: Actor) -> int:
    """The actor's platform, if they administer it."""
    if actor.role is not AppRole.ADMIN:
        raise NotAnAdministrator(actor.role)
    return actor.scope.platform_id


def retry_learning_records(db: Session, actor: Actor) -> int:
    """Queue the platform's dead-lettered learning records again (after the LRS or the statement was fixed)."""
    return outbox.retry_dead(db, platform_id=_require_admin(actor))


def resend_scores(db: Session, actor: Actor) -> int:
    """Queue the platform's failed gradebook scores again, due now."""
    return scores.resend(db, platform_id=_require_admin(actor))
