"""What a launch says about the platform's services: the AGS endpoint claim, kept on its resource link and its course
for the score worker (LTI AGS §3.1), and the NRPS memberships URL, kept on its course for the teams page (LTI NRPS §3.6.1.1)."""

from __future__ import annotations

from typing import Any

from lti_tool.lti.claims import AGS_ENDPOINT, NAMES_ROLES_SERVICE
from models.base import assign
from models.people import Context, ResourceLink


def store_endpoint_claim(resource_link: ResourceLink, body: dict[str, Any]) -> None:
    """Keep the launch's AGS endpoint claim on its resource link (the newest launch's claim wins)."""
    claim = body.get(AGS_ENDPOINT)
    if not isinstance(claim, dict):
        return
    lineitems, lineitem, scopes = claim.get("lineitems"), claim.get("lineitem"), claim.get("scope")
    assign(
        resource_link,
        ags_lineitems=lineitems[:1024] if isinstance(lineitems, str) and lineitems else None,
        ags_lineitem=lineitem[:1024] if isinstance(lineitem, str) and lineitem else None,
        ags_scopes=[s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else [],
    )


def store_course_lineitems(context: Context, body: dict[str, Any]) -> None:
    """Keep the launch's AGS line-items container and scopes on its course: any launch in the course carries them
    (a Deep Linking request too), and a grade finds its cycle's line item there by resourceId and tag (AGS §3.2.4)."""
    claim = body.get(AGS_ENDPOINT)
    if not isinstance(claim, dict):
        return
    lineitems, scopes = claim.get("lineitems"), claim.get("scope")
    if isinstance(lineitems, str) and lineitems:
        assign(
            context,
            ags_lineitems=lineitems[:1024],
            ags_scopes=[s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else [],
        )


def store_service_claim(context: Context, body: dict[str, Any]) -> None:
    """Keep the launch's NRPS memberships URL on its course (the newest launch's claim wins)."""
    claim = body.get(NAMES_ROLES_SERVICE)
    if not isinstance(claim, dict):
        return
    url = claim.get("context_memberships_url")
    assign(context, nrps_memberships_url=url[:1024] if isinstance(url, str) and url else None)
