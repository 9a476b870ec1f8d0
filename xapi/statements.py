"""Pure builders: one function per domain event, returning an xAPI 1.0.3 statement as plain data.

Every builder takes the statement id from its caller (fixed when the outbox row is written, so a resend is
idempotent) and returns a dict ready to be stored and posted. No I/O, no clock, no database here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from models.catalog import activity_kinds, competencies, element
from xapi.vocabulary import PROFILE_VERSION, VERB_DISPLAY, ActivityType, Extension, Verb, competency_iri

Statement = dict[str, Any]


@dataclass(frozen=True)
class Actor:
    """A person as the LRS sees them: the platform's issuer and the LTI `sub`; email only if shared."""

    issuer: str
    sub: str
    email: str | None = None

    def agent(self) -> dict[str, Any]:
        agent: dict[str, Any] = {"objectType": "Agent", "account": {"homePage": self.issuer, "name": self.sub}}
        if self.email:
            # An Agent carries exactly one inverse functional identifier; a shared email replaces the account.
            agent = {"objectType": "Agent", "mbox": f"mailto:{self.email}"}
        return agent


@dataclass(frozen=True)
class Activity:
    iri: str
    type: str
    name: dict[str, str]

    def object(self) -> dict[str, Any]:
        return {
            "objectType": "Activity",
            "id": self.iri,
            "definition": {"type": self.type, "name": _language_map(self.name)},
        }


@dataclass(frozen=True)
class PlcContext:
    """Where an event happened: course, program, team, and the PLC details of the moment."""

    course: Activity
    language: str
    platform: str
    program: Activity | None = None
    team: Activity | None = None
    registration: str | None = None
    cycle_number: int | None = None
    element_number: int | None = None
    plc_role: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _language_map(names: dict[str, str]) -> dict[str, str]:
    """xAPI language maps use RFC 5646 tags; the catalog uses th / en."""
    tags = {"th": "th-TH", "en": "en-US"}
    return {tags.get(lang, lang): text for lang, text in names.items() if text}


def _timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("statement timestamps must be timezone-aware")
    return moment.isoformat()


def duration_of_hours(hours: Decimal | float | int) -> str:
    """ISO 8601 duration for a number of hours: 1.5 → PT1H30M, 2 → PT2H."""
    minutes = int((Decimal(str(hours)) * 60).to_integral_value())
    if minutes < 0:
        raise ValueError("hours cannot be negative")
    whole_hours, rest = divmod(minutes, 60)
    text = "PT" + (f"{whole_hours}H" if whole_hours else "") + (f"{rest}M" if rest else "")
    return text if text != "PT" else "PT0M"


def _competency_activities(codes: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    catalog = competencies()
    return [
        Activity(competency_iri(code), ActivityType.COMPETENCY, catalog[code].name).object()
        for code in dict.fromkeys(codes)  # keep order, drop repeats
    ]


def _context(
    ctx: PlcContext, competency_codes: tuple[str, ...] | list[str], instructor: Actor | None = None
) -> dict[str, Any]:
    extensions: dict[str, Any] = {}
    if ctx.cycle_number is not None:
        extensions[Extension.CYCLE_NUMBER] = ctx.cycle_number
    if ctx.element_number is not None:
        extensions[Extension.ELEMENT_NUMBER] = ctx.element_number
    if ctx.plc_role is not None:
        extensions[Extension.PLC_ROLE] = ctx.plc_role
    extensions.update(ctx.extra)
    activities: dict[str, Any] = {
        "parent": [ctx.course.object()],
        "category": [{"objectType": "Activity", "id": PROFILE_VERSION, "definition": {"type": ActivityType.PROFILE}}],
    }
    grouping = [a.object() for a in (ctx.program, ctx.team) if a is not None]
    if grouping:
        activities["grouping"] = grouping
    others = _competency_activities(competency_codes)
    if others:
        activities["other"] = others
    context: dict[str, Any] = {"contextActivities": activities, "platform": ctx.platform, "language": ctx.language}
    if ctx.registration:
        context["registration"] = ctx.registration
    if instructor is not None:
        context["instructor"] = instructor.agent()
    if extensions:
        context["extensions"] = extensions
    return context


def _statement(
    statement_id: str,
    actor: Actor,
    verb: str,
    obj: dict[str, Any],
    context: dict[str, Any],
    timestamp: datetime,
    result: dict[str, Any] | None = None,
) -> Statement:
    statement: Statement = {
        "id": statement_id,
        "actor": actor.agent(),
        "verb": {"id": verb, "display": _language_map(VERB_DISPLAY[verb])},
        "object": obj,
        "context": context,
        "timestamp": _timestamp(timestamp),
    }
    if result:
        statement["result"] = result
    return statement


def _kind_competencies(kind: str) -> tuple[str, ...]:
    return activity_kinds()[kind].competencies


# --- one builder per domain event --------------------------------------------------------------------


def launched(
    statement_id: str, actor: Actor, placement: Activity, ctx: PlcContext, app_role: str, timestamp: datetime
) -> Statement:
    """A person opened PLC Bridge from a course (an LTI resource-link launch)."""
    context = _context(ctx, _kind_competencies("launch"))
    context.setdefault("extensions", {})[Extension.APP_ROLE] = app_role
    return _statement(statement_id, actor, Verb.LAUNCHED, placement.object(), context, timestamp)


def attended_session(
    statement_id: str, actor: Actor, session: Activity, ctx: PlcContext, hours: Decimal | float, timestamp: datetime
) -> Statement:
    """A team member was present at an element's session; the hours count toward the logbook."""
    if ctx.element_number is None:
        raise ValueError("an element session needs the element number")
    context = _context(ctx, element(ctx.element_number).competencies)
    context.setdefault("extensions", {})[Extension.HOURS] = float(hours)
    result = {"duration": duration_of_hours(hours), "completion": True}
    return _statement(statement_id, actor, Verb.ATTENDED, session.object(), context, timestamp, result)


def taught_model_lesson(
    statement_id: str, actor: Actor, lesson: Activity, ctx: PlcContext, timestamp: datetime
) -> Statement:
    """The cycle's Model Teacher taught the lesson the team designed."""
    context = _context(ctx, _kind_competencies("model-lesson"))
    context.setdefault("extensions", {})[Extension.PLC_ROLE] = "model"
    return _statement(statement_id, actor, Verb.TAUGHT, lesson.object(), context, timestamp)


def observation_submitted(
    statement_id: str, actor: Actor, observation: Activity, ctx: PlcContext, model_teacher: Actor, timestamp: datetime
) -> Statement:
    """A Buddy Teacher submitted the observation form for their Model Teacher's lesson."""
    context = _context(ctx, _kind_competencies("buddy-observation"))
    context.setdefault("extensions", {})[Extension.PLC_ROLE] = "buddy"
    context["team"] = {"objectType": "Group", "member": [model_teacher.agent()]}
    return _statement(
        statement_id, actor, Verb.OBSERVED, observation.object(), context, timestamp, {"completion": True}
    )


def reflection_submitted(
    statement_id: str, actor: Actor, reflection: Activity, ctx: PlcContext, timestamp: datetime
) -> Statement:
    return _statement(
        statement_id,
        actor,
        Verb.SUBMITTED,
        reflection.object(),
        _context(ctx, _kind_competencies("reflection")),
        timestamp,
        {"completion": True},
    )


def reflection_scored(
    statement_id: str,
    actor: Actor,
    reflection: Activity,
    ctx: PlcContext,
    raw: Decimal | float,
    minimum: Decimal | float,
    maximum: Decimal | float,
    grader: Actor,
    timestamp: datetime,
    comment: str | None = None,
) -> Statement:
    """A trainer graded the teacher's reflection; the teacher is the actor, the trainer the instructor."""
    raw_f, min_f, max_f = float(raw), float(minimum), float(maximum)
    if not min_f <= raw_f <= max_f or max_f <= min_f:
        raise ValueError(f"score {raw_f} is outside {min_f}..{max_f}")
    result: dict[str, Any] = {
        "score": {"scaled": round((raw_f - min_f) / (max_f - min_f), 4), "raw": raw_f, "min": min_f, "max": max_f},
        "completion": True,
    }
    if comment:
        result["response"] = comment
    context = _context(ctx, _kind_competencies("reflection"), instructor=grader)
    return _statement(statement_id, actor, Verb.SCORED, reflection.object(), context, timestamp, result)


def completed(statement_id: str, actor: Actor, what: Activity, ctx: PlcContext, timestamp: datetime) -> Statement:
    """An element, a cycle or a whole program completed by a teacher."""
    if what.type == ActivityType.ELEMENT:
        if ctx.element_number is None:
            raise ValueError("a completed element needs the element number")
        codes = element(ctx.element_number).competencies
    elif what.type == ActivityType.CYCLE:
        codes = _kind_competencies("cycle")
    elif what.type == ActivityType.PROGRAM:
        codes = _kind_competencies("program")
    else:
        raise ValueError(f"'completed' is for an element, cycle or program, not {what.type}")
    return _statement(
        statement_id, actor, Verb.COMPLETED, what.object(), _context(ctx, codes), timestamp, {"completion": True}
    )


def certificate_earned(
    statement_id: str, actor: Actor, certificate: Activity, ctx: PlcContext, hours: Decimal | float, timestamp: datetime
) -> Statement:
    context = _context(ctx, _kind_competencies("certificate"))
    context.setdefault("extensions", {})[Extension.HOURS] = float(hours)
    return _statement(
        statement_id,
        actor,
        Verb.EARNED,
        certificate.object(),
        context,
        timestamp,
        {"completion": True, "success": True},
    )


def competency_assessed(
    statement_id: str,
    actor: Actor,
    code: str,
    ctx: PlcContext,
    level: int,
    minimum: int,
    maximum: int,
    phase: str,
    rater: str,
    scale_id: str,
    timestamp: datetime,
    assessor: Actor | None = None,
) -> Statement:
    """A teacher's level on one competency at a program's start or end: rated by themself (`rater` "self") or by a
    trainer ("trainer", who is then context.instructor). The object is the competency, with its definition; the
    score is scaled into 0..1 as xAPI 1.0.3 §2.4.5.1 allows (scaled in -1..1, raw between min and max)."""
    if maximum <= minimum or not minimum <= level <= maximum:
        raise ValueError(f"level {level} is outside {minimum}..{maximum}")
    competency = competencies()[code]
    obj = Activity(competency_iri(code), ActivityType.COMPETENCY, competency.name).object()
    obj["definition"]["description"] = _language_map(competency.definition)
    context = _context(ctx, (code,), instructor=assessor)
    context.setdefault("extensions", {}).update(
        {Extension.ASSESSMENT_PHASE: phase, Extension.RATER: rater, Extension.SCALE: scale_id}
    )
    score = {"scaled": round((level - minimum) / (maximum - minimum), 4), "raw": level, "min": minimum, "max": maximum}
    return _statement(statement_id, actor, Verb.ASSESSED, obj, context, timestamp, {"score": score})


def voided(statement_id: str, actor: Actor, voided_statement_id: str, timestamp: datetime) -> Statement:
    """Withdraw an earlier statement (a record corrected or removed): xAPI 1.0.3 §2.3.2."""
    return {
        "id": statement_id,
        "actor": actor.agent(),
        "verb": {"id": Verb.VOIDED, "display": _language_map(VERB_DISPLAY[Verb.VOIDED])},
        "object": {"objectType": "StatementRef", "id": voided_statement_id},
        "timestamp": _timestamp(timestamp),
    }


# --- activity IRIs ------------------------------------------------------------------------------------


def platform_key(issuer: str) -> str:
    """A short, stable, URL-safe stand-in for a platform issuer inside activity IRIs."""
    return hashlib.sha256(issuer.encode()).hexdigest()[:12]


def activity_iri(base_url: str, kind: str, issuer: str, *parts: str) -> str:
    """Stable activity IRIs under the tool's public URL: {base}/xapi/activities/{kind}/{platform}/{parts...}."""
    tail = "/".join(quote(part, safe="") for part in parts)
    return f"{base_url}/xapi/activities/{kind}/{platform_key(issuer)}/{tail}"
