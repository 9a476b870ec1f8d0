"""Service access tokens: the client-credentials grant with a signed assertion, cached per platform and scope set in
the database, renewed on 401, and a clear state when the token endpoint refuses or answers nonsense."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
import requests
from sqlalchemy import select

from lti_tool.lti.nrps import SCOPE_MEMBERSHIPS
from lti_tool.lti.service_tokens import ServiceClient, TokenRefused, client_assertion
from lti_tool.workers.scores import ScoreDelivery
from models.keys import current_key
from models.platform import Platform
from models.scores import ScorePost, ScoreState
from models.service_tokens import ServiceToken
from tests.conftest import TEACHER, TRAINER, ToolServer, launch
from tests.support.grading import Course, add_teachers, course_of, grade, reflections
from tests.support.lti_platform import TestPlatform
from tests.support.waiting import wait_until

SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


@pytest.fixture
def course(tool: ToolServer, platform: TestPlatform) -> Course:
    launch(requests.Session(), platform, TEACHER)
    launch(requests.Session(), platform, TRAINER)
    return course_of(tool.database, "course-42", "rl-7", TRAINER.sub)


def platform_id(tool: ToolServer, platform: TestPlatform) -> int:
    with tool.database.transaction() as db:
        return db.scalars(select(Platform.id).where(Platform.issuer == platform.issuer)).one()


def graded_many(tool: ToolServer, course: Course, how_many: int) -> list[int]:
    ids = reflections(tool.database, course, add_teachers(tool.database, course, how_many))
    with tool.database.transaction() as db:
        return [grade(db, reflection_id, course.trainer_id).id for reflection_id in ids]


def worker(tool: ToolServer, client: ServiceClient | None = None) -> ScoreDelivery:
    return ScoreDelivery(tool.database, client or ServiceClient(tool.database), base_backoff_seconds=0.0)


def states(tool: ToolServer) -> list[tuple[str, str | None]]:
    with tool.database.transaction() as db:
        return [(p.state, p.last_error) for p in db.scalars(select(ScorePost).order_by(ScorePost.id))]


def test_the_client_assertion_is_signed_by_the_tools_current_key_and_names_the_token_endpoint(
    tool: ToolServer, platform: TestPlatform
) -> None:
    with tool.database.transaction() as db:
        row = db.get(Platform, platform_id(tool, platform))
        key = current_key(db)
        assertion = client_assertion(row, key.private_pem, key.kid)  # type: ignore[arg-type]
        public_pem = key.public_pem
    header = jwt.get_unverified_header(assertion)
    claims = jwt.decode(assertion, public_pem, algorithms=["RS256"], audience=platform.token_url)
    assert header["kid"] == key.kid and header["alg"] == "RS256"
    assert claims["iss"] == claims["sub"] == platform.client_id
    assert claims["exp"] - claims["iat"] <= 300 and len(claims["jti"]) >= 32


def test_many_scores_need_one_token_request_while_the_token_lives(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    graded_many(tool, course, 12)

    ScoreDelivery(tool.database, ServiceClient(tool.database), batch_size=5, base_backoff_seconds=0).run_once()
    # then other clients, as other processes: they find the token in the database
    wait_until(lambda: not worker(tool).run_once().handled, timeout=60, interval=0, message="the scores never drained")

    assert len(platform.services.received_scores) == 12
    assert platform.services.token_requests == 1
    with tool.database.transaction() as db:
        [token] = db.scalars(select(ServiceToken)).all()
    assert SCORE in token.scope_key.split()


def test_another_scope_set_gets_its_own_token(tool: ToolServer, platform: TestPlatform, course: Course) -> None:
    client = ServiceClient(tool.database)
    graded_many(tool, course, 1)
    worker(tool, client).run_once()
    members_url = platform.services.memberships_url("course-42")

    for _ in range(3):
        assert client.request(platform_id(tool, platform), [SCOPE_MEMBERSHIPS], "GET", members_url,
                              accept="application/json").status_code == 200  # fmt: skip

    assert platform.services.token_requests == 2 and client.token_requests == 2


def test_a_token_about_to_expire_is_not_used_and_a_new_one_is_asked_for(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    platform.services.token_lifetime = 20  # shorter than the margin the tool keeps before expiry
    client = ServiceClient(tool.database)
    pid = platform_id(tool, platform)
    client.token(pid, [SCORE])
    client.token(pid, [SCORE])
    assert platform.services.token_requests == 2


def test_a_401_from_a_service_drops_the_token_and_the_call_goes_through_with_a_new_one(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    graded_many(tool, course, 2)
    client = ServiceClient(tool.database)
    worker(tool, client).run_once()
    graded_many_more = reflections(tool.database, course, add_teachers(tool.database, course, 1, prefix="late"))
    with tool.database.transaction() as db:
        grade(db, graded_many_more[0], course.trainer_id)
    platform.services.revoke_tokens()

    assert worker(tool, client).run_once().delivered == 1

    assert platform.services.token_requests == 2
    assert len(platform.services.received_scores) == 3
    with tool.database.transaction() as db:
        [token] = db.scalars(select(ServiceToken)).all()
    assert token.access_token == platform.services.issued_tokens[-1]


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("refuse", "answered HTTP 401: invalid_client unknown key"),
        ("garbage", "without an access token"),
        ("down", "answered HTTP 503"),
        ("error", "answered HTTP 500"),
    ],
)
def test_a_token_endpoint_that_refuses_or_answers_nonsense_leaves_the_scores_waiting_with_the_reason(
    tool: ToolServer, platform: TestPlatform, course: Course, mode: str, reason: str
) -> None:
    platform.services.token_mode = mode
    graded_many(tool, course, 3)

    report = worker(tool).run_once()

    assert report.retried == 3 and report.delivered == 0
    assert platform.services.token_requests == 1  # the platform is left alone for the rest of the pass
    assert all(state == ScoreState.PENDING and reason in (error or "") for state, error in states(tool))
    assert platform.services.service_requests == 0
    with tool.database.transaction() as db:
        assert db.scalars(select(ServiceToken).where(ServiceToken.access_token != "")).all() == []
    platform.services.token_mode = "ok"
    assert worker(tool).run_once().delivered == 3


def test_a_token_endpoint_that_cannot_be_reached_is_a_clear_error(tool: ToolServer, platform: TestPlatform) -> None:
    with tool.database.transaction() as db:
        row = db.get(Platform, platform_id(tool, platform))
        assert row is not None
        saved, row.auth_token_url = row.auth_token_url, "http://127.0.0.1:9/token"
    try:
        with pytest.raises(TokenRefused, match="cannot be reached"):
            ServiceClient(tool.database, timeout=2).token(platform_id(tool, platform), [SCORE])
    finally:
        with tool.database.transaction() as db:
            db.get(Platform, platform_id(tool, platform)).auth_token_url = saved  # type: ignore[union-attr]


def test_an_assertion_signed_by_a_key_the_tool_does_not_publish_is_refused_by_the_platform(
    tool: ToolServer, platform: TestPlatform
) -> None:
    with tool.database.transaction() as db:
        row = db.get(Platform, platform_id(tool, platform))
        forged = client_assertion(row, platform.other_private_key_pem, current_key(db).kid)  # type: ignore[arg-type]
    answer = requests.post(
        platform.token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": forged,
            "scope": SCORE,
        },
        timeout=10,
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


# --- The token's lifetime: what the platform says, within reason ---------------------------------------------


def test_a_token_said_to_live_for_millennia_is_kept_for_a_day_at_most(tool: ToolServer, platform: TestPlatform) -> None:
    platform.services.token_lifetime = 10**13  # would overflow a datetime

    token = ServiceClient(tool.database).token(platform_id(tool, platform), [SCORE])

    with tool.database.transaction() as db:
        row = db.scalars(select(ServiceToken).where(ServiceToken.access_token == token)).one()
        assert row.expires_at - row.fetched_at <= timedelta(days=1, seconds=1)
        assert row.expires_at - row.fetched_at >= timedelta(hours=23)


@pytest.mark.parametrize("lifetime", [0, -60, "3600", 1.5, True, None, [3600]])
def test_a_token_answer_whose_lifetime_is_not_a_positive_whole_number_is_refused_as_malformed(
    tool: ToolServer, platform: TestPlatform, lifetime: object
) -> None:
    platform.services.token_lifetime = lifetime  # type: ignore[assignment]

    with pytest.raises(TokenRefused, match="malformed token") as refused:
        ServiceClient(tool.database).token(platform_id(tool, platform), [SCORE])

    assert refused.value.transient  # the platform may be fixed: the scores wait, they are not parked
    assert platform.services.issued_tokens[-1] not in str(refused.value)
    with tool.database.transaction() as db:
        assert db.scalars(select(ServiceToken).where(ServiceToken.access_token != "")).all() == []


def test_scores_wait_with_the_reason_while_the_token_answer_is_malformed_and_go_once_it_is_fixed(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    platform.services.token_lifetime = -1  # type: ignore[assignment]
    graded_many(tool, course, 2)

    report = worker(tool).run_once()

    assert (report.retried, report.delivered) == (2, 0)
    assert all(state == ScoreState.PENDING and "malformed token" in (error or "") for state, error in states(tool))
    assert platform.services.service_requests == 0
    platform.services.token_lifetime = 3600
    assert worker(tool).run_once().delivered == 2
    assert len(platform.services.received_scores) == 2
