"""The log line of a refused launch names the platform the launch came from (issue 15): the issuer and client id its
id_token named, so an admin reading the log knows which Moodle to look at, even though the token was refused."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_launch import _unsigned, reason_of

LOGGER = "lti_tool.web.errors"


def rejected_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and "launch rejected" in r.getMessage()]


def refuse(platform: TestPlatform, caplog: pytest.LogCaptureFixture, hook: Callable[..., str], reason: str) -> str:
    platform.set_token_hook(hook)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        response = launch(requests.Session(), platform, TEACHER)
    assert reason_of(response) == reason
    [line] = rejected_lines(caplog)
    return line


def test_a_launch_refused_for_its_signature_logs_the_issuer_and_client_it_named(
    tool: ToolServer, platform: TestPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    def forged(claims: dict[str, Any], headers: dict[str, Any]) -> str:
        return platform.sign(claims, headers=headers, key=platform.other_private_key_pem)

    line = refuse(platform, caplog, forged, "bad_signature")

    assert f"iss={platform.issuer} " in line and f"client_id={platform.client_id}" in line
    assert "iss=-" not in line and "reason=bad_signature" in line


def test_a_launch_for_another_tool_logs_the_audience_it_named(
    tool: ToolServer, platform: TestPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    def elsewhere(claims: dict[str, Any], headers: dict[str, Any]) -> str:
        return platform.sign({**claims, "aud": "someone-else", "azp": "someone-else"}, headers=headers)

    line = refuse(platform, caplog, elsewhere, "wrong_audience")

    assert f"iss={platform.issuer} " in line and "client_id=someone-else" in line


def test_a_token_that_is_not_a_jwt_logs_no_issuer_and_still_answers(
    tool: ToolServer, platform: TestPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    line = refuse(platform, caplog, lambda claims, headers: "this.is-not-a-jwt", "token_malformed")

    assert "iss=- " in line and "client_id=-" in line


def test_what_a_token_names_cannot_forge_log_lines(
    tool: ToolServer, platform: TestPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    def injected(claims: dict[str, Any], headers: dict[str, Any]) -> str:
        return _unsigned(headers, {**claims, "iss": "https://evil.example\nlaunch accepted iss=x", "aud": "a b"})

    line = refuse(platform, caplog, injected, "unknown_issuer")

    assert "\n" not in line and "launch accepted iss=x" not in line.split("iss=", 1)[1].split(" ", 1)[0]
    assert "iss=https://evil.example\\nlaunch" in line


def test_a_refused_login_still_logs_the_issuer_and_client_it_named(
    tool: ToolServer, platform: TestPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        response = requests.get(
            tool.url("/lti/login"),
            params={"iss": platform.issuer, "client_id": "not-registered", "login_hint": "5",
                    "target_link_uri": tool.url("/lti/launch")},
        )  # fmt: skip

    assert response.status_code >= 400
    [line] = rejected_lines(caplog)
    assert f"iss={platform.issuer} " in line and "client_id=not-registered" in line
