"""The xAPI Profile document and the statement checks against it; every builder's statement must conform."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from models.catalog import competencies
from xapi import statements as st
from xapi import vocabulary
from xapi.profile import PROFILE_PATH, check_statement, concept_ids, load_profile, template_for
from xapi.vocabulary import PROFILE, PROFILE_VERSION, ActivityType, Extension, Verb

BANGKOK = timezone(timedelta(hours=7))
NOW = datetime(2026, 11, 23, 14, 30, tzinfo=BANGKOK)
ISSUER = "https://moodle.example.go.th"
BASE = "https://plc.example.go.th"
TEMPLATES = PROFILE + "/templates/"
# Vocabulary constants no builder uses, so the profile does not describe them (reported to the lead).

TEACHER = st.Actor(issuer=ISSUER, sub="1234")
MODEL_TEACHER = st.Actor(issuer=ISSUER, sub="5678")
GRADER = st.Actor(issuer=ISSUER, sub="9001", email="wichai.trainer@example.go.th")


def _activity(kind: str, type_: str, th: str, en: str, *parts: str) -> st.Activity:
    return st.Activity(st.activity_iri(BASE, kind, ISSUER, *parts), type_, {"th": th, "en": en})


COURSE = _activity(
    "course", ActivityType.COURSE, "PLC โรงเรียนบ้านหนองบัว ภาคเรียนที่ 2/2569", "Ban Nong Bua PLC, term 2/2026", "c-77"
)
PROGRAM = _activity(
    "program", ActivityType.PROGRAM, "โครงการ PLC สพป.ขอนแก่น เขต 1", "Khon Kaen PESAO 1 PLC program", "p-1"
)
TEAM = _activity("team", ActivityType.TEAM, "ทีมคณิตศาสตร์ ป.4", "Primary 4 mathematics team", "t-3")


def ctx(element: int | None = None, role: str | None = "buddy", extra: dict[str, Any] | None = None) -> st.PlcContext:
    return st.PlcContext(
        course=COURSE,
        language="th-TH",
        platform="Moodle 4.5",
        program=PROGRAM,
        team=TEAM,
        registration="0b9b7a4e-3c1f-4f5e-9a53-8f2f6b1f2d10",
        cycle_number=1,
        element_number=element,
        plc_role=role,
        extra=extra or {},
    )


def sid() -> str:
    return str(uuid.uuid4())


def launched() -> dict[str, Any]:
    placement = _activity("placement", ActivityType.TOOL, "PLC Bridge", "PLC Bridge", "rl-12")
    return st.launched(sid(), TEACHER, placement, ctx(), "teacher", NOW)


def attended() -> dict[str, Any]:
    session = _activity("session", ActivityType.SESSION, "ประชุมกำหนดค่านิยมร่วม", "Shared values meeting", "s-1")
    return st.attended_session(sid(), TEACHER, session, ctx(element=1), Decimal("1.5"), NOW)


def taught() -> dict[str, Any]:
    lesson = _activity("lesson", ActivityType.LESSON, "เศษส่วนอย่างง่าย", "Simple fractions", "l-1")
    extra = {Extension.LEARNING_AREA: "คณิตศาสตร์", Extension.GRADE_LEVEL: "ป.4"}
    return st.taught_model_lesson(sid(), MODEL_TEACHER, lesson, ctx(role="model", extra=extra), NOW)


def observed() -> dict[str, Any]:
    observation = _activity(
        "observation", ActivityType.OBSERVATION, "สังเกตชั้นเรียน เศษส่วน", "Fractions observation", "o-1"
    )
    return st.observation_submitted(sid(), TEACHER, observation, ctx(), MODEL_TEACHER, NOW)


REFLECTION = _activity(
    "reflection", ActivityType.REFLECTION, "สะท้อนผลหลังสังเกตชั้นเรียน", "Reflection after observing", "r-1"
)


def reflected() -> dict[str, Any]:
    return st.reflection_submitted(sid(), TEACHER, REFLECTION, ctx(element=5), NOW)


def scored() -> dict[str, Any]:
    return st.reflection_scored(
        sid(), TEACHER, REFLECTION, ctx(element=5), 8, 0, 10, GRADER, NOW, comment="สะท้อนผลได้ชัดเจน มีหลักฐานจากผู้เรียน"
    )


def completed_element() -> dict[str, Any]:
    element = _activity(
        "element", ActivityType.ELEMENT, "องค์ประกอบที่ 3 ของวงรอบที่ 1", "Cycle 1, element 3", "cy-1", "e-3"
    )
    return st.completed(sid(), TEACHER, element, ctx(element=3), NOW)


def completed_cycle() -> dict[str, Any]:
    cycle = _activity("cycle", ActivityType.CYCLE, "วงรอบที่ 1", "Cycle 1", "cy-1")
    return st.completed(sid(), TEACHER, cycle, ctx(), NOW)


def completed_program() -> dict[str, Any]:
    return st.completed(sid(), TEACHER, PROGRAM, ctx(role=None), NOW)


def certificate() -> dict[str, Any]:
    cert = _activity("certificate", ActivityType.CERTIFICATE, "เกียรติบัตร PLC 2569", "PLC certificate 2026", "cert-9")
    return st.certificate_earned(sid(), TEACHER, cert, ctx(role=None), Decimal("20"), NOW)


def assessed() -> dict[str, Any]:
    return st.competency_assessed(sid(), TEACHER, "C4", ctx(role=None), 3, 1, 5, "start", "self", "five-levels", NOW)


def voided() -> dict[str, Any]:
    return st.voided(sid(), GRADER, str(uuid.uuid4()), NOW)


BUILT: dict[str, Callable[[], dict[str, Any]]] = {
    "launched": launched,
    "attended-session": attended,
    "taught-model-lesson": taught,
    "observation-submitted": observed,
    "reflection-submitted": reflected,
    "reflection-scored": scored,
    "completed-element": completed_element,
    "completed-cycle": completed_cycle,
    "completed-program": completed_program,
    "certificate-earned": certificate,
    "competency-assessed": assessed,
    "voided": voided,
}


def _without(statement: dict[str, Any], *path: str) -> dict[str, Any]:
    changed = copy.deepcopy(statement)
    holder = changed
    for key in path[:-1]:
        holder = holder[key]
    del holder[path[-1]]
    return changed


def _one_problem(statement: dict[str, Any], *fragments: str) -> str:
    problems = check_statement(statement)
    assert len(problems) == 1, problems
    for fragment in fragments:
        assert fragment in problems[0], problems[0]
    return problems[0]


# --- every builder conforms ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILT)
def test_every_builder_follows_its_template(name: str) -> None:
    statement = BUILT[name]()
    template = template_for(statement)
    assert template is not None and template["id"] == TEMPLATES + name
    assert check_statement(statement) == []
    assert check_statement(statement, TEMPLATES + name) == []


def test_every_template_has_a_builder() -> None:
    assert {t["id"] for t in load_profile()["templates"]} == {TEMPLATES + name for name in BUILT}


def test_a_statement_with_an_email_actor_still_conforms() -> None:
    statement = st.attended_session(
        sid(),
        st.Actor(ISSUER, "1234", "somsri@example.go.th"),
        _activity("session", ActivityType.SESSION, "ประชุม", "Meeting", "s-2"),
        ctx(element=2),
        2,
        NOW,
    )
    assert check_statement(statement) == []


@pytest.mark.parametrize("name", BUILT)
def test_statements_validate_with_ralph(name: str) -> None:
    try:
        from ralph.models.xapi.base.statements import BaseXapiStatement
    except ImportError as error:  # pragma: no cover - ralph-malph is a test dependency
        pytest.skip(f"ralph-malph is not installed, so its pydantic xAPI models cannot check the statements: {error}")
    statement = BUILT[name]()
    BaseXapiStatement(**json.loads(json.dumps(statement)))  # as the LRS receives it: plain JSON


# --- each kind of problem is named ---------------------------------------------------------------------


def test_unknown_verb_is_named() -> None:
    statement = attended()
    statement["verb"]["id"] = "http://adlnet.gov/expapi/verbs/experienced"
    _one_problem(statement, "http://adlnet.gov/expapi/verbs/experienced", "not the verb of any statement template")


def test_wrong_verb_for_the_object_type_is_named() -> None:
    statement = taught()
    statement["verb"]["id"] = Verb.COMPLETED
    problem = _one_problem(statement, Verb.COMPLETED, ActivityType.LESSON, ActivityType.ELEMENT)
    assert Verb.TAUGHT in problem  # and which verb a lesson takes


def test_checking_against_a_given_template_names_verb_and_object_type() -> None:
    statement = taught()
    problems = check_statement(statement, TEMPLATES + "attended-session")
    assert any("verb is" in p and Verb.TAUGHT in p and Verb.ATTENDED in p for p in problems), problems
    assert any("object activity type" in p and ActivityType.SESSION in p for p in problems), problems


def test_missing_parent_course_is_named() -> None:
    statement = attended()
    statement["context"]["contextActivities"]["parent"][0]["definition"]["type"] = ActivityType.PROGRAM
    _one_problem(statement, "contextActivities.parent", ActivityType.COURSE, "contextParentActivityType")


def test_missing_profile_category_is_named() -> None:
    statement = _without(completed_cycle(), "context", "contextActivities", "category")
    problems = check_statement(statement)
    assert any("contextActivities.category" in p and ActivityType.PROFILE in p for p in problems), problems
    assert any("category[*].id" in p and "missing" in p for p in problems), problems


def test_missing_competencies_are_named() -> None:
    statement = _without(observed(), "context", "contextActivities", "other")
    problems = check_statement(statement)
    assert any("contextActivities.other" in p and ActivityType.COMPETENCY in p for p in problems), problems


def test_attended_without_duration_is_named() -> None:
    _one_problem(_without(attended(), "result", "duration"), "$.result.duration", "required but missing", "Attended")


def test_attended_without_hours_is_named() -> None:
    _one_problem(
        _without(attended(), "context", "extensions", Extension.HOURS), Extension.HOURS, "required but missing"
    )


def test_attended_without_element_number_is_named() -> None:
    statement = _without(attended(), "context", "extensions", Extension.ELEMENT_NUMBER)
    _one_problem(statement, Extension.ELEMENT_NUMBER, "required but missing")


def test_scored_without_instructor_is_named() -> None:
    _one_problem(
        _without(scored(), "context", "instructor"), "$.context.instructor", "required but missing", "Reflection scored"
    )


@pytest.mark.parametrize("part", ["scaled", "raw", "min", "max"])
def test_scored_without_each_score_part_is_named(part: str) -> None:
    _one_problem(_without(scored(), "result", "score", part), f"$.result.score.{part}", "required but missing")


def test_launched_without_app_role_is_named() -> None:
    _one_problem(
        _without(launched(), "context", "extensions", Extension.APP_ROLE), Extension.APP_ROLE, "required but missing"
    )


def test_excluded_value_is_named() -> None:
    statement = reflected()
    statement["result"]["score"] = {"scaled": 0.5}
    _one_problem(statement, "$.result.score", "must be absent")


def test_value_outside_all_is_named() -> None:
    statement = certificate()
    statement["result"]["success"] = False
    _one_problem(statement, "$.result.success", "allows only [True]", "False")


def test_value_missing_from_any_is_named() -> None:
    statement = launched()
    statement["context"]["contextActivities"]["category"][0]["id"] = PROFILE + "/v0.9"
    _one_problem(statement, "category[*].id", PROFILE_VERSION, "must include one of")


def test_recommended_value_is_only_checked_when_present() -> None:
    statement = taught()
    statement["context"]["extensions"][Extension.PLC_ROLE] = "buddy"
    _one_problem(statement, Extension.PLC_ROLE, "allows only ['model']")
    assert check_statement(_without(taught(), "context", "extensions", Extension.PLC_ROLE)) == []


def test_extension_value_against_the_inline_schema_is_named() -> None:
    statement = attended()
    statement["context"]["extensions"][Extension.HOURS] = -2
    _one_problem(statement, Extension.HOURS, "at least 0")
    statement = launched()
    statement["context"]["extensions"][Extension.PLC_ROLE] = "mentor"
    _one_problem(statement, Extension.PLC_ROLE, "one of ['model', 'buddy']")
    statement = taught()
    statement["context"]["extensions"][Extension.CYCLE_NUMBER] = "1"
    _one_problem(statement, Extension.CYCLE_NUMBER, "type integer")


def test_element_number_out_of_range_is_named() -> None:
    statement = completed_element()
    statement["context"]["extensions"][Extension.ELEMENT_NUMBER] = 6
    problems = check_statement(statement)
    assert any(Extension.ELEMENT_NUMBER in p and "allows only [1, 2, 3, 4, 5]" in p for p in problems), problems
    assert any(Extension.ELEMENT_NUMBER in p and "at most 5" in p for p in problems), problems


def test_context_extension_in_result_is_named() -> None:
    statement = attended()
    statement["result"]["extensions"] = {Extension.HOURS: 1.5}
    _one_problem(statement, Extension.HOURS, "ContextExtension", "must not be used in result")


def test_voided_needs_a_statement_ref() -> None:
    statement = voided()
    statement["object"] = {"objectType": "Activity", "id": BASE + "/xapi/activities/x"}
    problems = check_statement(statement)
    assert any("must be a StatementRef" in p for p in problems), problems
    assert any("$.object.objectType" in p and "StatementRef" in p for p in problems), problems


def test_single_context_activity_objects_are_normalized() -> None:
    statement = attended()
    activities = statement["context"]["contextActivities"]
    activities["parent"] = activities["parent"][0]
    assert check_statement(statement) == []


# --- the document --------------------------------------------------------------------------------------


def _vocabulary_iris() -> set[str]:
    iris = {PROFILE_VERSION}
    for holder in (Verb, ActivityType, Extension):
        iris |= {value for name, value in vars(holder).items() if name.isupper() and isinstance(value, str)}
    return iris


def test_every_vocabulary_iri_and_competency_is_in_the_profile() -> None:
    profile = load_profile()
    described = concept_ids() | {profile["id"]} | {v["id"] for v in profile["versions"]}
    missing = _vocabulary_iris() - described
    assert not missing
    assert {vocabulary.competency_iri(code) for code in competencies()} <= concept_ids()


def test_document_parses_and_has_the_required_properties() -> None:
    raw = json.loads(PROFILE_PATH.read_text(encoding="utf-8"))
    assert raw["@context"] == "https://w3id.org/xapi/profiles/context"
    assert raw["id"] == PROFILE and raw["type"] == "Profile"
    assert raw["conformsTo"] == "https://w3id.org/xapi/profiles#1.0"
    assert raw["author"] == {"type": "Organization", "name": "PLC Bridge"}
    assert raw["versions"][0] == {"id": PROFILE_VERSION, "generatedAtTime": "2026-11-23T00:00:00Z"}
    for key in ("prefLabel", "definition"):
        assert set(raw[key]) == {"th-TH", "en-US"} and all(raw[key].values())
    for key in ("concepts", "templates", "patterns"):
        assert raw[key]


def _every_value(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [node] + [v for value in node.values() for v in _every_value(value)]
    if isinstance(node, list):
        return [node] + [v for value in node for v in _every_value(value)]
    return [node]


def test_no_empty_values_and_ids_are_unique() -> None:
    profile = load_profile()
    assert not [v for v in _every_value(profile) if v in ({}, [], "", None)]
    ids = [item["id"] for key in ("concepts", "templates", "patterns") for item in profile[key]]
    assert len(ids) == len(set(ids))


def test_every_concept_template_and_pattern_is_labelled_in_thai_and_english() -> None:
    profile = load_profile()
    for item in profile["concepts"] + profile["templates"] + profile["patterns"]:
        assert item["inScheme"] == PROFILE_VERSION, item["id"]
        # An Activity concept has no prefLabel in the spec: its name is in the activity definition.
        labels = item["activityDefinition"]["name"] if item["type"] == "Activity" else item["prefLabel"]
        assert set(labels) == {"th-TH", "en-US"} and all(labels.values()), item["id"]
        if item["type"] != "Activity":
            assert set(item["definition"]) == {"th-TH", "en-US"} and all(item["definition"].values()), item["id"]


def test_concepts_are_well_formed() -> None:
    kinds = {"Verb", "ActivityType", "ContextExtension", "Activity"}
    for concept in load_profile()["concepts"]:
        assert concept["type"] in kinds, concept["id"]
        if concept["type"] == "ContextExtension":
            assert "recommendedActivityTypes" not in concept  # only allowed on ActivityExtension
            assert isinstance(json.loads(concept["inlineSchema"]), dict)
        if concept["type"] == "Activity":
            definition = concept["activityDefinition"]
            assert definition["@context"] == "https://w3id.org/xapi/profiles/activity-context"
            assert definition["type"] == ActivityType.COMPETENCY


def test_competency_activities_match_the_catalog() -> None:
    by_id = {c["id"]: c for c in load_profile()["concepts"]}
    for code, competency in competencies().items():
        name = by_id[vocabulary.competency_iri(code)]["activityDefinition"]["name"]
        assert name == {"th-TH": competency.name["th"], "en-US": competency.name["en"]}


def test_templates_are_well_formed() -> None:
    profile = load_profile()
    template_ids = {t["id"] for t in profile["templates"]}
    concepts = {c["id"]: c["type"] for c in profile["concepts"]}
    for template in profile["templates"]:
        assert template["type"] == "StatementTemplate"
        assert template["id"].startswith(TEMPLATES)
        assert concepts[template["verb"]] == "Verb"
        assert not ("objectActivityType" in template and "objectStatementRefTemplate" in template)
        for prop in ("objectActivityType",):
            if prop in template:
                assert concepts[template[prop]] == "ActivityType"
        for prop in ("contextParentActivityType", "contextCategoryActivityType", "contextOtherActivityType"):
            assert all(concepts[t] == "ActivityType" for t in template.get(prop, []))
        assert set(template.get("objectStatementRefTemplate", [])) <= template_ids
        for rule in template["rules"]:
            assert rule["location"].startswith("$")
            assert "?(" not in rule["location"]  # the spec forbids filter expressions
            assert {"presence", "any", "all", "none"} & set(rule)
            assert rule.get("presence", "included") in {"included", "excluded", "recommended"}


def test_patterns_are_well_formed() -> None:
    profile = load_profile()
    patterns = {p["id"]: p for p in profile["patterns"]}
    known = patterns.keys() | {t["id"] for t in profile["templates"]}
    operators = ("alternates", "optional", "oneOrMore", "sequence", "zeroOrMore")
    assert any(p.get("primary") for p in patterns.values())

    def members(pattern: dict[str, Any]) -> list[str]:
        return [
            m
            for op in operators
            if op in pattern
            for m in (pattern[op] if isinstance(pattern[op], list) else [pattern[op]])
        ]

    for pattern in patterns.values():
        assert pattern["type"] == "Pattern"
        assert sum(op in pattern for op in operators) == 1, pattern["id"]
        assert set(members(pattern)) <= known, pattern["id"]
        if "alternates" in pattern:
            assert len(pattern["alternates"]) >= 2
            assert not any({"optional", "zeroOrMore"} & set(patterns.get(m, {})) for m in pattern["alternates"])
        if "sequence" in pattern:
            assert len(pattern["sequence"]) >= 2

    def contains_itself(start: str, current: str, seen: frozenset[str]) -> bool:
        for member in members(patterns[current]):
            if member == start or (
                member in patterns and member not in seen and contains_itself(start, member, seen | {member})
            ):
                return True
        return False

    assert not [p for p in patterns if contains_itself(p, p, frozenset())]
