"""LTI Assignment and Grade Services 2.0: the score document and the calls that put it on a line item.

Each call returns an `AgsResult` instead of raising for what the platform answered: DELIVERED (the platform did
what was asked), LATER (it is down, slow or confused: try again after a backoff) or PARKED (this will not go
through as it is: keep it for an admin, with the reason). A score is queued with the grade by
lti_tool/services/scores.py and sent by lti_tool/workers/scores.py.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import requests
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError

from lti_tool.lti.claims import (
    LINEITEM_CONTAINER_TYPE,
    LINEITEM_TYPE,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    SCORE_TYPE,
)
from lti_tool.lti.service_tokens import ServiceClient, ServiceError, TokenRefused, one_line
from models.scores import ScoreProblem

log = logging.getLogger(__name__)

AGS_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)
REFLECTION_TAG = "plc-reflection"

# Answers worth trying again later; any other 4xx will not change by itself (AGS §3.4, RFC 9110).
_TRANSIENT_STATUSES = {408, 425, 429}

NO_SCORE_SCOPE = "the platform does not accept scores for this activity (no score scope in its AGS claim)"


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    LATER = "later"
    PARKED = "parked"


@dataclass(frozen=True)
class AgsResult:
    outcome: Outcome
    reason: str = ""
    lineitem: str | None = None  # the line item found, made or scored (None: none found)
    problem: ScoreProblem | None = None  # why it waits or is parked, for the pages to translate


def _later(reason: str, problem: ScoreProblem = ScoreProblem.PLATFORM_DOWN) -> AgsResult:
    return AgsResult(Outcome.LATER, reason, problem=problem)


def _parked(reason: str, problem: ScoreProblem = ScoreProblem.PLATFORM_REFUSED) -> AgsResult:
    return AgsResult(Outcome.PARKED, reason, problem=problem)


# --- The score document --------------------------------------------------------------------------------------


def score_timestamp(moment: datetime) -> str:
    """ISO 8601 with milliseconds and the zone, as AGS §3.4.7 asks; fixed once, so a resend is the same score."""
    return moment.isoformat(timespec="milliseconds")


def score_document(
    user_id: str, given: Decimal, maximum: Decimal, comment: str, graded_at: datetime
) -> dict[str, object]:
    """A final score for a fully graded activity (AGS §3.4.6)."""
    return {
        "userId": user_id,
        "scoreGiven": _number(given),
        "scoreMaximum": _number(maximum),
        "comment": comment,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": score_timestamp(graded_at),
    }


def _number(value: Decimal) -> int | float:
    as_float = float(value)
    return int(as_float) if as_float.is_integer() else as_float


def scores_url(lineitem_url: str) -> str:
    """The line item's scores endpoint: `/scores` appended to the path, the query string kept (AGS §3.4)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def reflection_resource_id(cycle: int) -> str:
    """The `resourceId` of cycle `cycle`'s reflection line item: the one the tool puts in the Deep Linking content
    item (lti_tool/lti/deep_linking.py), which Moodle keeps on the line item it makes, and the one the tool gives a
    line item it makes itself. A score finds its column by it, and by the tag, in the course's line items."""
    return f"plc-reflection-cycle-{cycle}"


def earlier_resource_id(resource_link_id: str) -> str:
    """The `resourceId` the tool gave the line items it made before 0018 (one per LMS activity): still found."""
    return f"reflection:{resource_link_id}"


KEYSET_SETTINGS = (
    "Moodle answers so when it cannot fetch the tool's keyset at {keyset_url}: in Site administration > General >"
    " Security > HTTP security, take the tool's address out of 'cURL blocked hosts list' (curlsecurityblockedhosts)"
    " and add the tool's port to 'cURL allowed ports list' (curlsecurityallowedport)."
)


def keyset_advice(reason: str, keyset_url: str) -> str:
    """The token endpoint's 404 error page explained: the platform could not verify the tool's signature."""
    return f"{reason}. " + KEYSET_SETTINGS.format(keyset_url=keyset_url)


def granted_scopes(claimed: Sequence[str] | None) -> list[str]:
    """The AGS scopes of a launch's endpoint claim that this tool asks tokens for."""
    return [scope for scope in (claimed or []) if scope in AGS_SCOPES]


# --- Platform JSON -------------------------------------------------------------------------------------------


class ListedLineItem(BaseModel):
    """One entry of a line items container (AGS §3.2.3), only the fields the tool reads. Strict: an entry whose
    fields have other JSON types is not one of ours."""

    model_config = ConfigDict(strict=True, extra="ignore")

    id: str
    resource_id: str | None = Field(default=None, alias="resourceId")
    tag: str = REFLECTION_TAG  # a platform may leave the tag out; null or another tag is not ours

    def is_ours(self, resource_id: str) -> bool:
        return self.resource_id == resource_id and self.tag == REFLECTION_TAG


class LineItemContainer(RootModel[list[object]]):
    """The container's answer: a JSON list; entries that are not line items are skipped, not fatal."""

    model_config = ConfigDict(strict=True)

    def find(self, resource_id: str) -> ListedLineItem | None:
        for entry in self.root:
            try:
                item = ListedLineItem.model_validate(entry)
            except ValidationError:
                continue
            if item.is_ours(resource_id):
                return item
        return None


class CreatedLineItem(BaseModel):
    """The platform's answer to a new line item: the item with its id, the URL to post scores under (AGS §3.2)."""

    model_config = ConfigDict(strict=True, extra="ignore")

    id: str = Field(min_length=1)


def _json(response: requests.Response) -> object:
    try:
        body: object = response.json()
    except ValueError:
        return None
    return body


# --- Calls ---------------------------------------------------------------------------------------------------


def find_lineitem(
    client: ServiceClient, platform_id: int, scopes: Sequence[str], container_url: str, resource_id: str
) -> AgsResult:
    """The line item this tool made before for `resource_id`, if any (AGS §3.2.4 filters); DELIVERED with no
    `lineitem` when there is none yet."""
    if SCOPE_LINEITEM not in scopes and SCOPE_LINEITEM_READONLY not in scopes:
        return _parked(
            "the platform lets the tool neither read nor create line items for this activity", ScoreProblem.NO_GRADEBOOK
        )
    answer = _call(
        client,
        platform_id,
        scopes,
        "GET",
        container_url,
        "the line items container",
        accept=LINEITEM_CONTAINER_TYPE,
        params={"resource_id": resource_id, "tag": REFLECTION_TAG},
    )
    if isinstance(answer, AgsResult):
        return answer
    try:
        container = LineItemContainer.model_validate(_json(answer))
    except ValidationError:
        return _later("the line items container answered something that is not a JSON list of line items")
    item = container.find(resource_id)  # filtered again: a platform may ignore the query parameters
    return AgsResult(Outcome.DELIVERED, lineitem=item.id if item is not None else None)


def create_lineitem(
    client: ServiceClient,
    platform_id: int,
    scopes: Sequence[str],
    container_url: str,
    *,
    score_maximum: object,
    label: str,
    resource_id: str,
    resource_link_id: str | None,
) -> AgsResult:
    """A new line item in the container for a tool resource (AGS §3.2.5), bound to the LMS activity when known."""
    if SCOPE_LINEITEM not in scopes:
        return _parked(
            "the platform does not let the tool create a line item for this activity", ScoreProblem.NO_GRADEBOOK
        )
    document: dict[str, object] = {
        "scoreMaximum": score_maximum,
        "label": label[:255],
        "resourceId": resource_id,
        "tag": REFLECTION_TAG,
    }
    if resource_link_id is not None:
        document["resourceLinkId"] = resource_link_id
    answer = _call(
        client,
        platform_id,
        scopes,
        "POST",
        container_url,
        "creating the line item",
        accept=LINEITEM_TYPE,
        json_body=document,
        content_type=LINEITEM_TYPE,
    )
    if isinstance(answer, AgsResult):
        return answer
    try:
        created = CreatedLineItem.model_validate(_json(answer))
    except ValidationError:
        return _later("the platform answered the new line item without its id (not AGS JSON)")
    log.info("line item created resource_id=%s url=%s", resource_id, created.id)
    return AgsResult(Outcome.DELIVERED, lineitem=created.id)


def post_score(
    client: ServiceClient, platform_id: int, scopes: Sequence[str], lineitem_url: str, score: Mapping[str, object]
) -> AgsResult:
    """POST the score to the line item's scores endpoint (AGS §3.4)."""
    if SCOPE_SCORE not in scopes:
        return _parked(NO_SCORE_SCOPE, ScoreProblem.NO_GRADEBOOK)
    answer = _call(
        client,
        platform_id,
        scopes,
        "POST",
        scores_url(lineitem_url),
        "the score",
        accept="application/json",
        json_body=dict(score),
        content_type=SCORE_TYPE,
    )
    if isinstance(answer, AgsResult):
        return answer
    return AgsResult(Outcome.DELIVERED, lineitem=lineitem_url)


def _call(
    client: ServiceClient,
    platform_id: int,
    scopes: Sequence[str],
    method: str,
    url: str,
    what: str,
    *,
    accept: str,
    json_body: object = None,
    content_type: str | None = None,
    params: dict[str, str] | None = None,
) -> requests.Response | AgsResult:
    """The call's 2xx response, or what to do about a call that did not succeed."""
    try:
        response = client.request(
            platform_id,
            scopes,
            method,
            url,
            accept=accept,
            json_body=json_body,
            content_type=content_type,
            params=params,
        )
    except TokenRefused as refused:
        # A refused assertion stays pending: once the platform's admin fixes the registration, the scores go
        # through by themselves; the reason shows on the admin page meanwhile.
        return _later(refused.reason, ScoreProblem(refused.problem))
    except ServiceError as error:
        return _later(error.reason) if error.transient else _parked(error.reason)
    status = int(response.status_code)
    if 200 <= status < 300:
        return response
    detail = one_line(response.text) if response.text else ""
    reason = f"{what}: the platform answered HTTP {status}" + (f" ({detail})" if detail else "")
    if status >= 500 or status in _TRANSIENT_STATUSES:
        return _later(reason)
    return _parked(reason)
