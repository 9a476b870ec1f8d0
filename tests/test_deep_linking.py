"""Deep Linking 2.0 over real HTTP: an instructor picks a PLC activity; the platform receives a signed link to it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import delete, select

from lti_tool.lti.deep_linking import reflection_maximum
from models.outbox import OutboxStatement
from models.people import Context, ResourceLink
from models.platform import Platform
from models.programs import Program
from tests.conftest import TEACHER, TRAINER, ToolServer, register
from tests.support.lti_platform import LaunchUser, submit_auto_form
from tests.support.platform_registration import DL, AdvantagePlatform, DeepLinkReturn
from tests.test_launch import reason_of

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
ADMIN = LaunchUser(
    sub="u-admin-1",
    name="ธีรวัฒน์ พงษ์ไทย",
    given_name="ธีรวัฒน์",
    family_name="พงษ์ไทย",
    email="teerawat@example.org",
    roles=["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator", LIS + "Instructor"],
)


@pytest.fixture(scope="module")
def moodle(tool: ToolServer) -> Iterator[AdvantagePlatform]:
    """A Moodle-like platform registered with the tool, offering Deep Linking and taking its answers."""
    platform = AdvantagePlatform(client_id="dl-client", deployment_id="7").start()
    platform.configure_tool(
        login_url=tool.url("/lti/login"), launch_url=tool.url("/lti/launch"), jwks_url=tool.url("/lti/jwks")
    )
    for user in (TEACHER, TRAINER, ADMIN):
        platform.add_user(user)
    register(tool, platform)
    yield platform
    platform.stop()
    with tool.database.transaction() as db:
        db.execute(delete(Platform).where(Platform.issuer == platform.issuer))


@pytest.fixture(autouse=True)
def _reset(moodle: AdvantagePlatform) -> Iterator[None]:
    yield
    moodle.deep_link_returns.clear()
    moodle.token_hook = None


def open_picker(
    session: requests.Session, moodle: AdvantagePlatform, user: LaunchUser = TRAINER, **request: Any
) -> requests.Response:
    auth_page = session.get(
        moodle.deep_linking_initiation_url(user.sub, "course-42", "PLC วิทยาศาสตร์ ม.2", **request), timeout=10
    )
    assert auth_page.status_code == 200, auth_page.text[:300]
    return submit_auto_form(session, auth_page)


def refused_request(
    tool: ToolServer, moodle: AdvantagePlatform, user: LaunchUser = TRAINER, **request: Any
) -> tuple[requests.Response, dict[str, Any], dict[str, Any]]:
    """A Deep Linking request up to the tool's launch endpoint: (its answer, the tool's state before, after)."""
    session = requests.Session()
    auth_page = session.get(moodle.deep_linking_initiation_url(user.sub, "course-42", **request), timeout=10)
    assert auth_page.status_code == 200, auth_page.text[:300]
    before = tool.snapshot()
    return submit_auto_form(session, auth_page), before, tool.snapshot()


def choose(session: requests.Session, picker: requests.Response, **fields: str) -> requests.Response:
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', picker.text)
    assert csrf, picker.text[:300]
    action = re.search(r'<form method="post" action="([^"]+)"', picker.text)
    assert action
    return session.post(
        picker.url.split("/lti/", 1)[0] + action.group(1).replace("&amp;", "&"),
        data={"csrf": csrf.group(1), **fields},
        timeout=10,
    )


def add(moodle: AdvantagePlatform, **fields: str) -> DeepLinkReturn:
    """The whole round trip: picker, choice, the auto-submitted answer, the platform's verdict."""
    session = requests.Session()
    answer_page = choose(session, open_picker(session, moodle), **fields)
    assert answer_page.status_code == 200, answer_page.text[:300]
    platform_page = submit_auto_form(session, answer_page)
    assert platform_page.status_code == 200, platform_page.text
    return moodle.deep_link_returns[-1]


def answer_token(moodle: AdvantagePlatform, **fields: str) -> tuple[str, str]:
    """The (return URL, JWT) of the tool's answer, without posting it."""
    session = requests.Session()
    page = choose(session, open_picker(session, moodle, data={"moodle": "select-content-42"}), **fields)
    action = re.search(r'action="([^"]+)"', page.text)
    token = re.search(r'name="JWT" value="([^"]+)"', page.text)
    assert action and token, page.text[:300]
    return action.group(1).replace("&amp;", "&"), token.group(1)


def tool_public_key(tool: ToolServer, kid: str) -> Any:
    keys = requests.get(tool.url("/lti/jwks"), timeout=10).json()["keys"]
    [jwk] = [k for k in keys if k["kid"] == kid]
    return RSAAlgorithm.from_jwk(json.dumps(jwk))


# --- The picker ------------------------------------------------------------------------------------------------


def test_a_trainers_deep_linking_request_opens_the_picker_with_every_kind_of_activity(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    picker = open_picker(requests.Session(), moodle)

    assert picker.status_code == 200 and picker.url.startswith(tool.url("/lti/deep-link"))
    for kind in ("program", "cycle", "session", "observation", "reflection", "dashboard"):
        assert f'id="activity-{kind}"' in picker.text
    assert re.findall(r'<option value="(\d+)"', picker.text.split('id="cycle"')[1].split("</select>")[0]) == [
        "1",
        "2",
        "3",
    ]
    assert 'name="csrf"' in picker.text and "<script>" not in picker.text


def test_an_administrator_may_deep_link_too(tool: ToolServer, moodle: AdvantagePlatform) -> None:
    picker = open_picker(requests.Session(), moodle, ADMIN)

    assert picker.status_code == 200 and 'id="activity-reflection"' in picker.text


def test_the_picker_offers_the_cycles_the_course_program_plans(tool: ToolServer, moodle: AdvantagePlatform) -> None:
    session = requests.Session()
    open_picker(session, moodle)
    with tool.database.transaction() as db:
        context = db.scalars(select(Context).join(Platform).where(Platform.issuer == moodle.issuer)).one()
        db.add(Program(platform_id=context.platform_id, context_id=context.id, name="PLC ม.2", planned_cycles=5))

    picker = open_picker(session, moodle)

    cycle_select = picker.text.split('id="cycle"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\d+)"', cycle_select) == ["1", "2", "3", "4", "5"]


def test_a_deep_linking_launch_records_no_resource_link_and_no_learning_record(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    open_picker(requests.Session(), moodle)

    with tool.database.transaction() as db:
        assert db.scalars(select(ResourceLink)).all() == []
        assert db.scalars(select(OutboxStatement)).all() == []


# --- The answer, checked as a platform checks it -----------------------------------------------------------------


def test_the_graded_reflection_comes_back_as_a_signed_resource_link_with_a_line_item(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    verdict = add(moodle, activity="reflection", cycle="2")

    assert verdict.accepted, verdict.reason
    [item] = verdict.content_items
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == tool.url("/lti/launch") and "?" not in item["url"]
    assert item["custom"] == {"plc_activity": "reflection", "plc_cycle": "2"}
    assert item["lineItem"] == {
        "scoreMaximum": reflection_maximum(),
        "label": item["title"],
        "resourceId": "plc-reflection-cycle-2",
        "tag": "plc-reflection",
    }


def test_the_answer_verifies_against_the_tools_jwks_with_every_claim_a_platform_checks(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    return_url, token = answer_token(moodle, activity="cycle", cycle="1")

    header = jwt.get_unverified_header(token)
    claims = jwt.decode(
        token, tool_public_key(tool, header["kid"]), algorithms=["RS256"], audience=moodle.issuer, issuer="dl-client"
    )
    assert header["alg"] == "RS256"
    assert claims["nonce"] and claims["exp"] > claims["iat"]
    assert claims[LTI + "deployment_id"] == "7"
    assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[LTI + "version"] == "1.3.0"
    assert claims[DL + "data"] == {"moodle": "select-content-42"}
    assert return_url.startswith(moodle.issuer + "/mod/lti/contentitem_return.php?course=")


def test_without_data_in_the_request_the_answer_carries_none(tool: ToolServer, moodle: AdvantagePlatform) -> None:
    verdict = add(moodle, activity="dashboard")

    assert verdict.accepted, verdict.reason
    assert DL + "data" not in verdict.claims


def test_two_answers_carry_two_nonces(tool: ToolServer, moodle: AdvantagePlatform) -> None:
    first, second = add(moodle, activity="program"), add(moodle, activity="program")

    assert first.accepted and second.accepted
    assert first.claims["nonce"] != second.claims["nonce"]


@pytest.mark.parametrize(
    ("fields", "custom"),
    [
        ({"activity": "program"}, {"plc_activity": "program"}),
        ({"activity": "cycle", "cycle": "3"}, {"plc_activity": "cycle", "plc_cycle": "3"}),
        (
            {"activity": "session", "cycle": "1", "element": "4"},
            {"plc_activity": "session", "plc_cycle": "1", "plc_element": "4"},
        ),
        ({"activity": "observation", "cycle": "2"}, {"plc_activity": "observation", "plc_cycle": "2"}),
        ({"activity": "dashboard", "cycle": "2"}, {"plc_activity": "dashboard"}),
    ],
)
def test_each_activity_is_named_by_its_custom_parameters_and_only_the_reflection_is_graded(
    tool: ToolServer, moodle: AdvantagePlatform, fields: dict[str, str], custom: dict[str, str]
) -> None:
    verdict = add(moodle, **fields)

    [item] = verdict.content_items
    assert item["custom"] == custom
    assert "lineItem" not in item


def test_the_instructors_title_is_kept_and_a_default_title_is_given_otherwise(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    titled = add(moodle, activity="observation", cycle="1", title="สังเกตชั้นเรียน รอบที่ 1")
    untitled = add(moodle, activity="session", cycle="2", element="5")

    assert titled.content_items[0]["title"] == "สังเกตชั้นเรียน รอบที่ 1"
    assert untitled.content_items[0]["title"] == "PLC cycle 2: Reflection dialogue"  # the trainer's locale is en


# --- Refusals ---------------------------------------------------------------------------------------------------


def test_a_learner_may_not_deep_link_and_nothing_is_written(tool: ToolServer, moodle: AdvantagePlatform) -> None:
    refused, before, after = refused_request(tool, moodle, TEACHER)

    assert refused.status_code == 403 and reason_of(refused) == "deep_linking_not_allowed"
    assert "trainers and administrators may add PLC Bridge activities" in refused.text
    assert after == before


def test_a_request_without_a_return_url_is_refused_and_nothing_is_written(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    refused, before, after = refused_request(tool, moodle, return_url=None)

    assert refused.status_code == 400 and reason_of(refused) == "deep_link_return_url_missing"
    assert "deep_link_return_url" in refused.text
    assert after == before


def test_a_request_that_accepts_no_resource_links_is_refused(tool: ToolServer, moodle: AdvantagePlatform) -> None:
    refused, before, after = refused_request(tool, moodle, accept_types=["file", "html"])

    assert refused.status_code == 400 and reason_of(refused) == "deep_linking_types_unsupported"
    assert "file, html" in refused.text
    assert after == before


def test_a_forged_deep_linking_request_is_refused_and_nothing_is_written(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    moodle.set_token_hook(lambda claims, header: moodle.sign(claims, headers=header, key=moodle.other_private_key_pem))
    refused, before, after = refused_request(tool, moodle)

    assert refused.status_code == 401 and reason_of(refused) == "bad_signature"
    assert after == before


def test_a_deep_linking_request_claiming_a_learner_is_an_instructor_elsewhere_is_still_refused(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    def as_learner(claims: dict[str, Any], header: dict[str, Any]) -> str:
        claims[LTI + "roles"] = [LIS + "Learner", "http://purl.imsglobal.org/vocab/lis/v2/system/person#User"]
        return moodle.sign(claims, headers=header)

    moodle.set_token_hook(as_learner)

    refused = open_picker(requests.Session(), moodle)

    assert refused.status_code == 403 and reason_of(refused) == "deep_linking_not_allowed"


def test_a_choice_without_the_form_token_adds_nothing(tool: ToolServer, moodle: AdvantagePlatform) -> None:
    session = requests.Session()
    picker = open_picker(session, moodle)
    token = picker.url.split("s=", 1)[1]

    refused = session.post(tool.url("/lti/deep-link"), params={"s": token}, data={"activity": "program"}, timeout=10)

    assert refused.status_code == 400 and "JWT" not in refused.text
    assert moodle.deep_link_returns == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({}, "activity", "Choose what to add."),
        ({"activity": "cycle", "cycle": "9"}, "cycle", "Choose a cycle from 1 to 3."),
        ({"activity": "reflection", "cycle": "x"}, "cycle", "Choose a cycle from 1 to 3."),
        ({"activity": "session", "cycle": "1", "element": "6"}, "element", "Choose one of the five PLC elements."),
        ({"activity": "nonsense"}, "activity", "Choose what to add."),
    ],
)
def test_a_bad_choice_is_shown_beside_its_field_and_nothing_is_sent(
    tool: ToolServer, moodle: AdvantagePlatform, fields: dict[str, str], field: str, message: str
) -> None:
    session = requests.Session()
    page = choose(session, open_picker(session, moodle), **fields)

    assert page.status_code == 400
    assert f'id="{field}-error" class="field-error">{message}<' in page.text
    assert 'name="JWT"' not in page.text
    assert moodle.deep_link_returns == []


def test_a_learners_session_cannot_open_the_picker(tool: ToolServer, moodle: AdvantagePlatform) -> None:
    from tests.conftest import launch

    landing = launch(requests.Session(), moodle, TEACHER)
    token = landing.url.split("s=", 1)[1]

    refused = requests.get(tool.url("/lti/deep-link"), params={"s": token}, timeout=10)

    assert refused.status_code == 403


def test_a_trainers_ordinary_launch_cannot_answer_a_deep_linking_request(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    from tests.conftest import launch

    landing = launch(requests.Session(), moodle, TRAINER)
    token = landing.url.split("s=", 1)[1]

    refused = requests.get(tool.url("/lti/deep-link"), params={"s": token}, timeout=10)

    assert refused.status_code == 400 and "Add an activity" in refused.text


def test_the_picker_without_a_session_asks_to_open_it_from_the_lms(tool: ToolServer) -> None:
    refused = requests.get(tool.url("/lti/deep-link"), timeout=10)

    assert refused.status_code == 401


# --- The added link, launched ------------------------------------------------------------------------------------


def test_a_link_added_by_deep_linking_launches_into_its_activity(tool: ToolServer, moodle: AdvantagePlatform) -> None:
    from tests.conftest import launch

    [item] = add(moodle, activity="program").content_items

    landing = launch(requests.Session(), moodle, TEACHER, resource_link_id="cm-51", custom=item["custom"])

    assert landing.status_code == 200
    assert landing.url.startswith(tool.url("/program?")), landing.url


def test_moodles_deep_linking_login_hint_names_course_module_zero(tool: ToolServer, moodle: AdvantagePlatform) -> None:
    open_picker(requests.Session(), moodle)

    assert json.loads(moodle.last_auth_params["lti_message_hint"])["cmid"] == 0


def test_the_answer_goes_back_to_moodles_return_url_with_its_query_string_intact(
    tool: ToolServer, moodle: AdvantagePlatform
) -> None:
    return_url, _ = answer_token(moodle, activity="program")

    assert "?course=" in return_url and "&sesskey=Sk" in return_url
    assert return_url == moodle.last_launch_claims[DL + "deep_linking_settings"]["deep_link_return_url"]
