"""A session's links (lti_tool/web/session.py session_url): the address built once per process is the one url_for makes
with the session's token, for links with path values, query values, none, an anchor, and under a script root."""

from __future__ import annotations

import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask, g, url_for

from lti_tool.settings import Settings
from lti_tool.web.app import create_app
from lti_tool.web.session import LINK_PARAM, link_token, session_url
from models.database import Database

LINKS = [
    ("home.landing", {}),
    ("home.landing", {"lang": "th"}),
    ("cycles.show", {"number": 2}),
    ("sessions.list_sessions", {"cycle": 1, "element": 3}),
    ("sessions.list_sessions", {"element": 3, "cycle": 1}),
    ("cycles.show", {"number": 1, "_anchor": "plan"}),
    ("reflections.show", {"number": 1, "tags": ["a", "b"]}),  # a value that is no dictionary key
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    folder: Path = tmp_path_factory.mktemp("links")
    settings = Settings(
        instance_path=folder,
        database_url=f"sqlite:///{folder / 'app.sqlite3'}",
        secret_key="s-" + uuid.uuid4().hex,
    ).resolved()
    return create_app(settings, Database(settings.database_url))  # no statement: links read nothing


@pytest.mark.parametrize("root", ["", "/plc"])
def test_a_session_link_is_url_for_with_the_token(app: Flask, root: str) -> None:
    for token in ("first-session-token", "another-one"):
        for _ in range(2):  # built, then taken from what was kept
            with app.test_request_context("/home", base_url="http://tool.example" + root):
                g.plc_session = SimpleNamespace(token=token)
                signed = link_token(g.plc_session)  # type: ignore[arg-type]
                for endpoint, values in LINKS:
                    expected = url_for(endpoint, **values, **{LINK_PARAM: signed})
                    assert session_url(endpoint, **values) == expected
                    assert expected.startswith(root + "/")


def test_without_a_session_a_link_has_no_token(app: Flask) -> None:
    with app.test_request_context("/home"):
        assert session_url("home.landing", lang="en") == url_for("home.landing", lang="en")
        assert LINK_PARAM + "=" not in session_url("cycles.show", number=1)
