"""What the benchmark scripts share: starting the tool's processes and registering a test platform with it."""

from __future__ import annotations

import contextlib
import logging
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
from werkzeug.serving import make_server

from lti_tool.cli.main import gunicorn_command

CLI = [sys.executable, "-m", "lti_tool.cli.main"]


def browser_session() -> requests.Session:
    """A new browser: its own cookies, no proxy or netrc lookups in the environment on every request (the load
    clients share the tool's two cores; a browser on a teacher's computer costs the server nothing)."""
    session = requests.Session()
    session.trust_env = False
    return session


def register_platform(env: dict[str, str], platform: Any) -> None:
    """`plc-bridge platform add` for a test platform (anything with its URLs and ids), as an admin types it."""
    subprocess.run(
        [*CLI, "platform", "add", "--issuer", platform.issuer, "--client-id", platform.client_id,
         "--deployment-id", platform.deployment_id, "--auth-login-url", platform.auth_login_url,
         "--auth-token-url", platform.token_url, "--key-set-url", platform.jwks_url],
        env=env, check=True, capture_output=True,
    )  # fmt: skip


@contextlib.contextmanager
def served_in_process(app: Any, port: int, platform: Any) -> Iterator[str]:
    """The app on werkzeug's threaded server at 127.0.0.1:port in this process, without a line per request, with the
    test platform's links going to it; its base URL, until the block ends."""
    base = f"http://127.0.0.1:{port}"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        platform.configure_tool(
            login_url=base + "/lti/login", launch_url=base + "/lti/launch", jwks_url=base + "/lti/jwks"
        )
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=5)


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Until the server answers at all (any status): it is listening and its app is loaded."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server for {url} exited with {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {seconds:.0f} s")


def start_gunicorn(env: dict[str, str], port: int, workers: int = 2, threads: int = 4) -> subprocess.Popen[bytes]:
    """The production web server on 127.0.0.1:port, with `plc-bridge serve --production`'s command line, without its
    access log."""
    command = gunicorn_command("127.0.0.1", port, workers, threads, access_log=False)
    web = subprocess.Popen([*command, "--log-level", "critical"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)  # fmt: skip
    wait_until_up(f"http://127.0.0.1:{port}/healthz", web)
    return web


def form_token(page: str, action: str) -> str | None:
    """The form token of the form posting to `action` (the project's own token, bound to the session)."""
    after = page.split(f'action="{action}', 1)
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', after[1]) if len(after) == 2 else None
    return found.group(1) if found else None


def waited(started: float) -> str:
    """How soon a request without an answer failed, in words."""
    seconds = time.perf_counter() - started
    return "at once" if seconds < 1 else "within 10 s" if seconds < 10 else "within 59 s" if seconds < 59 else "at 60 s"
