"""Every reason the protocol code, a rule or a use case refuses with has a message the web layer shows, under one
meaning in the tool."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import lti_tool.services
import models
from lti_tool.lti.errors import LaunchRejected, RegistrationRefused
from lti_tool.web import messages, protocol_messages
from models.errors import ProgramError
from models.evidence import EvidenceRefused


def test_every_launch_and_registration_reason_has_a_message() -> None:
    codes = LaunchRejected.reasons | RegistrationRefused.reasons

    assert codes - protocol_messages.MESSAGES.keys() == set()


def test_no_reason_code_means_two_things() -> None:
    assert len(protocol_messages.MESSAGES) == sum(len(section) for section in protocol_messages.SECTIONS)


def test_a_message_names_the_details_it_was_raised_with() -> None:
    refusal = LaunchRejected("unknown_kid", url="https://moodle.example/mod/lti/certs.php", kid="k2")

    text = protocol_messages.message_for(refusal.reason, **refusal.detail)

    assert "https://moodle.example/mod/lti/certs.php" in text and "'k2'" in text
    assert protocol_messages.status_for(refusal.reason) == 401


def test_a_refusal_with_an_unknown_reason_is_a_programming_error() -> None:
    try:
        RegistrationRefused("no_such_reason")  # type: ignore[arg-type]
    except ValueError as error:
        assert "no_such_reason" in str(error)
    else:
        raise AssertionError("an unknown reason was accepted")


def _refusals() -> Iterator[type[ProgramError]]:
    for package in (models, lti_tool.services):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")
    waiting = [ProgramError]
    while waiting:
        for refusal in waiting.pop().__subclasses__():
            waiting.append(refusal)
            yield refusal


def test_every_code_a_rule_or_use_case_refuses_with_has_a_message() -> None:
    codes = {refusal.code for refusal in _refusals() if refusal is not EvidenceRefused}

    assert codes - messages.REFUSALS.keys() == set()


def test_every_reason_an_evidence_file_is_refused_for_has_a_message() -> None:
    source = Path(importlib.import_module("models.evidence").__file__ or "").read_text()
    reasons = set(re.findall(r'EvidenceRefused\("(\w+)"', source))

    assert reasons and reasons - messages.EVIDENCE_REFUSALS.keys() == set()


def test_a_refusal_is_said_in_the_persons_words_with_its_details() -> None:
    from flask import Flask
    from flask_babel import Babel, force_locale

    from models.errors import NotABuddy

    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(messages.__file__).resolve().parent.parent / "translations")
    Babel(app)
    with app.app_context(), force_locale("en"):
        assert messages.refusal(NotABuddy(7, 2)) == "Only a Buddy Teacher of cycle 2 fills in its observation form."
