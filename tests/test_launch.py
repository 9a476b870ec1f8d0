"""LTI 1.3 launches over real HTTP from a Moodle-like platform with its own RS256 keys, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import pytest
import requests
from sqlalchemy import select

from models.people import Context, Membership, Person, ResourceLink
from models.platform import Platform
from models.roles import AppRole
from tests.conftest import TEACHER, TRAINER, ToolServer, launch
from tests.support.lti_platform import TestPlatform, submit_auto_form

LTI = "https://purl.imsglobal.org/spec/lti/claim/"


def reason_of(response: requests.Response) -> str:
    marker = "<code>"
    start = response.text.find(marker)
    return response.text[start + len(marker) : response.text.find("</code>", start)] if start >= 0 else ""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}.{_b64(signature)}"


# --- The happy paths ------------------------------------------------------------------------------------


def test_teacher_launch_lands_on_the_teacher_page(tool: ToolServer, platform: TestPlatform) -> None:
    response = launch(requests.Session(), platform, TEACHER)

    assert response.status_code == 200
    assert response.url.startswith(tool.url("/home"))
    assert "สมศรี ใจดี" in response.text
    assert "PLC วิทยาศาสตร์ ม.2" in response.text
    assert 'data-role="teacher"' in response.text


def test_trainer_launch_lands_on_the_trainer_page_with_course_people(tool: ToolServer, platform: TestPlatform) -> None:
    launch(requests.Session(), platform, TEACHER)
    response = launch(requests.Session(), platform, TRAINER)

    assert response.status_code == 200
    assert 'data-role="trainer"' in response.text
    # The trainer sees who has launched in this course; English because the platform said locale "en".
    assert "People who have opened PLC Bridge in this course" in response.text
    assert "สมศรี ใจดี" in response.text


def test_launch_records_person_course_membership_and_resource_link(tool: ToolServer, platform: TestPlatform) -> None:
    launch(requests.Session(), platform, TEACHER, custom={"activity": "cycle-1"})

    with tool.database.transaction() as db:
        person = db.scalars(select(Person)).one()
        context = db.scalars(select(Context)).one()
        membership = db.scalars(select(Membership)).one()
        link = db.scalars(select(ResourceLink)).one()
        assert (person.sub, person.platform.issuer, person.name, person.locale) == (
            TEACHER.sub,
            platform.issuer,
            "สมศรี ใจดี",
            "th",
        )
        assert (context.context_id, context.title, context.deployment.deployment_id) == (
            "course-42",
            "PLC วิทยาศาสตร์ ม.2",
            "dep-1",
        )
        assert membership.app_role == AppRole.TEACHER and membership.lti_roles == TEACHER.roles
        assert (link.resource_link_id, link.custom) == ("rl-7", {"activity": "cycle-1"})


def test_second_launch_updates_rather_than_duplicates(tool: ToolServer, platform: TestPlatform) -> None:
    launch(requests.Session(), platform, TEACHER)
    launch(requests.Session(), platform, TEACHER)

    counts = tool.counts()
    assert (counts["people"], counts["contexts"], counts["memberships"], counts["resource_links"]) == (1, 1, 1, 1)
    assert counts["app_sessions"] == 2


def test_launch_with_cookies_dropped_still_reaches_the_landing_page(tool: ToolServer, platform: TestPlatform) -> None:
    browser = requests.Session()
    browser.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # like Safari in Moodle's iframe

    response = launch(browser, platform, TEACHER)

    assert response.status_code == 200, reason_of(response)
    assert "สมศรี ใจดี" in response.text
    assert not browser.cookies
    # Links on the page carry the signed session token, so the next page works without a cookie too.
    english = browser.get(tool.url("/home"), params={"lang": "en", "s": response.url.split("s=")[1]})
    assert english.status_code == 200 and "Welcome" in english.text


def test_page_without_a_session_is_refused_with_a_clear_message(tool: ToolServer) -> None:
    response = requests.get(tool.url("/home"))

    assert response.status_code == 401
    assert "Open the activity again" in response.text or "โปรดเปิดกิจกรรมอีกครั้ง" in response.text


def test_forged_session_token_in_a_link_is_refused(tool: ToolServer) -> None:
    response = requests.get(tool.url("/home"), params={"s": "not-a-signed-token"})

    assert response.status_code == 401


def test_tool_jwks_publishes_the_signing_key(tool: ToolServer) -> None:
    key_set = requests.get(tool.url("/lti/jwks")).json()

    assert key_set["keys"] and all(k["kty"] == "RSA" and k["alg"] == "RS256" and k["kid"] for k in key_set["keys"])
    assert all("d" not in k for k in key_set["keys"]), "private key material must never be published"


def test_moodle_setup_page_names_moodles_fields(tool: ToolServer) -> None:
    page = requests.get(tool.url("/setup"), params={"lang": "en"}).text

    for field in ("Tool URL", "Public keyset", "Initiate login URL", "Redirection URI(s)"):
        assert field in page
    assert tool.url("/lti/login") in page and tool.url("/lti/jwks") in page
    assert "BEGIN PUBLIC KEY" in page and "PRIVATE" not in page


# --- The negative matrix: each refused with a reason, a 4xx status, and nothing written ------------------


def refused(
    tool: ToolServer,
    platform: TestPlatform,
    reason: str,
    status: int,
    hook: Callable[..., str] | None = None,
    **kw: Any,
) -> requests.Response:
    """Launch with a defective id_token and check the refusal: nothing at all was written."""
    browser = requests.Session()
    before = tool.snapshot()
    if hook is not None:
        platform.set_token_hook(hook)
    response = launch(browser, platform, TEACHER, **kw)
    after = tool.snapshot()

    assert response.status_code == status, (reason_of(response), response.text[:300])
    assert reason_of(response) == reason
    assert "ไม่สามารถดำเนินการต่อได้" in response.text and "Cannot continue" in response.text
    # The OIDC login wrote nothing (its state is signed), and the rejected launch wrote nothing either:
    # no person, course, membership, link or session, no nonce spent, no platform keys cached.
    assert after == before
    return response


def test_alg_none_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    refused(tool, platform, "bad_algorithm", 401, lambda claims, headers: _unsigned({**headers, "alg": "none"}, claims))


def test_hs256_signed_with_the_public_key_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    def hs256_with_public_key(claims: dict[str, Any], headers: dict[str, Any]) -> str:
        header = {**headers, "alg": "HS256"}
        signing_input = _unsigned(header, claims).rsplit(".", 1)[0]
        mac = hmac.new(platform.public_key_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + _b64(mac)

    refused(tool, platform, "bad_algorithm", 401, hs256_with_public_key)


def test_unknown_kid_is_refused_after_one_refetch(tool: ToolServer, platform: TestPlatform) -> None:
    launch(requests.Session(), platform, TEACHER)  # the tool now holds the platform's JWKS in its cache
    fetches = platform.jwks_fetch_count

    refused(
        tool,
        platform,
        "unknown_kid",
        401,
        lambda claims, headers: platform.sign(
            claims, headers={"kid": "no-such-key"}, key=platform.other_private_key_pem
        ),
    )
    assert platform.jwks_fetch_count == fetches + 1


def test_platform_key_rotation_is_followed_by_one_refetch(tool: ToolServer, platform: TestPlatform) -> None:
    launch(requests.Session(), platform, TEACHER)
    platform.rotate_key(keep_old_in_jwks=True)
    fetches = platform.jwks_fetch_count

    response = launch(requests.Session(), platform, TEACHER)

    assert response.status_code == 200, reason_of(response)
    assert platform.jwks_fetch_count == fetches + 1


def test_bad_signature_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    refused(
        tool,
        platform,
        "bad_signature",
        401,
        lambda claims, headers: platform.sign(claims, headers=headers, key=platform.other_private_key_pem),
    )


def test_expired_token_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    now = int(time.time())
    refused(
        tool,
        platform,
        "token_expired",
        401,
        lambda claims, headers: platform.sign({**claims, "iat": now - 900, "exp": now - 300}, headers=headers),
    )


def test_token_issued_in_the_future_beyond_the_skew_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    now = int(time.time())
    refused(
        tool,
        platform,
        "issued_in_future",
        401,
        lambda claims, headers: platform.sign({**claims, "iat": now + 600, "exp": now + 900}, headers=headers),
    )


def test_small_clock_skew_is_accepted(tool: ToolServer, platform: TestPlatform) -> None:
    now = int(time.time())
    platform.set_token_hook(lambda claims, headers: platform.sign({**claims, "iat": now + 20}, headers=headers))

    response = launch(requests.Session(), platform, TEACHER)

    assert response.status_code == 200, reason_of(response)


def test_wrong_audience_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    refused(
        tool,
        platform,
        "wrong_audience",
        401,
        lambda claims, headers: platform.sign(
            {**claims, "aud": "someone-else", "azp": "someone-else"}, headers=headers
        ),
    )


def test_several_audiences_without_azp_are_refused(tool: ToolServer, platform: TestPlatform) -> None:
    def without_azp(claims: dict[str, Any], headers: dict[str, Any]) -> str:
        claims = {k: v for k, v in claims.items() if k != "azp"}
        return platform.sign({**claims, "aud": [platform.client_id, "other-tool"]}, headers=headers)

    refused(tool, platform, "bad_azp", 401, without_azp)


def test_several_audiences_with_a_wrong_azp_are_refused(tool: ToolServer, platform: TestPlatform) -> None:
    refused(
        tool,
        platform,
        "bad_azp",
        401,
        lambda claims, headers: platform.sign(
            {**claims, "aud": [platform.client_id, "other-tool"], "azp": "other-tool"}, headers=headers
        ),
    )


def test_several_audiences_with_our_azp_are_accepted(tool: ToolServer, platform: TestPlatform) -> None:
    platform.set_token_hook(
        lambda claims, headers: platform.sign(
            {**claims, "aud": ["other-tool", platform.client_id], "azp": platform.client_id}, headers=headers
        )
    )

    assert launch(requests.Session(), platform, TEACHER).status_code == 200


def test_replayed_launch_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    browser = requests.Session()
    auth_page = browser.get(
        platform.initiation_url(sub=TEACHER.sub, context_id="course-42", resource_link_id="rl-7"), timeout=10
    )
    first = submit_auto_form(browser, auth_page)
    assert first.status_code == 200
    before = tool.snapshot()

    replay = submit_auto_form(browser, auth_page)

    assert replay.status_code == 401 and reason_of(replay) == "nonce_used"
    assert tool.snapshot() == before


def test_nonce_from_another_login_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    refused(
        tool,
        platform,
        "nonce_mismatch",
        401,
        lambda claims, headers: platform.sign({**claims, "nonce": "n-123"}, headers=headers),
    )


def test_state_mismatch_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    # Another browser's login: its state is real, but this browser holds the cookie of a different one.
    other = requests.Session()
    other_page = other.get(platform.initiation_url(sub=TEACHER.sub, context_id="course-42", resource_link_id="rl-7"))
    other_state = platform.last_auth_params["state"]
    assert other_page.status_code == 200
    platform.form_state_override = other_state

    refused(tool, platform, "state_mismatch", 401)


def test_unknown_state_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    platform.form_state_override = "state-the-tool-never-issued"

    refused(tool, platform, "unknown_state", 401)


def test_unknown_issuer_in_the_token_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    refused(
        tool,
        platform,
        "unknown_issuer",
        403,
        lambda claims, headers: platform.sign({**claims, "iss": "https://moodle.unknown.example"}, headers=headers),
    )


def test_login_from_an_unknown_issuer_is_refused_with_the_command_to_run(tool: ToolServer) -> None:
    before = tool.snapshot()
    response = requests.get(
        tool.url("/lti/login"),
        params={
            "iss": "https://moodle.unknown.example",
            "login_hint": "u1",
            "target_link_uri": tool.url("/lti/launch"),
        },
    )

    assert response.status_code == 403 and reason_of(response) == "unknown_issuer"
    assert "plc-bridge platform add --issuer https://moodle.unknown.example" in response.text
    assert tool.snapshot() == before


def test_login_without_login_hint_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    before = tool.snapshot()
    response = requests.post(
        tool.url("/lti/login"), data={"iss": platform.issuer, "target_link_uri": tool.url("/lti/launch")}
    )

    assert response.status_code == 400 and reason_of(response) == "login_missing_param"
    assert tool.snapshot() == before


def test_login_for_a_foreign_target_link_uri_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    response = requests.get(
        tool.url("/lti/login"),
        params={"iss": platform.issuer, "login_hint": "u1", "target_link_uri": "https://evil.example/launch"},
    )

    assert response.status_code == 400 and reason_of(response) == "bad_target_link"


def test_unknown_deployment_is_refused_with_the_command_to_run(tool: ToolServer, platform: TestPlatform) -> None:
    response = refused(
        tool,
        platform,
        "unknown_deployment",
        403,
        lambda claims, headers: platform.sign({**claims, LTI + "deployment_id": "dep-unknown"}, headers=headers),
    )
    assert "--deployment-id dep-unknown" in response.text


@pytest.mark.parametrize(
    "claim",
    [
        LTI + "message_type",
        LTI + "version",
        "sub",
        LTI + "roles",
        LTI + "resource_link",
        LTI + "deployment_id",
        "nonce",
        "exp",
    ],
)
def test_missing_required_claim_is_refused(tool: ToolServer, platform: TestPlatform, claim: str) -> None:
    response = refused(
        tool,
        platform,
        "missing_claim",
        400,
        lambda claims, headers: platform.sign({k: v for k, v in claims.items() if k != claim}, headers=headers),
    )
    assert claim.rsplit("/", 1)[-1] in response.text


def test_unsupported_message_type_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    refused(
        tool,
        platform,
        "unsupported_message_type",
        400,
        lambda claims, headers: platform.sign(
            {**claims, LTI + "message_type": "LtiSubmissionReviewRequest"}, headers=headers
        ),
    )


def test_unsupported_lti_version_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    refused(
        tool,
        platform,
        "unsupported_version",
        400,
        lambda claims, headers: platform.sign({**claims, LTI + "version": "1.1"}, headers=headers),
    )


def test_malformed_token_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    refused(tool, platform, "token_malformed", 400, lambda claims, headers: "this.is-not-a-jwt")


def test_oversized_token_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    refused(
        tool,
        platform,
        "token_too_large",
        413,
        lambda claims, headers: platform.sign({**claims, "padding": "x" * 40_000}, headers=headers),
    )


def test_role_that_maps_to_nothing_is_refused(tool: ToolServer, platform: TestPlatform) -> None:
    refused(
        tool,
        platform,
        "no_known_role",
        403,
        lambda claims, headers: platform.sign(
            {**claims, LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"]}, headers=headers
        ),
    )


@pytest.mark.parametrize("mode", ["down", "garbage", "empty"])
def test_platform_jwks_that_is_down_or_garbage_is_refused(tool: ToolServer, platform: TestPlatform, mode: str) -> None:
    with tool.database.transaction() as db:  # forget cached keys, so the tool has to ask the platform
        for row in db.scalars(select(Platform)):
            row.key_set_cache, row.key_set_fetched_at = None, None
    platform.jwks_mode = mode

    refused(
        tool,
        platform,
        "platform_keys_unavailable" if mode != "empty" else "unknown_kid",
        424 if mode != "empty" else 401,
    )


def test_login_initiation_by_form_post_works_too(tool: ToolServer, platform: TestPlatform) -> None:
    browser = requests.Session()
    initiation = browser.get(platform.initiation_url(sub=TEACHER.sub, context_id="course-42", use_post=True))
    assert 'method="post"' in initiation.text  # the platform posts the login initiation form to /lti/login

    auth_page = submit_auto_form(browser, initiation)
    response = submit_auto_form(browser, auth_page)

    assert response.status_code == 200 and "สมศรี ใจดี" in response.text


def test_two_courses_in_two_tabs_each_stay_in_their_own_course(tool: ToolServer, platform: TestPlatform) -> None:
    browser = requests.Session()  # one browser, one cookie jar: the cookie ends up naming the second launch
    first = launch(browser, platform, TEACHER, context_id="course-a", context_title="วิชา ก")
    second = launch(browser, platform, TEACHER, context_id="course-b", context_title="วิชา ข")
    assert "วิชา ข" in second.text

    again = browser.get(first.url)  # the first tab's link, after the second launch

    assert "วิชา ก" in again.text and "วิชา ข" not in again.text
    switch = again.text.split('lang="en"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]
    assert "s=" in switch  # the tab's own links keep naming its session
