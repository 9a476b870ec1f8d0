"""A real Ralph LRS on 127.0.0.1 for the tests, and a counting proxy to see exactly what a worker posts."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from tests.support.lti_platform import QuietHandler
from tests.support.waiting import wait_until
from xapi.lrs_client import LrsDestination

ROOT = Path(__file__).resolve().parents[2]
STARTER = Path(__file__).with_name("ralph_starter.py")
USER, PASSWORD = "plc-bridge", "ralph-test-secret"


def ralph_python() -> Path | None:
    """Ralph lives in its own virtual environment (its pins differ from ours); scripts/test.sh makes it."""
    candidates = [os.environ.get("PLC_RALPH_PYTHON", ""), str(ROOT / ".venv-ralph" / "bin" / "python")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return Path(candidate)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RalphServer:
    def __init__(self, workdir: Path, python: Path) -> None:
        self.python = python
        self.app_dir = workdir / "ralph-app"
        self.data_dir = workdir / "ralph-data"
        self.app_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {
            **os.environ,
            "RALPH_APP_DIR": str(self.app_dir),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__DATA__FS__DEFAULT_DIRECTORY_PATH": str(self.data_dir),
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.data_dir),
        }
        ralph_cli = python.with_name("ralph")
        subprocess.run(
            [str(ralph_cli), "auth", "-u", USER, "-p", PASSWORD, "-s", "all", "-M", "mailto:lrs@example.org", "-w"],
            env=self.env,
            check=True,
            capture_output=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def destination(self, name: str = "ralph", endpoint: str | None = None) -> LrsDestination:
        return LrsDestination(
            name=name,
            endpoint=endpoint or self.base_url + "/xAPI/",
            username=USER,
            password=PASSWORD,
            timeout_seconds=10,
        )

    def start(self) -> RalphServer:
        self.process = subprocess.Popen(
            [str(self.python), str(STARTER), str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_until(self._beats, timeout=30, message="Ralph did not start")
        return self

    def _beats(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(
                f"Ralph exited: {self.process.stderr.read().decode()[-2000:] if self.process.stderr else ''}"
            )
        try:
            return requests.get(self.base_url + "/__heartbeat__", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None

    def statements(self) -> list[dict[str, Any]]:
        """Every statement Ralph holds, read back through its xAPI API (following `more`)."""
        found: list[dict[str, Any]] = []
        url: str | None = self.base_url + "/xAPI/statements?limit=1000"
        while url:
            response = requests.get(
                url, auth=(USER, PASSWORD), headers={"X-Experience-API-Version": "1.0.3"}, timeout=30
            )
            response.raise_for_status()
            body = response.json()
            found.extend(body["statements"])
            more = body.get("more")
            url = self.base_url + more if more else None
        return found

    def stored_ids(self) -> Counter[str]:
        """How many times each statement id is stored: exactly once is the goal."""
        return Counter(statement["id"] for statement in self.statements())


class CountingProxy:
    """Sits between a worker and an LRS, forwards every request and counts each statement id posted, and the posts.

    `delay_seconds` holds each POST before forwarding it (to kill a worker mid-batch); `mode="garbage"`
    answers 200 with HTML instead of forwarding.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.posted: Counter[str] = Counter()
        self.posts = 0  # POST requests, whatever their size
        self.delay_seconds = 0.0
        self.mode = "forward"
        self._lock = threading.Lock()
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self._app, threaded=True, request_handler=QuietHandler
        )
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/xAPI/"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        if request.method == "POST":
            with self._lock:
                self.posted.update(statement["id"] for statement in json.loads(body))
                self.posts += 1
            time.sleep(self.delay_seconds)
            if self.mode == "garbage":
                return Response("<html>maintenance</html>", status=200, mimetype="text/html")(environ, start_response)
        upstream = requests.request(
            request.method,
            self.upstream + request.full_path.rstrip("?"),
            data=body,
            headers={
                k: v
                for k, v in request.headers.items()
                if k.lower() in ("authorization", "content-type", "x-experience-api-version")
            },
            timeout=30,
        )
        return Response(
            upstream.content, status=upstream.status_code, content_type=upstream.headers.get("Content-Type")
        )(environ, start_response)
