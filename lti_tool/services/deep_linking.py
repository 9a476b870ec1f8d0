"""Adding a PLC Bridge activity to a course: an instructor's choice in the Deep Linking picker becomes the signed
answer that the LMS receives."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lti_tool.lti import deep_linking as dl
from lti_tool.services.actor import Actor
from lti_tool.settings import Settings
from models.errors import ProgramError
from models.roles import AppRole

INSTRUCTORS = frozenset({AppRole.TRAINER, AppRole.ADMIN})


class NotAnInstructor(ProgramError):
    """Only the course's trainers and administrators add activities to it."""

    code = "not_an_instructor"

    def __init__(self, role: AppRole) -> None:
        super().__init__(f"a {role} does not add activities", role=role)


def link_activity(db: Session, settings: Settings, actor: Actor, choice: dl.Choice) -> tuple[str, str]:
    """(the LMS's deep_link_return_url, the signed LtiDeepLinkingResponse) that adds the chosen activity; raises
    NotADeepLinkingSession when the actor's launch was not a Deep Linking request."""
    if actor.role not in INSTRUCTORS:
        raise NotAnInstructor(actor.role)
    return dl.response_jwt(db, actor.session, [choice], settings)
