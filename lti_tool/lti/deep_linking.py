"""LTI Deep Linking 2.0: the activities an instructor can add, and the signed LtiDeepLinkingResponse that adds them.

The response is built with pylti1p3's `DeepLink` (LTI-DL §4.5: iss = our client_id, aud = the platform's issuer, the
request's deployment_id, a fresh nonce, the request's `data` echoed), signed with the tool's current key and its
`kid`, and posted back by an auto-submitting form to the request's `deep_link_return_url`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from sqlalchemy.orm import Session

from lti_tool.lti.activities import NEEDS_CYCLE, Activity
from lti_tool.lti.launch import DEEP_LINKING_REQUEST, DEEP_LINKING_SETTINGS, DEPLOYMENT_ID, MESSAGE_TYPE, launch_url
from lti_tool.lti.tool_config import registration_for
from lti_tool.settings import Settings
from models.catalog import element, elements
from models.keys import ToolKey, current_key
from models.programs import MIN_CYCLES, Program
from models.scope import CourseScope, scoped
from models.sessions import AppSession

REFLECTION_TAG = "plc-reflection"
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
    program = db.scalars(scoped(Program, scope).order_by(Program.id.desc())).first()
    return program.planned_cycles if program is not None else MIN_CYCLES


def deep_linking_settings(app_session: AppSession) -> dict[str, Any]:
    claims = app_session.claims or {}
    settings_claim = claims.get(DEEP_LINKING_SETTINGS)
    if claims.get(MESSAGE_TYPE) != DEEP_LINKING_REQUEST or not isinstance(settings_claim, dict):
        raise NotADeepLinkingSession()
    return settings_claim


def default_title(activity: Activity, lang: str) -> str:
    """A link title in the course's language, e.g. "วงรอบ PLC ที่ 2: การสังเกตชั้นเรียน"."""
    cycle = activity.cycle
    if activity.kind == "program":
        return str(_("PLC program"))
    if activity.kind == "dashboard":
        return str(_("PLC team dashboard"))
    if activity.kind == "cycle":
        return str(_("PLC cycle %(number)s", number=cycle))
    if activity.kind == "session":
        assert activity.element is not None
        name = element(activity.element).name
        return str(_("PLC cycle %(number)s: %(element)s", number=cycle, element=name.get(lang, name["en"])))
    if activity.kind == "observation":
        return str(_("PLC cycle %(number)s: Buddy observation", number=cycle))
    return str(_("PLC cycle %(number)s: reflection", number=cycle))


@dataclass(frozen=True)
class Choice:
    activity: Activity
    title: str


def parse_choice(form: Mapping[str, str], cycles: int, lang: str) -> tuple[Choice | None, dict[str, str]]:
    """The picker form → one activity to add, or the problems beside each field."""
    errors: dict[str, str] = {}
    kind = (form.get("activity") or "").strip()
    if kind not in ("program", "cycle", "session", "observation", "reflection", "dashboard"):
        errors["activity"] = _("Choose what to add.")
        return None, errors
    cycle: int | None = None
    element_number: int | None = None
    if kind in NEEDS_CYCLE:
        try:
            cycle = int(form.get("cycle", ""))
        except ValueError:
            cycle = None
        if cycle is None or not 1 <= cycle <= cycles:
            errors["cycle"] = _("Choose a cycle from 1 to %(cycles)s.", cycles=cycles)
    if kind == "session":
        try:
            element_number = int(form.get("element", ""))
        except ValueError:
            element_number = None
        if element_number not in {e.number for e in elements()}:
            errors["element"] = _("Choose one of the five PLC elements.")
    if errors:
        return None, errors
    activity = Activity(kind, cycle, element_number)
    title = (form.get("title") or "").strip()[:255] or default_title(activity, lang)
    return Choice(activity, title), {}


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
            .set_resource_id(f"plc-reflection-cycle-{activity.cycle}")
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
        if message.get("https://purl.imsglobal.org/spec/lti-dl/claim/data") is None:
            message.pop("https://purl.imsglobal.org/spec/lti-dl/claim/data", None)
        return message

    def encode_jwt(self, message: dict[str, object]) -> str:
        import jwt

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
