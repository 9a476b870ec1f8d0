"""A process serving the app leaves its start-up objects out of the cyclic collector's walks: the production entry
point (`lti_tool.web.wsgi`, which gunicorn imports in each worker) freezes them once the app is made and collects
the youngest generation less often (lti_tool/web/app.py `settle_heap`)."""

from __future__ import annotations

import json
import subprocess
import sys

from lti_tool.web.app import YOUNG_COLLECTION_THRESHOLD

PROBE = """
import gc, json
import lti_tool.web.wsgi as wsgi
client = wsgi.app.test_client()
status = client.get("/healthz").status_code
print(json.dumps({"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects()),
                  "young": gc.get_threshold()[0], "status": status}))
"""


def test_the_production_entry_point_freezes_what_start_up_loaded(sqlite_tool_env: dict[str, str]) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], env=sqlite_tool_env, capture_output=True, text=True, timeout=120
    )

    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    # The modules, classes, tables and mappers are frozen; what the collector still walks is a small rest.
    assert seen["frozen"] > 100_000 and seen["tracked"] < seen["frozen"] / 4
    assert seen["young"] == YOUNG_COLLECTION_THRESHOLD != 700
    assert seen["status"] == 200  # the app still serves
