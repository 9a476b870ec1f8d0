"""What a launch says about the platform's grade services: the AGS endpoint claim, kept on its resource link for
the score worker (LTI AGS §3.1)."""

from __future__ import annotations

from typing import Any

from lti_tool.lti.ags import AGS_CLAIM
from models.people import ResourceLink


def store_endpoint_claim(resource_link: ResourceLink, body: dict[str, Any]) -> None:
    """Keep the launch's AGS endpoint claim on its resource link (the newest launch's claim wins)."""
    claim = body.get(AGS_CLAIM)
    if not isinstance(claim, dict):
        return
    lineitems, lineitem, scopes = claim.get("lineitems"), claim.get("lineitem"), claim.get("scope")
    resource_link.ags_lineitems = lineitems[:1024] if isinstance(lineitems, str) and lineitems else None
    resource_link.ags_lineitem = lineitem[:1024] if isinstance(lineitem, str) and lineitem else None
    resource_link.ags_scopes = [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else []
