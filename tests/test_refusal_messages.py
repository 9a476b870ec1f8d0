"""Every reason the protocol code refuses with has a message the web layer shows, under one meaning in the tool."""

from __future__ import annotations

from lti_tool.lti.errors import LaunchRejected, RegistrationRefused
from lti_tool.web import messages


def test_every_launch_and_registration_reason_has_a_message() -> None:
    codes = LaunchRejected.reasons | RegistrationRefused.reasons

    assert codes - messages.MESSAGES.keys() == set()


def test_no_reason_code_means_two_things() -> None:
    assert len(messages.MESSAGES) == sum(len(section) for section in messages.SECTIONS)


def test_a_message_names_the_details_it_was_raised_with() -> None:
    refusal = LaunchRejected("unknown_kid", url="https://moodle.example/mod/lti/certs.php", kid="k2")

    text = messages.message_for(refusal.reason, **refusal.detail)

    assert "https://moodle.example/mod/lti/certs.php" in text and "'k2'" in text
    assert messages.status_for(refusal.reason) == 401


def test_a_refusal_with_an_unknown_reason_is_a_programming_error() -> None:
    try:
        RegistrationRefused("no_such_reason")  # type: ignore[arg-type]
    except ValueError as error:
        assert "no_such_reason" in str(error)
    else:
        raise AssertionError("an unknown reason was accepted")
