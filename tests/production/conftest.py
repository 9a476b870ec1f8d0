"""What the production tests share."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from bench.harness import CLI


@pytest.fixture
def sqlite_tool_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a tool process on its own SQLite database in tmp_path, migrated, with no worker thread."""
    env = {
        **os.environ,
        "PLC_DATABASE_URL": f"sqlite:///{tmp_path / 'tool.db'}",
        "PLC_SECRET_KEY": uuid.uuid4().hex * 2,
        "PLC_INSTANCE_PATH": str(tmp_path),
        "PLC_WORKER_THREAD": "false",
    }
    subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True)
    return env
