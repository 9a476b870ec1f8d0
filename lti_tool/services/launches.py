"""Recording a valid launch: the person, course, roles and resource link it names, the platform's service endpoints
it carries, the app session it opens and its learning record, all in the launch's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, null, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lti_tool.lti.claims import CONTEXT, CUSTOM, DEPLOYMENT_ID, LAUNCH_PRESENTATION, LIS, LTI_EXT, RESOURCE_LINK, ROLES
from lti_tool.lti.launch import ToolMessageLaunch
from lti_tool.lti.service_claims import store_course_lineitems, store_endpoint_claim, store_service_claim
from lti_tool.lti.tool_config import DeploymentRow
from lti_tool.settings import Settings
from models.base import assign, utcnow
from models.database import get_or_create
from models.people import Context, Membership, Person, ResourceLink, stamp_launch
from models.platform import Deployment, Platform
from models.roles import app_role_for
from models.sessions import AppSession, end_sessions, open_session
from xapi import events

# OpenID Connect standard claims (Core §5.1) and the LTI claims that name the person: not stored for an erased person.
PERSONAL_CLAIMS = frozenset(
    {"name", "given_name", "family_name", "middle_name", "nickname", "email", "picture", LIS, LTI_EXT}
)


def _locale_of(body: Mapping[str, Any]) -> str | None:
    presentation = body.get(LAUNCH_PRESENTATION)
    locale = presentation.get("locale") if isinstance(presentation, dict) else None
    locale = locale or body.get("locale")
    if not isinstance(locale, str) or not locale:
        return None
    return locale.replace("_", "-").split("-")[0].lower()[:8]


def _known_rows(
    db: Session, platform: Platform, deployment: DeploymentRow, sub: str, context_id: str, link_id: str | None
) -> tuple[Person, Context, Membership | None, ResourceLink | None] | None:
    """The person and course of a launch, with their membership and the resource link when they exist, read by one
    statement (a person launching again finds them all); None when the person or the course is new."""
    params = {"platform_id": platform.id, "deployment_id": deployment.id, "sub": sub, "context_id": context_id}
    if link_id is None:
        row = db.execute(_known_rows_query(with_link=False), params).first()
    else:
        row = db.execute(_known_rows_query(with_link=True), {**params, "link_id": link_id}).first()
    return (row[0], row[1], row[2], row[3] if link_id is not None else None) if row is not None else None


@cache
def _known_rows_query(with_link: bool) -> Any:
    """_known_rows's statement, built once per kind (building it costs more than running it)."""
    platform_id: Any = bindparam("platform_id")
    query = (
        select(Person, Context, Membership, ResourceLink if with_link else null())
        .select_from(Person)
        .join(
            Context,
            and_(
                Context.platform_id == platform_id,
                Context.deployment_id == bindparam("deployment_id"),
                Context.context_id == bindparam("context_id"),
            ),
        )
        .outerjoin(Membership, and_(Membership.context_id == Context.id, Membership.person_id == Person.id))
        .where(Person.platform_id == platform_id, Person.sub == bindparam("sub"))
    )
    if with_link:
        query = query.outerjoin(
            ResourceLink,
            and_(ResourceLink.context_id == Context.id, ResourceLink.resource_link_id == bindparam("link_id")),
        )
    return query


def record_launch(db: Session, launch: ToolMessageLaunch, settings: Settings) -> AppSession:
    """Store what a validated launch says: person, course, membership, resource link; open a session."""
    assert launch.platform is not None
    platform = launch.platform
    body = launch.body()
    deployment: DeploymentRow = (
        launch.deployment
        or db.scalars(
            select(Deployment).where(
                Deployment.platform_id == platform.id, Deployment.deployment_id == body[DEPLOYMENT_ID]
            )
        ).one()
    )
    link_id = None if launch.is_deep_linking else str(body[RESOURCE_LINK]["id"])
    known = _known_rows(db, platform, deployment, body["sub"], str(body[CONTEXT]["id"]), link_id)
    known_membership, known_link = (known[2], known[3]) if known is not None else (None, None)

    person: Person = known[0] if known else get_or_create(db, Person, {"platform_id": platform.id, "sub": body["sub"]})
    if person.erased_at is None:
        name = body.get("name") or " ".join(filter(None, [body.get("given_name"), body.get("family_name")]))
        assign(
            person,
            name=str(name)[:255],
            given_name=str(body.get("given_name") or "")[:255],
            family_name=str(body.get("family_name") or "")[:255],
            email=str(body["email"])[:320] if body.get("email") else person.email,
        )
    else:  # erased at their request: they stay under the district's pseudonym, and what the LMS says of them is not kept
        body = {key: value for key, value in body.items() if key not in PERSONAL_CLAIMS}
    assign(person, locale=_locale_of(body) or person.locale)

    context_claim = body[CONTEXT]
    context: Context = (
        known[1]
        if known
        else get_or_create(
            db,
            Context,
            {"platform_id": platform.id, "deployment_id": deployment.id, "context_id": str(context_claim["id"])},
        )
    )
    set_committed_value(context, "platform", platform)  # the pages after the launch read it: no statement then
    assign(
        context, title=str(context_claim.get("title") or "")[:512], label=str(context_claim.get("label") or "")[:255]
    )
    store_service_claim(context, body)
    store_course_lineitems(context, body)

    roles = [str(role) for role in body[ROLES]]
    app_role = app_role_for(roles)
    assert app_role is not None  # validate_message refused launches without a known role
    membership: Membership = known_membership or get_or_create(
        db, Membership, {"context_id": context.id, "person_id": person.id}, app_role=app_role.value
    )
    assign(membership, lti_roles=roles, app_role=app_role.value)
    stamp_launch(db, membership, utcnow())

    resource_link: ResourceLink | None = None
    if not launch.is_deep_linking:  # a Deep Linking request comes from no link: the instructor is adding one
        link_claim = body[RESOURCE_LINK]
        resource_link = known_link or get_or_create(
            db, ResourceLink, {"context_id": context.id, "resource_link_id": str(link_claim["id"])}
        )
        custom = body.get(CUSTOM)
        assign(
            resource_link,
            title=str(link_claim.get("title") or "")[:512],
            custom=dict(custom) if isinstance(custom, dict) else {},
        )
        store_endpoint_claim(resource_link, body)

    app_session = open_session(
        db,
        membership,
        resource_link,
        locale=person.locale,
        claims=body,
        ttl=timedelta(seconds=settings.session_ttl_seconds),
    )
    if resource_link is not None:
        events.launched(db, settings, platform, person, context, resource_link, app_role)
    # Not written here: the web layer writes the session's row with its browser (web/session.py tie_launch_to_browser).
    return app_session


def sign_out(db: Session, app_session: AppSession, browser_key: str | None) -> int:
    """The person signs out: their session ends on the server, with the other live sessions of the same browser
    (`browser_key`, from its cookie); how many ended. Launching again opens a new one."""
    return end_sessions(db, app_session, browser_key)
