"""The `plc-bridge` command line: migrations, platform registrations, key rotation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from click.testing import CliRunner

from lti_tool.cli.main import main
from models.database import Database
from models.keys import published_keys, rotate_keys
from models.migrate import current_revision, head_revision


@pytest.fixture
def cli_env(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("PLC_DATABASE_URL", url)
    monkeypatch.setenv("PLC_INSTANCE_PATH", str(tmp_path))
    return url


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_db_upgrade_migrates_and_makes_the_first_key(cli_env: str) -> None:
    code, output = run("db", "upgrade")

    assert code == 0, output
    database = Database(cli_env)
    assert current_revision(database.engine) == head_revision()
    with database.transaction() as db:
        assert len(published_keys(db)) == 1


def test_platform_add_list_and_remove(cli_env: str) -> None:
    add = (
        "platform",
        "add",
        "--issuer",
        "https://moodle.example.go.th",
        "--client-id",
        "AbC123",
        "--deployment-id",
        "1",
        "--deployment-id",
        "2",
        "--auth-login-url",
        "https://moodle.example.go.th/mod/lti/auth.php",
        "--auth-token-url",
        "https://moodle.example.go.th/mod/lti/token.php",
        "--key-set-url",
        "https://moodle.example.go.th/mod/lti/certs.php",
    )
    assert run(*add)[0] == 0
    code, listing = run("platform", "list")
    assert code == 0 and "https://moodle.example.go.th" in listing and "deployments=1, 2" in listing
    assert "account_only" in listing
    assert (
        run(
            "platform",
            "add",
            "--issuer",
            "https://moodle.example.go.th",
            "--client-id",
            "AbC123",
            "--deployment-id",
            "1",
            "--share-email",
        )[0]
        == 0
    )
    assert "share_email" in run("platform", "list")[1]

    assert (
        run(
            "platform",
            "remove",
            "--issuer",
            "https://moodle.example.go.th",
            "--client-id",
            "AbC123",
            "--deployment-id",
            "2",
        )[0]
        == 0
    )
    assert "deployments=1\t" in run("platform", "list")[1]

    assert run("platform", "remove", "--issuer", "https://moodle.example.go.th", "--client-id", "AbC123")[0] == 0
    assert "no platforms registered" in run("platform", "list")[1]


def test_platform_add_without_urls_for_a_new_platform_says_what_is_missing(cli_env: str) -> None:
    result = CliRunner().invoke(
        main, ["platform", "add", "--issuer", "https://m.example", "--client-id", "c", "--deployment-id", "1"]
    )

    assert result.exit_code == 2
    assert "--auth-login-url" in result.output and "--key-set-url" in result.output
    assert "no platforms registered" in run("platform", "list")[1]


def test_platform_add_refuses_a_url_that_is_not_http(cli_env: str) -> None:
    result = CliRunner().invoke(
        main,
        [
            "platform",
            "add",
            "--issuer",
            "https://m.example",
            "--client-id",
            "c",
            "--deployment-id",
            "1",
            "--auth-login-url",
            "javascript:alert(1)",
            "--auth-token-url",
            "https://m.example/t",
            "--key-set-url",
            "https://m.example/k",
        ],
    )
    assert result.exit_code == 2 and "--auth-login-url" in result.output
    assert "no platforms registered" in run("platform", "list")[1]


def test_commands_on_an_unmigrated_database_say_to_run_db_upgrade(cli_env: str) -> None:
    result = CliRunner().invoke(main, ["platform", "list"])

    assert result.exit_code == 1 and "plc-bridge db upgrade" in result.output


def test_removing_an_unknown_platform_is_an_error(cli_env: str) -> None:
    run("db", "upgrade")
    result = CliRunner().invoke(main, ["platform", "remove", "--issuer", "https://nope.example", "--client-id", "x"])

    assert result.exit_code == 1 and "no platform https://nope.example" in result.output


def test_keys_rotate_keeps_the_old_key_published(cli_env: str) -> None:
    run("db", "upgrade")
    database = Database(cli_env)
    with database.transaction() as db:
        old = published_keys(db)[0].kid

    code, output = run("keys", "rotate", "--grace-days", "7")

    assert code == 0, output
    with database.transaction() as db:
        kids = [k.kid for k in published_keys(db)]
    assert len(kids) == 2 and kids[1] == old and kids[0] != old
    assert "retired, published until" in run("keys", "list")[1]


def test_unsafe_production_settings_stop_the_cli_naming_the_variable(cli_env: str, monkeypatch) -> None:
    monkeypatch.setenv("PLC_PRODUCTION", "true")
    result = CliRunner().invoke(main, ["serve"])

    assert result.exit_code == 1 and "PLC_SECRET_KEY" in result.output


def test_rotated_key_is_served_by_a_running_tool_alongside_the_old_one(tool) -> None:
    # The session's tool server runs on its own database; rotate there through the same code path.
    before = {k["kid"] for k in requests.get(tool.url("/lti/jwks")).json()["keys"]}
    with tool.database.transaction() as db:
        rotate_keys(db, timedelta(days=1))
    after = {k["kid"] for k in requests.get(tool.url("/lti/jwks")).json()["keys"]}

    assert before < after and len(after - before) == 1
