"""An example LRS consumer: what an analyst's system does with PLC Bridge's records in any xAPI 1.0.3 LRS.

It uses only the standard statement queries (xAPI 1.0.3 Communication §2.1.3): `agent` for one teacher, `activity`
with `related_activities=true` for one competency (or one course) across people, `since` for what is new, and the
`more` link until the result is complete. Voided statements do not count: a conformant LRS leaves them out of such
queries, and because not every LRS does (Ralph 5 does not), the consumer also asks for the `voided` statements and
drops the ones they point at. It then adds up, per teacher and competency, the hours of the `attended` statements
tagged with the competency (context.contextActivities.other) and keeps the latest `assessed` level.

docs/lrs-consumers.md explains the statements; `plc-bridge lrs competencies` prints this report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from xapi.lrs_client import XAPI_VERSION
from xapi.vocabulary import ActivityType, Extension, Verb

COMPETENCY_PREFIX = "https://w3id.org/xapi/plc-bridge/competencies/"


@dataclass(frozen=True)
class Query:
    """One statement query's filters, as the xAPI parameters name them."""

    agent: dict[str, Any] | None = None
    activity: str | None = None
    related_activities: bool = False
    verb: str | None = None
    since: datetime | None = None
    limit: int = 100

    def params(self) -> dict[str, str]:
        params: dict[str, str] = {"limit": str(self.limit)}
        if self.agent is not None:
            params["agent"] = json.dumps(self.agent, separators=(",", ":"))
        if self.activity:
            params["activity"] = self.activity
            if self.related_activities:
                params["related_activities"] = "true"
        if self.verb:
            params["verb"] = self.verb
        if self.since is not None:
            params["since"] = self.since.isoformat()
        return params


class ForeignMoreLink(Exception):
    """The LRS answered with a `more` link to another scheme, host or port than its own endpoint: following it would
    send the LRS's credentials there, so the consumer stops."""

    def __init__(self, more: str, endpoint: str) -> None:
        super().__init__(
            f"the LRS's 'more' link {more!r} leads away from the LRS at {endpoint!r} (another scheme, host or port);"
            " it is not followed, so that the LRS's credentials are not sent elsewhere"
        )
        self.more, self.endpoint = more, endpoint


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """A URL's scheme, host and port (the scheme's default when none is given); None when it has no valid one."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return None
    return (parts.scheme.lower(), (parts.hostname or "").lower(), port) if parts.hostname else None


class LrsReader:
    """Reads statements from one LRS endpoint (the xAPI base, such as https://lrs.example.org/xAPI/)."""

    def __init__(self, endpoint: str, username: str = "", password: str = "", timeout: float = 30.0) -> None:
        self.endpoint = endpoint.rstrip("/") + "/"
        self.http = requests.Session()
        if username:
            self.http.auth = (username, password)
        self.http.headers["X-Experience-API-Version"] = XAPI_VERSION
        self.timeout = timeout
        self.pages = 0  # how many result pages were read, for whoever wants to know that paging happened

    def statements(self, query: Query) -> Iterator[dict[str, Any]]:
        """Every statement the query matches, following `more` (an IRL relative to the LRS's host) to the end."""
        url: str | None = urljoin(self.endpoint, "statements")
        params: dict[str, str] | None = query.params()
        while url:
            response = self.http.get(url, params=params, timeout=self.timeout)
            response.raise_for_status()
            body = response.json()
            self.pages += 1
            yield from body.get("statements", [])
            more = body.get("more")
            url, params = (self._more(str(more)), None) if more else (None, None)

    def _more(self, more: str) -> str:
        """The next page's URL: `more` resolved against the endpoint, and only on the endpoint's scheme, host and
        port (xAPI 1.0.3 Communication §2.1.3 makes it relative to the LRS's host)."""
        url = urljoin(self.endpoint, more)
        if _origin(url) is None or _origin(url) != _origin(self.endpoint):
            raise ForeignMoreLink(more, self.endpoint)
        return url

    def voided_ids(self, since: datetime | None = None, limit: int = 100) -> set[str]:
        """The ids of statements voided (by `voided` statements stored since `since`)."""
        query = Query(verb=Verb.VOIDED, since=since, limit=limit)
        return {
            s["object"]["id"] for s in self.statements(query) if s.get("object", {}).get("objectType") == "StatementRef"
        }


def teacher_key(actor: dict[str, Any]) -> str:
    """A teacher as the LRS knows them: the account's platform and name, or the mailbox."""
    account = actor.get("account")
    if isinstance(account, dict):
        return f"{account.get('homePage', '')}|{account.get('name', '')}"
    return str(actor.get("mbox", actor.get("openid", "?")))


def _competencies(statement: dict[str, Any]) -> list[str]:
    other = statement.get("context", {}).get("contextActivities", {}).get("other", [])
    if isinstance(other, dict):
        other = [other]
    return [
        a["id"].removeprefix(COMPETENCY_PREFIX)
        for a in other
        if a.get("id", "").startswith(COMPETENCY_PREFIX)
        or a.get("definition", {}).get("type") == ActivityType.COMPETENCY
    ]


@dataclass(frozen=True)
class Level:
    level: float
    phase: str
    rater: str
    timestamp: str


@dataclass
class TeacherCompetencies:
    hours: dict[str, Decimal] = field(default_factory=dict)  # per competency: hours of sessions tagged with it
    total_hours: Decimal = Decimal(0)  # every attended session once
    latest: dict[tuple[str, str], Level] = field(default_factory=dict)  # (competency, rater) → latest level


def report(statements: list[dict[str, Any]], voided: set[str]) -> dict[str, TeacherCompetencies]:
    """Hours per teacher and competency, and each teacher's latest assessed level per competency and rater."""
    teachers: dict[str, TeacherCompetencies] = {}
    seen: set[str] = set()
    for statement in statements:
        if statement["id"] in voided or statement["id"] in seen:
            continue
        seen.add(statement["id"])
        verb = statement.get("verb", {}).get("id")
        if verb not in (Verb.ATTENDED, Verb.ASSESSED):
            continue
        teacher = teachers.setdefault(teacher_key(statement.get("actor", {})), TeacherCompetencies())
        extensions = statement.get("context", {}).get("extensions", {})
        if verb == Verb.ATTENDED:
            hours = Decimal(str(extensions.get(Extension.HOURS, 0)))
            teacher.total_hours += hours
            for code in _competencies(statement):
                teacher.hours[code] = teacher.hours.get(code, Decimal(0)) + hours
            continue
        code = statement["object"]["id"].removeprefix(COMPETENCY_PREFIX)
        rater = str(extensions.get(Extension.RATER, "self"))
        level = Level(
            float(statement["result"]["score"]["raw"]),
            str(extensions.get(Extension.ASSESSMENT_PHASE, "")),
            rater,
            str(statement.get("timestamp", "")),
        )
        earlier = teacher.latest.get((code, rater))
        if earlier is None or _moment(level.timestamp) >= _moment(earlier.timestamp):
            teacher.latest[(code, rater)] = level
    return teachers


def _moment(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def competency_report(
    reader: LrsReader, query: Query, *, voided_since: datetime | None = None
) -> dict[str, TeacherCompetencies]:
    """The report over what `query` finds, the statements voided since `voided_since` left out."""
    found = list(reader.statements(query))
    return report(found, reader.voided_ids(voided_since, query.limit))
