"""The example consumer follows the LRS's `more` link only on the LRS's own scheme, host and port (xAPI 1.0.3 §2.1.3:
`more` is relative to the LRS's host): an absolute link elsewhere would take the LRS's credentials with it. A small
HTTP server on 127.0.0.1 plays the LRS and records what reaches it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from lti_tool.cli.main import main
from xapi.consumer import ForeignMoreLink, LrsReader, Query


class _Lrs(BaseHTTPRequestHandler):
    more = ""
    seen: list[tuple[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        type(self).seen.append((self.path, self.headers.get("Authorization", "")))
        first = "/xAPI/statements?" in self.path and "limit=" in self.path
        body = {"statements": [{"id": self.path}], "more": type(self).more if first else ""}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def lrs() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Lrs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Lrs.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}/xAPI/"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("more", ["https://elsewhere.example/xAPI/statements?page=2", "//elsewhere.example/p2"])
def test_a_more_link_to_another_host_is_refused_before_anything_is_sent_there(lrs: str, more: str) -> None:
    _Lrs.more = more
    reader = LrsReader(lrs, "user", "secret")

    with pytest.raises(ForeignMoreLink, match="elsewhere.example"):
        list(reader.statements(Query()))
    assert len(_Lrs.seen) == 1


def test_a_more_link_on_the_lrss_own_host_is_followed_relative_or_absolute(lrs: str) -> None:
    for more in ("/xAPI/statements/more/2", lrs + "statements/more/2"):
        _Lrs.more = more
        found = list(LrsReader(lrs, "user", "secret").statements(Query()))
        assert [s["id"] for s in found][1] == "/xAPI/statements/more/2"
        assert all(auth.startswith("Basic ") for _, auth in _Lrs.seen)


def test_the_command_says_why_it_stops_at_a_foreign_more_link(lrs: str) -> None:
    _Lrs.more = "https://elsewhere.example/xAPI/statements?page=2"
    result = CliRunner().invoke(main, ["lrs", "competencies", "--endpoint", lrs, "--username", "u", "--password", "p"])
    assert result.exit_code == 1 and "leads away from the LRS" in result.output and "Traceback" not in result.output
