"""LTI Deep Linking 2.0: the activities an instructor can add, and the signed LtiDeepLinkingResponse that adds them.

The response is built with pylti1p3's `DeepLink` (LTI-DL §4.5: iss = our client_id, aud = the platform's issuer, the
request's deployment_id, a fresh nonce, the request's `data` echoed), signed with the tool's current key and its
`kid`, and posted back by an auto-submitting form to the request's `deep_link_return_url`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from sqlalchemy.orm import Session

from lti_tool.lti.activities import Activity
from lti_tool.lti.ags import REFLECTION_TAG, reflection_resource_id
from lti_tool.lti.claims import (
    DEEP_LINKING_DATA,
    DEEP_LINKING_REQUEST,
    DEEP_LINKING_SETTINGS,
    DEPLOYMENT_ID,
    MESSAGE_TYPE,
)
from lti_tool.lti.launch import launch_url
from lti_tool.lti.tool_config import registration_for
from lti_tool.settings import Settings
from models.keys import ToolKey, current_key
from models.program_history import current_program
from models.programs import MIN_CYCLES
from models.scope import CourseScope
from models.sessions import AppSession

DEFAULT_REFLECTION_MAXIMUM = 20


class NotADeepLinkingSession(Exception):
    """The session was not opened by a Deep Linking request, so there is nowhere to send links back to."""


def reflection_maximum() -> int:
    """The reflection rubric's maximum score (config/rubrics), or 20 where no rubric ships yet."""
    try:
        from models.rubrics import rubric
    except ImportError:
        return DEFAULT_REFLECTION_MAXIMUM
    try:
        return int(rubric().max_score)
    except (OSError, KeyError, ValueError):
        return DEFAULT_REFLECTION_MAXIMUM


def planned_cycles(db: Session, scope: CourseScope) -> int:
    """The course program's planned cycles, or the Council's minimum when the course has no program yet."""
    program = current_program(db, scope)
    return program.planned_cycles if program is not None else MIN_CYCLES


def deep_linking_settings(app_session: AppSession) -> dict[str, Any]:
    claims = app_session.claims or {}
    settings_claim = claims.get(DEEP_LINKING_SETTINGS)
    if claims.get(MESSAGE_TYPE) != DEEP_LINKING_REQUEST or not isinstance(settings_claim, dict):
        raise NotADeepLinkingSession()
    return settings_claim


@dataclass(frozen=True)
class Choice:
    """One activity to add, under the title its link will have in the course."""

    activity: Activity
    title: str


def content_item(choice: Choice, settings: Settings) -> DeepLinkResource:
    """One `ltiResourceLink` (LTI-DL §3.1): our launch URL without a query string, the activity in custom
    parameters, and a line item for the graded reflection (LTI-DL §3.1.1, AGS §3.2)."""
    activity = choice.activity
    resource = (
        DeepLinkResource()
        .set_title(choice.title)
        .set_url(launch_url(settings))
        .set_custom_params(activity.custom_parameters())
    )
    if activity.kind == "reflection":
        resource.set_lineitem(
            LineItem()
            .set_score_maximum(reflection_maximum())
            .set_label(choice.title)
            .set_resource_id(reflection_resource_id(activity.cycle or 1))  # how a grade finds this line item
            .set_tag(REFLECTION_TAG)
        )
    return resource


class _ToolDeepLink(DeepLink):
    """pylti1p3's DeepLink, signing with our current key under its kid, and leaving `data` out when the request
    had none (LTI-DL §4.5.1 echoes it only when sent)."""

    def __init__(self, key: ToolKey, *args: Any) -> None:
        super().__init__(*args)
        self._key = key

    def get_message_jwt(self, resources: Sequence[DeepLinkResource]) -> dict[str, object]:
        message: dict[str, object] = super().get_message_jwt(resources)
        if message.get(DEEP_LINKING_DATA) is None:
            message.pop(DEEP_LINKING_DATA, None)
        return message

    def encode_jwt(self, message: dict[str, object]) -> str:
        return jwt.encode(message, self._key.private_pem, algorithm="RS256", headers={"kid": self._key.kid})


def response_jwt(
    db: Session, app_session: AppSession, choices: Sequence[Choice], settings: Settings
) -> tuple[str, str]:
    """(deep_link_return_url, signed LtiDeepLinkingResponse) for the session's Deep Linking request."""
    link_settings = deep_linking_settings(app_session)
    platform = app_session.context.platform
    key = current_key(db)
    deployment_id = str(app_session.claims[DEPLOYMENT_ID])
    deep_link = _ToolDeepLink(key, registration_for(platform, key), deployment_id, link_settings)
    token = deep_link.get_response_jwt([content_item(choice, settings) for choice in choices])
    return str(link_settings["deep_link_return_url"]), token
