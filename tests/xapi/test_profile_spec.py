"""The xAPI Profile against the xAPI Profiles specification (adlnet/xapi-profiles, xapi-profiles-structure.md:
Profile Properties, Concepts, Statement Templates, Patterns) and its JSON-LD context, where it is served, and the
competency assessment's statements against their template."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from models.catalog import competencies
from tests.conftest import ToolServer
from tests.xapi.test_profile import GRADER, NOW, TEACHER, TEMPLATES, _one_problem, _without, assessed, ctx, sid
from xapi import statements as st
from xapi import vocabulary
from xapi.profile import PROFILE_PATH, check_statement, load_profile
from xapi.vocabulary import PROFILE, PROFILE_VERSION, Extension

# The terms of the profile JSON-LD context (https://w3id.org/xapi/profiles/context, the specification repository's
# context/profile-context.jsonld), plus the two JSON-LD keywords it aliases: a key outside them has no meaning.
CONTEXT_TERMS = frozenset(
    """type id conformsTo prefLabel definition seeAlso versions author concepts templates patterns wasRevisionOf
    generatedAtTime name url inScheme deprecated broader narrower broadMatch narrowMatch exactMatch relatedMatch
    related recommendedActivityTypes recommendedVerbs context schema inlineSchema contentType activityDefinition verb
    objectActivityType contextGroupingActivityType contextParentActivityType contextOtherActivityType
    contextCategoryActivityType attachmentUsageType objectStatementRefTemplate contextStatementRefTemplate rules
    location selector presence any all none scopeNote primary alternates optional oneOrMore sequence
    zeroOrMore""".split()
) | {"@context", "@id", "@type"}
LANGUAGE_MAPS = frozenset({"prefLabel", "definition", "scopeNote"})
# Required properties of each kind of object, from the specification's tables (those not marked Optional).
REQUIRED: dict[str, set[str]] = {
    "Profile": {"id", "@context", "type", "conformsTo", "prefLabel", "definition", "versions", "author"},
    "Verb": {"id", "type", "inScheme", "prefLabel", "definition"},
    "ActivityType": {"id", "type", "inScheme", "prefLabel", "definition"},
    "ContextExtension": {"id", "type", "inScheme", "prefLabel", "definition"},
    "Activity": {"id", "type", "inScheme", "activityDefinition"},
    "StatementTemplate": {"id", "type", "inScheme", "prefLabel", "definition"},
    "Pattern": {"id", "type", "inScheme"},
}
PATTERN_KINDS = ("alternates", "optional", "oneOrMore", "sequence", "zeroOrMore")


def _keys_outside_the_context(node: Any, where: str = "$") -> list[str]:
    """Keys that are not terms of the profile context; language maps, activity definitions (xAPI's own JSON, under
    their own context) and rule values are not walked."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in CONTEXT_TERMS:
                found.append(f"{where}.{key}")
            elif key not in LANGUAGE_MAPS | {"activityDefinition", "any", "all", "none"}:
                found += _keys_outside_the_context(value, f"{where}.{key}")
    elif isinstance(node, list):
        for n, item in enumerate(node):
            found += _keys_outside_the_context(item, f"{where}[{n}]")
    return found


def test_every_key_of_the_profile_is_a_term_of_the_profiles_json_ld_context() -> None:
    assert load_profile()["@context"] == "https://w3id.org/xapi/profiles/context"
    assert _keys_outside_the_context(load_profile()) == []


def test_the_profile_and_each_concept_template_and_pattern_have_the_specifications_required_properties() -> None:
    profile = load_profile()
    assert REQUIRED["Profile"] <= set(profile)
    assert profile["author"]["type"] in {"Organization", "Person"} and profile["author"]["name"]
    assert all({"id", "generatedAtTime"} <= set(version) for version in profile["versions"])
    for item in profile["concepts"] + profile["templates"] + profile["patterns"]:
        missing = REQUIRED[item["type"]] - set(item)
        assert not missing, (item["id"], missing)
        assert item["inScheme"] == PROFILE_VERSION


def test_every_activity_definition_carries_the_activity_context() -> None:
    for concept in load_profile()["concepts"]:
        if concept["type"] == "Activity":
            assert concept["activityDefinition"]["@context"] == "https://w3id.org/xapi/profiles/activity-context"


def test_every_pattern_is_exactly_one_kind_and_names_only_templates_and_patterns_of_the_profile() -> None:
    profile = load_profile()
    known = {t["id"] for t in profile["templates"]} | {p["id"] for p in profile["patterns"]}
    for pattern in profile["patterns"]:
        kinds = [kind for kind in PATTERN_KINDS if kind in pattern]
        assert len(kinds) == 1, pattern["id"]
        members = pattern[kinds[0]] if isinstance(pattern[kinds[0]], list) else [pattern[kinds[0]]]
        if kinds[0] in ("alternates", "sequence"):
            assert len(members) >= 2, pattern["id"]
        assert set(members) <= known, pattern["id"]


def test_every_template_with_the_profile_category_is_used_in_a_pattern() -> None:
    """Spec: a statement that matches a template and names the profile version in category is part of a pattern."""
    profile = load_profile()
    used = {
        member
        for pattern in profile["patterns"]
        for kind in PATTERN_KINDS
        if kind in pattern
        for member in (pattern[kind] if isinstance(pattern[kind], list) else [pattern[kind]])
    }
    for template in profile["templates"]:
        if template.get("contextCategoryActivityType"):
            assert template["id"] in used, template["id"]


def test_the_profile_is_served_as_json_ld_with_the_id_and_version_its_statements_name(tool: ToolServer) -> None:
    response = requests.get(tool.url("/xapi/profile"), headers={"Accept": "application/ld+json"})

    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "application/ld+json"
    served = response.json()
    assert served == load_profile() and response.content == PROFILE_PATH.read_bytes()
    assert served["id"] == PROFILE
    category = assessed()["context"]["contextActivities"]["category"][0]["id"]
    assert category in {version["id"] for version in served["versions"]}


# --- the competency assessment's statements ------------------------------------------------------------------


def rated_by_trainer() -> dict[str, Any]:
    return st.competency_assessed(
        sid(), TEACHER, "F5", ctx(role=None), 4, 1, 5, "end", "trainer", "five-levels", NOW, assessor=GRADER
    )


def test_a_trainers_rating_follows_the_assessment_template_with_the_trainer_as_instructor() -> None:
    statement = rated_by_trainer()
    assert check_statement(statement, TEMPLATES + "competency-assessed") == []
    assert statement["context"]["instructor"] == GRADER.agent()
    assert statement["result"]["score"] == {"scaled": 0.75, "raw": 4, "min": 1, "max": 5}


def test_an_assessment_scales_its_level_into_the_range_xapi_allows() -> None:
    lowest = st.competency_assessed(sid(), TEACHER, "C3", ctx(role=None), 1, 1, 5, "start", "self", "s", NOW)
    highest = st.competency_assessed(sid(), TEACHER, "C3", ctx(role=None), 5, 1, 5, "end", "self", "s", NOW)
    assert lowest["result"]["score"]["scaled"] == 0 and highest["result"]["score"]["scaled"] == 1
    with pytest.raises(ValueError):
        st.competency_assessed(sid(), TEACHER, "C3", ctx(role=None), 6, 1, 5, "end", "self", "s", NOW)


def test_an_assessment_without_its_phase_is_named() -> None:
    statement = _without(assessed(), "context", "extensions", Extension.ASSESSMENT_PHASE)
    _one_problem(statement, Extension.ASSESSMENT_PHASE, "required but missing")


def test_the_assessed_competency_carries_the_frameworks_definition() -> None:
    definition = assessed()["object"]["definition"]
    assert definition["description"]["th-TH"] == competencies()["C4"].definition["th"]
    assert definition["description"]["en-US"] == competencies()["C4"].definition["en"]


def test_every_competency_activity_in_the_profile_gives_the_frameworks_definition() -> None:
    activities = {c["id"]: c for c in load_profile()["concepts"] if c["type"] == "Activity"}
    for code, competency in competencies().items():
        description = activities[vocabulary.competency_iri(code)]["activityDefinition"]["description"]
        assert description["th-TH"].endswith("หมายถึง " + competency.definition["th"])
        assert description["en-US"].endswith(": " + competency.definition["en"])
