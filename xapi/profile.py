"""The PLC Bridge xAPI Profile (config/xapi/profile.jsonld): load it and check statements against its templates.

The checks follow the Statement Template validation of ADL xAPI Profiles 1.0 (xapi-profiles-communication.md §2.1):
determining properties, StatementRef templates and rules (JSONPath location / selector, presence, any / all / none).
On top of that, context extension values are checked against the profile's `inlineSchema` (a small subset of JSON
Schema: type, enum, minimum, maximum, minLength). Patterns are described in the document but not checked here:
that needs the whole series of statements in a registration.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonpath_ng import JSONPath
from jsonpath_ng.ext.parser import parse as parse_jsonpath  # the function jsonpath_ng.ext re-exports as parse

from models.catalog import CONFIG_DIR

PROFILE_PATH: Path = CONFIG_DIR / "xapi" / "profile.jsonld"

Statement = Mapping[str, Any]

_CONTEXT_TYPE_PROPERTIES = {
    "contextParentActivityType": "parent",
    "contextGroupingActivityType": "grouping",
    "contextCategoryActivityType": "category",
    "contextOtherActivityType": "other",
}
_UNMATCHABLE = object()  # a location value for which the rule's selector found nothing


@cache
def load_profile() -> dict[str, Any]:
    """The profile document, parsed once. Shared: treat it as read-only."""
    document: dict[str, Any] = json.loads(PROFILE_PATH.read_text(encoding="utf-8"))
    return document


def concept_ids() -> set[str]:
    """Every concept, template and pattern id in the profile."""
    profile = load_profile()
    return {item["id"] for key in ("concepts", "templates", "patterns") for item in profile.get(key, [])}


def _templates() -> list[dict[str, Any]]:
    templates: list[dict[str, Any]] = load_profile().get("templates", [])
    return templates


def _template_by_id(template_id: str) -> dict[str, Any]:
    for template in _templates():
        if template["id"] == template_id:
            return template
    raise KeyError(f"the profile has no statement template {template_id}")


def _label(template: Mapping[str, Any]) -> str:
    labels: Mapping[str, str] = template.get("prefLabel", {})
    return labels.get("en-US") or next(iter(labels.values()), template["id"])


def _verb_id(statement: Statement) -> Any:
    verb = statement.get("verb")
    return verb.get("id") if isinstance(verb, Mapping) else None


def _object_type(statement: Statement) -> Any:
    obj = statement.get("object")
    if not isinstance(obj, Mapping):
        return None
    definition = obj.get("definition")
    return definition.get("type") if isinstance(definition, Mapping) else None


def template_for(statement: Statement) -> dict[str, Any] | None:
    """The template whose verb and object activity type the statement has (a template without one: the verb alone)."""
    verb, object_type = _verb_id(statement), _object_type(statement)
    for template in _templates():
        if template.get("verb") != verb:
            continue
        if "objectActivityType" not in template or template["objectActivityType"] == object_type:
            return template
    return None


def _no_template(statement: Statement) -> list[str]:
    """Why no template matched: an unknown verb, or an object type that goes with another verb."""
    verb, object_type = _verb_id(statement), _object_type(statement)
    with_verb = [t for t in _templates() if t.get("verb") == verb]
    if not with_verb:
        return [f"verb {verb!r} is not the verb of any statement template in the profile"]
    expected_types = sorted(t["objectActivityType"] for t in with_verb if "objectActivityType" in t)
    problem = (
        f"no statement template has verb {verb!r} with object activity type {object_type!r}; "
        f"with this verb the object activity type must be one of {expected_types}"
    )
    expected_verbs = sorted({t["verb"] for t in _templates() if t.get("objectActivityType") == object_type})
    if expected_verbs:
        problem += f"; an object of this type takes the verb {' or '.join(map(repr, expected_verbs))}"
    return [problem]


def _normalized(statement: Statement) -> dict[str, Any]:
    """A copy with contextActivities singletons turned into arrays of one, as the spec requires before rules."""
    data: dict[str, Any] = copy.deepcopy(dict(statement))
    context = data.get("context")
    activities = context.get("contextActivities") if isinstance(context, dict) else None
    if isinstance(activities, dict):
        for kind, value in activities.items():
            if isinstance(value, dict):
                activities[kind] = [value]
    return data


def _context_activity_types(statement: Mapping[str, Any], kind: str) -> set[Any]:
    context = statement.get("context")
    activities = context.get("contextActivities", {}) if isinstance(context, Mapping) else {}
    found = activities.get(kind, []) if isinstance(activities, Mapping) else []
    return {
        activity.get("definition", {}).get("type")
        for activity in found
        if isinstance(activity, Mapping) and isinstance(activity.get("definition"), Mapping)
    }


def _split_union(path: str) -> Iterator[str]:
    """Split a location on the profile spec's top-level `|` (never inside quotes or brackets)."""
    depth, quote, start = 0, "", 0
    for index, char in enumerate(path):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "|" and depth == 0:
            yield path[start:index].strip()
            start = index + 1
    yield path[start:].strip()


@cache
def _compiled(path: str) -> tuple[JSONPath, ...]:
    return tuple(parse_jsonpath(part) for part in _split_union(path))


def _evaluate(data: Any, path: str) -> list[Any]:
    return [match.value for expression in _compiled(path) for match in expression.find(data)]


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


def _contains(values: list[Any], value: Any) -> bool:
    return any(_same(candidate, value) for candidate in values)


def _rule_problems(data: Mapping[str, Any], rule: Mapping[str, Any], label: str) -> list[str]:
    """The algorithm `follows_rule` of the spec, returning what is wrong instead of a boolean."""
    location: str = rule["location"]
    where = f"{location} (template {label!r})"
    values = _evaluate(data, location)
    if "selector" in rule:
        selected: list[Any] = []
        for value in values:
            found = _evaluate(value, rule["selector"])
            selected.extend(found if found else [_UNMATCHABLE])
        values = selected
        where = f"{location} → {rule['selector']} (template {label!r})"
    matchable = [value for value in values if value is not _UNMATCHABLE]
    presence = rule.get("presence")
    if presence == "included" and (not matchable or len(matchable) != len(values)):
        return [f"{where} is required but missing"]
    if presence == "excluded" and matchable:
        return [f"{where} must be absent but is present: {matchable!r}"]
    strict = presence != "recommended"
    if not strict and not values:
        return []
    problems: list[str] = []
    if "any" in rule and not any(_contains(rule["any"], value) for value in matchable):
        problems.append(f"{where} must include one of {rule['any']!r}; found {matchable!r}")
    if "all" in rule:
        if len(matchable) != len(values):
            problems.append(f"{where} has a value where the selector found nothing")
        unexpected = [value for value in matchable if not _contains(rule["all"], value)]
        if unexpected:
            problems.append(f"{where} allows only {rule['all']!r}; found {unexpected!r}")
    if "none" in rule:
        forbidden = [value for value in matchable if _contains(rule["none"], value)]
        if forbidden:
            problems.append(f"{where} must not be {forbidden!r}")
    return problems


def _schema_problems(value: Any, schema: Mapping[str, Any]) -> list[str]:
    """The JSON Schema keywords the profile's inline schemas use."""
    kind = schema.get("type")
    type_ok = {
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "object": lambda v: isinstance(v, Mapping),
        "array": lambda v: isinstance(v, list),
    }
    if kind in type_ok and not type_ok[kind](value):
        return [f"must be of type {kind}, not {value!r}"]
    problems: list[str] = []
    if "enum" in schema and not _contains(list(schema["enum"]), value):
        problems.append(f"must be one of {schema['enum']!r}, not {value!r}")
    if "minimum" in schema and isinstance(value, int | float) and value < schema["minimum"]:
        problems.append(f"must be at least {schema['minimum']}, not {value!r}")
    if "maximum" in schema and isinstance(value, int | float) and value > schema["maximum"]:
        problems.append(f"must be at most {schema['maximum']}, not {value!r}")
    if "minLength" in schema and isinstance(value, str) and len(value) < schema["minLength"]:
        problems.append(f"must have at least {schema['minLength']} characters")
    return problems


def _extension_problems(statement: Mapping[str, Any]) -> list[str]:
    """Context extensions the profile defines: placed in context, with values that fit the inline schema."""
    concepts = {c["id"]: c for c in load_profile().get("concepts", []) if c["type"].endswith("Extension")}
    problems: list[str] = []
    places: list[tuple[str, Any]] = [("context", statement.get("context")), ("result", statement.get("result"))]
    for place, holder in places:
        extensions = holder.get("extensions") if isinstance(holder, Mapping) else None
        if not isinstance(extensions, Mapping):
            continue
        for key, value in extensions.items():
            concept = concepts.get(key)
            if concept is None:
                continue
            if concept["type"] != ("ContextExtension" if place == "context" else "ResultExtension"):
                problems.append(f"extension {key} is a {concept['type']} and must not be used in {place}")
                continue
            if "inlineSchema" in concept:
                schema = json.loads(concept["inlineSchema"])
                problems += [f"{place}.extensions[{key!r}] {p}" for p in _schema_problems(value, schema)]
    return problems


def check_statement(statement: Statement, template: Mapping[str, Any] | str | None = None) -> list[str]:
    """What keeps the statement from following its template (an empty list: it conforms).

    Without `template`, the template is found with `template_for`; a template (or its id) may be given to check a
    statement against that one, verb and object activity type included. A StatementRef object is checked to be a
    StatementRef; the statement it refers to is not looked up.
    """
    if template is None:
        template = template_for(statement)
        if template is None:
            return _no_template(statement)
    elif isinstance(template, str):
        template = _template_by_id(template)
    label = _label(template)
    data = _normalized(statement)
    problems: list[str] = []

    if "verb" in template and _verb_id(data) != template["verb"]:
        problems.append(f"verb is {_verb_id(data)!r}; template {label!r} needs {template['verb']!r}")
    if "objectActivityType" in template and _object_type(data) != template["objectActivityType"]:
        problems.append(
            f"object activity type is {_object_type(data)!r}; template {label!r} needs {template['objectActivityType']!r}"
        )
    for prop, kind in _CONTEXT_TYPE_PROPERTIES.items():
        present = _context_activity_types(data, kind)
        for activity_type in template.get(prop, []):
            if activity_type not in present:
                problems.append(
                    f"context.contextActivities.{kind} has no activity of type {activity_type!r} ({prop} of template {label!r})"
                )
    if "attachmentUsageType" in template:
        usage_types = {a.get("usageType") for a in data.get("attachments", []) if isinstance(a, Mapping)}
        for usage_type in template["attachmentUsageType"]:
            if usage_type not in usage_types:
                problems.append(f"attachments have no usageType {usage_type!r} (template {label!r})")
    if "objectStatementRefTemplate" in template:
        obj = data.get("object")
        if not (isinstance(obj, Mapping) and obj.get("objectType") == "StatementRef"):
            problems.append(f"object must be a StatementRef (objectStatementRefTemplate of template {label!r})")
    if "contextStatementRefTemplate" in template:
        ref = data.get("context", {}).get("statement") if isinstance(data.get("context"), Mapping) else None
        if not (isinstance(ref, Mapping) and ref.get("objectType") == "StatementRef"):
            problems.append(
                f"context.statement must be a StatementRef (contextStatementRefTemplate of template {label!r})"
            )
    for rule in template.get("rules", []):
        problems += _rule_problems(data, rule, label)
    problems += _extension_problems(data)
    return problems
