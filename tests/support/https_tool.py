"""The tool and a Moodle-like platform, each over HTTPS on a site of its own (tool https://127.0.0.1, platform
https://localhost), with self-signed certificates made in the test: how a district runs the tool beside Moodle."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select

from models.base import utcnow
from models.platform import Platform
from tests.conftest import TEACHER, TRAINER, ToolServer, register, start_tool
from tests.support.https import self_signed_context
from tests.support.lti_platform import TestPlatform
from tests.support.pg import throwaway_database


@contextmanager
def https_tool_and_platform(folder: Path, database: str, **settings: Any) -> Iterator[tuple[ToolServer, TestPlatform]]:
    """`database` is "sqlite" or "postgres" (a throwaway database); `settings` override the tool's."""
    with ExitStack() as stack:
        url = (
            f"sqlite:///{folder / 'plc.sqlite3'}"
            if database == "sqlite"
            else stack.enter_context(throwaway_database("plc_https"))
        )
        tls = self_signed_context(folder)
        tool = start_tool(folder, url, ssl_context=tls, rate_limit_lti="100000 per minute", **settings)
        stack.callback(tool.database.dispose)
        stack.callback(tool.server.server_close)
        stack.callback(tool.server.shutdown)
        platform = TestPlatform(client_id="client-https", deployment_id="dep-https", host="localhost", ssl_context=tls)
        platform.start()
        stack.callback(platform.stop)
        platform.configure_tool(
            login_url=tool.url("/lti/login"), launch_url=tool.url("/lti/launch"), jwks_url=tool.url("/lti/jwks")
        )
        platform.add_user(TEACHER)
        platform.add_user(TRAINER)
        register(tool, platform)
        # The platform's certificate is self-signed: give the tool its key set, so it need not fetch it over TLS.
        with tool.database.transaction() as db:
            row = db.scalars(select(Platform).where(Platform.issuer == platform.issuer)).one()
            row.key_set_cache, row.key_set_fetched_at = platform.jwks(), utcnow()
        yield tool, platform


def https_browser() -> requests.Session:
    """A browser that accepts the test's self-signed certificates and keeps cookies."""
    browser = requests.Session()
    browser.verify = False
    browser.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides verify=False
    return browser
