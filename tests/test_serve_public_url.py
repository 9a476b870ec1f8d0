"""`plc-bridge serve` says where it is from the address it listens on (issue 15): outside production, a public URL
that was not set follows --host and --port, so `--port 8080` alone gives Moodle URLs that work; a set
PLC_PUBLIC_BASE_URL (a proxy's address) always wins, and production always needs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from lti_tool.settings import Settings, load_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("PLC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PLC_INSTANCE_PATH", str(tmp_path))
    return tmp_path


# --- the rule --------------------------------------------------------------------------------------------------


def test_an_unset_public_url_follows_the_host_and_port_served_on(clean_env: Path) -> None:
    assert load_settings().served_at("127.0.0.1", 8080).public_base_url == "http://127.0.0.1:8080"
    assert load_settings().served_at("10.20.0.5", 5001).public_base_url == "http://10.20.0.5:5001"
    assert load_settings().served_at("plc.school.local", 80).public_base_url == "http://plc.school.local"


def test_an_ipv6_address_is_written_in_brackets(clean_env: Path) -> None:
    assert load_settings().served_at("::1", 8080).public_base_url == "http://[::1]:8080"


def test_listening_on_every_address_names_this_machine_by_its_loopback_address(clean_env: Path) -> None:
    """0.0.0.0 is not an address a browser can open; the loopback is, on this machine, and `serve` says to set
    PLC_PUBLIC_BASE_URL for Moodle elsewhere (tested below)."""
    assert load_settings().served_at("0.0.0.0", 8080).public_base_url == "http://127.0.0.1:8080"
    assert load_settings().served_at("::", 8080).public_base_url == "http://127.0.0.1:8080"


def test_a_public_url_set_in_the_environment_wins(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLC_PUBLIC_BASE_URL", "https://plc.example.go.th/")

    assert load_settings().served_at("127.0.0.1", 8080).public_base_url == "https://plc.example.go.th"


def test_a_public_url_set_in_the_config_file_wins(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = clean_env / "plc.toml"
    config.write_text('public_base_url = "http://plc.intranet:8443"\n', encoding="utf-8")
    monkeypatch.setenv("PLC_CONFIG_FILE", str(config))

    assert load_settings().served_at("127.0.0.1", 9000).public_base_url == "http://plc.intranet:8443"


def test_production_never_derives_its_public_url(clean_env: Path) -> None:
    settings = Settings(
        production=True,
        public_base_url="https://plc.example.go.th",
        secret_key="s" * 40,
        database_url="postgresql+psycopg://plc@db/plc",
        rate_limit_storage="redis://cache:6379",
    )

    assert settings.served_at("0.0.0.0", 8000).public_base_url == "https://plc.example.go.th"


# --- the command, as a district admin runs it ------------------------------------------------------------------


Starter = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def serve(clean_env: Path) -> Iterator[Starter]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        environment = {**os.environ, "PLC_WORKER_THREAD": "false", **(env or {})}
        cli = [sys.executable, "-m", "lti_tool.cli.main"]
        subprocess.run([*cli, "db", "upgrade"], env=environment, check=True, capture_output=True)
        process = subprocess.Popen(
            [*cli, "serve", *args], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def wait_for(url: str, process: subprocess.Popen[bytes]) -> requests.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            assert process.stdout is not None
            pytest.fail(f"serve stopped: {process.stdout.read().decode()}")
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            time.sleep(0.2)
    pytest.fail(f"{url} never answered")


def first_lines(process: subprocess.Popen[bytes], count: int) -> str:
    assert process.stdout is not None
    return "".join(process.stdout.readline().decode() for _ in range(count))


def test_serve_on_another_port_gives_moodle_urls_on_that_port(serve: Starter) -> None:
    port = free_port()
    process = serve("--port", str(port))

    setup = wait_for(f"http://127.0.0.1:{port}/setup", process)

    assert setup.status_code == 200
    assert f"http://127.0.0.1:{port}/lti/register" in setup.text and ":5000" not in setup.text
    assert f"running on http://127.0.0.1:{port}/" in first_lines(process, 1)


def test_serve_keeps_the_public_url_it_is_given(serve: Starter) -> None:
    port = free_port()
    process = serve("--port", str(port), env={"PLC_PUBLIC_BASE_URL": "https://plc.example.go.th"})

    setup = wait_for(f"http://127.0.0.1:{port}/setup", process)

    assert "https://plc.example.go.th/lti/register" in setup.text


def test_serve_on_every_address_says_to_set_the_public_url(serve: Starter) -> None:
    port = free_port()
    process = serve("--host", "0.0.0.0", "--port", str(port))

    wait_for(f"http://127.0.0.1:{port}/setup", process)

    assert "PLC_PUBLIC_BASE_URL" in first_lines(process, 2)
