"""Launches shaped exactly as Moodle 4.x sends them, and where a link's custom parameters take the person."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import url_for
from sqlalchemy import select

from lti_tool.lti.activities import Activity, from_custom
from models.people import Membership, Person, ResourceLink
from models.roles import AppRole
from tests.conftest import TEACHER, TRAINER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.support.moodle_claims import moodle_shape
from tests.test_launch import reason_of

ACTIVITY_PAGES = {
    "dashboard": ("home.landing", {}),
    "program": ("program.show", {}),
    "cycle": ("cycles.show", {"number": 2}),
    "session": ("sessions.list_sessions", {"cycle": 2, "element": 3}),
    "observation": ("observations.for_cycle", {"number": 2}),
    "reflection": ("reflections.show", {"number": 2}),
}


def expected_path(tool: ToolServer, kind: str) -> str:
    """The activity's page where this build of the tool has it, else the landing page."""
    endpoint, values = ACTIVITY_PAGES[kind]
    with tool.app.test_request_context():
        if endpoint not in tool.app.view_functions:
            return url_for("home.landing")
        return url_for(endpoint, **values)


def moodle_launch(platform: TestPlatform, user: Any = TEACHER, **shape: Any) -> requests.Response:
    platform.set_token_hook(moodle_shape(platform, **shape))
    return launch(requests.Session(), platform, user)


def led_to(landing: requests.Response) -> str:
    """The address a launch led to: the redirect's, or the one its page came with (in the launch's answer), as a
    path and query."""
    address = landing.history[0].headers["Location"] if landing.history else landing.url
    assert not landing.history or landing.history[0].status_code == 303
    return urlsplit(address)._replace(scheme="", netloc="").geturl()


# --- Moodle's claims are accepted as Moodle writes them ---------------------------------------------------------


def test_a_moodle_student_launch_is_accepted_with_moodles_own_claims(tool: ToolServer, platform: TestPlatform) -> None:
    landing = moodle_launch(platform, custom={"plc_activity": "dashboard"})

    assert landing.status_code == 200 and 'data-role="teacher"' in landing.text
    sent = platform.last_launch_claims
    assert sent["https://purl.imsglobal.org/spec/lti/claim/tool_platform"]["family_code"] == "moodle"
    assert "product_family_code" not in sent["https://purl.imsglobal.org/spec/lti/claim/tool_platform"]
    with tool.database.transaction() as db:
        person = db.scalars(select(Person).where(Person.sub == "5")).one()
        assert (person.name, person.email, person.locale) == ("สมศรี ใจดี", "somsri@school.ac.th", "th")


def test_moodles_login_hint_names_the_course_module(tool: ToolServer, platform: TestPlatform) -> None:
    launch(requests.Session(), platform, TEACHER)

    hint = json.loads(platform.last_auth_params["lti_message_hint"])
    assert hint["cmid"] >= 1 and hint["launchid"].startswith("ltilaunch_")


@pytest.mark.parametrize(
    ("role", "app_role"),
    [
        ("student", AppRole.TEACHER),
        ("editingteacher", AppRole.TRAINER),
        ("teacher", AppRole.TRAINER),
        ("siteadmin", AppRole.ADMIN),
    ],
)
def test_moodles_role_uris_map_to_app_roles(
    tool: ToolServer, platform: TestPlatform, role: str, app_role: AppRole
) -> None:
    landing = moodle_launch(platform, TRAINER, role=role, user_id="77")

    assert landing.status_code == 200
    with tool.database.transaction() as db:
        membership = db.scalars(select(Membership).join(Person).where(Person.sub == "77")).one()
        assert membership.app_role == app_role.value


def test_moodles_unreplaced_substitutions_arrive_as_text_and_are_kept_on_the_link(
    tool: ToolServer, platform: TestPlatform
) -> None:
    custom = {
        "plc_activity": "dashboard",
        "resource_link_history": "$ResourceLink.id.history",  # Moodle does not substitute it: sent as written
        "context_history": "2,1",
        "person_name": "สมศรี ใจดี",
    }

    landing = moodle_launch(platform, custom=custom)

    assert landing.status_code == 200
    with tool.database.transaction() as db:
        link = db.scalars(select(ResourceLink).where(ResourceLink.resource_link_id == "12")).one()
        assert link.custom == custom


def test_a_moodle_launch_without_a_context_is_refused_with_the_claim_named(
    tool: ToolServer, platform: TestPlatform
) -> None:
    moodle = moodle_shape(platform)

    def no_context(claims: dict[str, Any], header: dict[str, Any]) -> str:
        token = moodle(claims, header)
        body = dict(platform.last_launch_claims)
        body.pop("https://purl.imsglobal.org/spec/lti/claim/context")
        assert token
        return platform.sign(body, headers=header)

    platform.set_token_hook(no_context)
    refused = launch(requests.Session(), platform, TEACHER)

    assert refused.status_code == 400 and reason_of(refused) == "missing_claim"
    assert "https://purl.imsglobal.org/spec/lti/claim/context.id" in refused.text


# --- Where a link's custom parameters lead ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("custom", "kind"),
    [
        ({"plc_activity": "dashboard"}, "dashboard"),
        ({"plc_activity": "program"}, "program"),
        ({"plc_activity": "cycle", "plc_cycle": "2"}, "cycle"),
        ({"plc_activity": "session", "plc_cycle": "2", "plc_element": "3"}, "session"),
        ({"plc_activity": "observation", "plc_cycle": "2"}, "observation"),
        ({"plc_activity": "reflection", "plc_cycle": "2"}, "reflection"),
    ],
)
def test_a_moodle_link_opens_the_activity_its_custom_parameters_name(
    tool: ToolServer, platform: TestPlatform, custom: dict[str, str], kind: str
) -> None:
    landing = moodle_launch(platform, custom=custom)

    location = urlsplit(led_to(landing))
    query = parse_qs(location.query)
    assert query.pop("s")  # the session travels with the link where cookies are blocked
    expected = urlsplit(expected_path(tool, kind))
    assert (location.path, query) == (expected.path, parse_qs(expected.query))


@pytest.mark.parametrize(
    ("kind", "staff_path"), [("reflection", "/program/reflections"), ("observation", "/program/observations")]
)
def test_a_trainer_opening_a_teachers_form_lands_where_trainers_work_on_it(
    tool: ToolServer, platform: TestPlatform, kind: str, staff_path: str
) -> None:
    landing = moodle_launch(
        platform, TRAINER, role="editingteacher", user_id="77", custom={"plc_activity": kind, "plc_cycle": "2"}
    )

    assert urlsplit(led_to(landing)).path == staff_path


@pytest.mark.parametrize(
    "custom",
    [
        {},
        {"plc_activity": "grades"},
        {"plc_activity": "cycle"},
        {"plc_activity": "cycle", "plc_cycle": "$ResourceLink.id"},
        {"plc_activity": "cycle", "plc_cycle": "-1"},
        {"plc_activity": "reflection", "plc_cycle": "999"},
    ],
)
def test_a_link_without_a_usable_activity_opens_the_landing_page(
    tool: ToolServer, platform: TestPlatform, custom: dict[str, str]
) -> None:
    landing = moodle_launch(platform, custom=custom)

    assert led_to(landing).split("?", 1)[0] == "/home"


def test_a_trainer_follows_a_program_link_to_the_program_page(tool: ToolServer, platform: TestPlatform) -> None:
    landing = launch(requests.Session(), platform, TRAINER, custom={"plc_activity": "program"})

    assert landing.status_code == 200 and landing.url.startswith(tool.url("/program?"))


# --- The custom parameters themselves ---------------------------------------------------------------------------


def test_custom_parameters_name_an_activity_as_strings() -> None:
    assert Activity("session", 2, 4).custom_parameters() == {
        "plc_activity": "session",
        "plc_cycle": "2",
        "plc_element": "4",
    }
    assert Activity("dashboard").custom_parameters() == {"plc_activity": "dashboard"}


def test_an_activity_is_read_back_from_its_own_custom_parameters() -> None:
    for activity in (Activity("program"), Activity("cycle", 3), Activity("session", 1, 5), Activity("reflection", 2)):
        assert from_custom(activity.custom_parameters()) == activity


def test_a_cycle_or_element_given_where_it_means_nothing_is_dropped() -> None:
    assert from_custom({"plc_activity": "dashboard", "plc_cycle": "2", "plc_element": "1"}) == Activity("dashboard")
    assert from_custom({"plc_activity": "cycle", "plc_cycle": " 2 ", "plc_element": "1"}) == Activity("cycle", 2)


def test_a_session_link_without_an_element_still_opens_the_cycles_sessions() -> None:
    assert from_custom({"plc_activity": "session", "plc_cycle": "2"}) == Activity("session", 2, None)
    assert from_custom({"plc_activity": "Session", "plc_cycle": "2", "plc_element": "9"}) == Activity(
        "session", 2, None
    )
