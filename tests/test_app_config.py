"""How the app is put together: cookies behind HTTPS, the demo LMS only when asked for, security headers."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from lti_tool.settings import Settings
from lti_tool.web.app import create_app
from models.database import Database
from models.migrate import prepare
from models.platform import Deployment, Platform


def _app(tmp_path, **overrides):
    settings = Settings(
        instance_path=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'app.sqlite3'}",
        secret_key="s-" + uuid.uuid4().hex,
        **overrides,
    ).resolved()
    database = Database(settings.database_url)
    prepare(database)
    return create_app(settings, database)


def test_behind_https_the_state_cookie_is_secure_httponly_and_samesite_none(tmp_path) -> None:
    app = _app(tmp_path, public_base_url="https://plc.example.go.th")
    database: Database = app.extensions["plc_db"]
    with database.transaction() as db:
        db.add(
            Platform(
                issuer="https://moodle.example.go.th",
                client_id="c1",
                auth_login_url="https://moodle.example.go.th/mod/lti/auth.php",
                auth_token_url="https://moodle.example.go.th/mod/lti/token.php",
                key_set_url="https://moodle.example.go.th/mod/lti/certs.php",
                deployments=[Deployment(deployment_id="1")],
            )
        )

    response = app.test_client().get(
        "/lti/login",
        query_string={
            "iss": "https://moodle.example.go.th",
            "login_hint": "2",
            "target_link_uri": "https://plc.example.go.th/lti/launch",
            "client_id": "c1",
        },
    )

    assert response.status_code == 302
    assert response.location.startswith("https://moodle.example.go.th/mod/lti/auth.php?")
    assert "redirect_uri=https%3A%2F%2Fplc.example.go.th%2Flti%2Flaunch" in response.location
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=None" in cookie


def test_demo_lms_is_absent_unless_enabled(tmp_path) -> None:
    app = _app(tmp_path)

    assert app.test_client().get("/demo/").status_code == 404
    database: Database = app.extensions["plc_db"]
    with database.transaction() as db:
        assert db.scalars(select(Platform)).first() is None  # no demo registration row either


def test_demo_lms_has_its_own_registration_and_key_set(tmp_path) -> None:
    app = _app(tmp_path, demo_enabled=True)
    client = app.test_client()

    key_set = client.get("/demo/jwks").get_json()
    tool_key_set = client.get("/lti/jwks").get_json()

    assert len(key_set["keys"]) == 1 and key_set["keys"][0]["kid"]
    assert {k["kid"] for k in key_set["keys"]}.isdisjoint({k["kid"] for k in tool_key_set["keys"]})
    database: Database = app.extensions["plc_db"]
    with database.transaction() as db:
        demo = db.scalars(select(Platform)).one()
        assert demo.issuer.endswith("/demo") and demo.key_set_url.endswith("/demo/jwks")
        assert [d.deployment_id for d in demo.deployments] == ["demo-deployment-1"]


def test_pages_carry_security_headers(tmp_path) -> None:
    response = _app(tmp_path).test_client().get("/setup")

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_unknown_page_is_a_404_in_thai_and_english(tmp_path) -> None:
    response = _app(tmp_path).test_client().get("/no-such-page")

    assert response.status_code == 404
    assert "ไม่สามารถดำเนินการต่อได้" in response.get_data(as_text=True)


def test_a_write_refused_by_a_unique_constraint_is_a_409_page_in_both_languages_not_a_500(tmp_path) -> None:
    """Two requests that save the same thing at the same moment: the database refuses the second (a real
    UNIQUE constraint here); the person gets a page that says so, and nothing of that request is kept."""
    app = _app(tmp_path)
    database: Database = app.extensions["plc_db"]

    def save_twice() -> str:
        with database.transaction() as db:
            for _ in range(2):
                db.add(Platform(issuer="https://twice.example", client_id="c", auth_login_url="-",
                                auth_token_url="-", key_set_url="-"))  # fmt: skip
                db.flush()
        return "saved"

    app.add_url_rule("/test-save-twice", view_func=save_twice)
    response = app.test_client().get("/test-save-twice")

    assert response.status_code == 409
    assert "โหลดหน้าใหม่" in response.get_data(as_text=True) and "Reload the page" in response.get_data(as_text=True)
    assert "Nothing was changed" in response.get_data(as_text=True)
    with database.transaction() as db:
        assert db.scalars(select(Platform).where(Platform.issuer == "https://twice.example")).all() == []


def test_flask_cookie_session_is_never_used_and_a_write_to_it_fails(tmp_path) -> None:
    import flask

    app = _app(tmp_path, public_base_url="http://127.0.0.1:5000")
    page = app.test_client().get("/healthz")
    assert page.status_code == 200
    assert "session=" not in page.headers.get("Set-Cookie", "")
    with app.test_request_context("/healthz"):
        assert dict(flask.session) == {}
        with pytest.raises(RuntimeError, match="database"):
            flask.session["user"] = "someone"


def test_templates_translate_with_the_requests_catalog_escaping_their_variables(tmp_path) -> None:
    import flask

    app = _app(tmp_path, public_base_url="http://127.0.0.1:5000")
    template = '{{ _("Course") }}|{{ _("Welcome, %(name)s", name=who) }}|{{ _("100%% sure") }}'
    with app.test_request_context("/?lang=th"):
        thai = flask.render_template_string(template, who="<ครู>")
    with app.test_request_context("/?lang=en"):
        english = flask.render_template_string(template, who="<ครู>")
    assert english == "Course|Welcome, &lt;ครู&gt;|100% sure"
    course, welcome, sure = thai.split("|")
    assert course != "Course" and "&lt;ครู&gt;" in welcome and not welcome.startswith("Welcome")
    assert sure == "100% sure"
