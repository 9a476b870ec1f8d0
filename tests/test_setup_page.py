"""/setup tells a Moodle admin the steps as Moodle 4.5 really has them (issue 15): a tool registered by "Add LTI
Advantage" is not in the activity chooser until someone switches it on, and Moodle's default HTTP security blocks a
tool on a private or loopback address or on a port other than 80 and 443 until the admin changes two settings."""

from __future__ import annotations

import uuid
from pathlib import Path

import requests

from lti_tool.settings import Settings
from lti_tool.web.app import create_app
from models.database import Database
from models.migrate import prepare
from tests.conftest import ToolServer

HTTP_SECURITY = "Site administration → General → Security → HTTP security"


def setup_page(tmp_path: Path, public_base_url: str, lang: str = "en") -> str:
    settings = Settings(
        instance_path=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'setup.sqlite3'}",
        secret_key="s-" + uuid.uuid4().hex,
        public_base_url=public_base_url,
    ).resolved()
    database = Database(settings.database_url)
    prepare(database)
    response = create_app(settings, database).test_client().get("/setup", query_string={"lang": lang})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_setup_page_says_where_to_show_the_tool_in_the_activity_chooser(tool: ToolServer) -> None:
    page = requests.get(tool.url("/setup"), params={"lang": "en"}, timeout=10).text

    assert "Show in activity chooser" in page  # Moodle's own words, in the course's LTI External tools
    assert "LTI External tools" in page
    assert "Tool configuration usage" in page and "Show in activity chooser and as a preconfigured tool" in page


def test_the_setup_page_names_moodles_two_http_security_settings_and_their_page(tool: ToolServer) -> None:
    page = requests.get(tool.url("/setup"), params={"lang": "en"}, timeout=10).text

    assert "curlsecurityblockedhosts" in page and "cURL blocked hosts list" in page
    assert "curlsecurityallowedport" in page and "cURL allowed ports list" in page
    assert HTTP_SECURITY in page and "/admin/settings.php?section=httpsecurity" in page


def test_a_tool_on_a_loopback_address_and_an_odd_port_is_told_both_settings_apply_to_it(tool: ToolServer) -> None:
    page = requests.get(tool.url("/setup"), params={"lang": "en"}, timeout=10).text

    assert 'id="blocked-host"' in page and 'id="blocked-port"' in page
    port = tool.url("/").split(":")[2].rstrip("/")
    assert f"port {port}" in page


def test_a_tool_on_a_private_address_at_port_443_is_told_only_of_the_blocked_hosts(tmp_path: Path) -> None:
    page = setup_page(tmp_path, "https://10.20.0.5")

    assert 'id="blocked-host"' in page and "10.20.0.5" in page
    assert 'id="blocked-port"' not in page


def test_a_tool_on_a_public_name_at_an_odd_port_is_told_only_of_the_allowed_ports(tmp_path: Path) -> None:
    page = setup_page(tmp_path, "https://plc.example.go.th:8443")

    assert 'id="blocked-port"' in page and "port 8443" in page
    assert 'id="blocked-host"' not in page


def test_a_tool_at_a_public_name_on_443_gets_no_warning(tmp_path: Path) -> None:
    page = setup_page(tmp_path, "https://plc.example.go.th")

    assert 'id="blocked-host"' not in page and 'id="blocked-port"' not in page
    assert "curlsecurityblockedhosts" in page  # the general advice stays, for a name that is private in the district


def test_the_moodle_steps_read_in_thai(tmp_path: Path) -> None:
    page = setup_page(tmp_path, "http://192.168.1.20:8080", lang="th")

    assert "ผู้ดูแลระบบ" in page and "curlsecurityallowedport" in page
    assert 'id="blocked-host"' in page and 'id="blocked-port"' in page
    assert "Show in activity chooser" in page  # Moodle's label stays as Moodle shows it
