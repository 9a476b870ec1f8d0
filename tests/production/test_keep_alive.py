"""The production web server keeps an idle connection open longer than nginx keeps its idle connections to it: a
real gunicorn, started with `plc-bridge serve --production`'s command line, answers a second request sent on the
same connection after an idle pause longer than gunicorn's own default (2 s), where it would have closed it."""

from __future__ import annotations

import http.client
import re
import subprocess
import time
from pathlib import Path

from bench.harness import wait_until_up
from lti_tool.cli.main import KEEP_ALIVE_SECONDS, gunicorn_command
from tests.support.lrs import free_port

NGINX_CONF = Path(__file__).resolve().parents[2] / "config" / "deploy" / "nginx.conf"


def test_an_idle_connection_outlives_gunicorns_default_and_nginxs_own_timeout(sqlite_tool_env: dict[str, str]) -> None:
    port = free_port()
    server = subprocess.Popen(
        gunicorn_command("127.0.0.1", port, workers=1, threads=2),
        env=sqlite_tool_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", server)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/healthz")
        first = connection.getresponse()
        first.read()
        time.sleep(3.5)  # idle past gunicorn's default keep-alive (2 s)
        connection.request("GET", "/healthz")  # the same connection: http.client opens no other
        second = connection.getresponse()
        second.read()
        connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert (first.status, second.status) == (200, 200)
    # nginx closes its idle connections to the web hosts first, so gunicorn never closes one nginx is reusing.
    nginx_timeout = re.search(r"upstream plc_bridge \{[^}]*keepalive_timeout (\d+)s;", NGINX_CONF.read_text())
    assert nginx_timeout and int(nginx_timeout.group(1)) < KEEP_ALIVE_SECONDS
