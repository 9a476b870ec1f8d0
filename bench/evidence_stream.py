"""Evidence streams: the web process's peak RSS growth while it takes an upload of a large file and serves it back,
for the database store (PostgreSQL chunks) and the folder store, against the file's size (a server that held the
file whole would grow by at least that much).

  python bench/evidence_stream.py [--megabytes 20] [--rounds 2]

A real `plc-bridge serve` process on a throwaway PostgreSQL database; its peak RSS (VmHWM) is reset through
/proc/<pid>/clear_refs before each step and read after it. The shipped size cap is 10 MB per file: for a larger
file this process only raises the cap (MAX_EVIDENCE_BYTES) so that the file is taken. Nothing is asserted; the figures
are printed.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import CLI, wait_until_up  # noqa: E402
from lti_tool.settings import Settings  # noqa: E402
from models.database import Database  # noqa: E402
from tests.support.lrs import free_port  # noqa: E402
from tests.support.pg import throwaway_database  # noqa: E402

SERVE = """
import sys
import models.evidence
models.evidence.MAX_EVIDENCE_BYTES = max(models.evidence.MAX_EVIDENCE_BYTES, int(sys.argv[1]))
from lti_tool.cli.main import main
sys.argv = ["plc-bridge", *sys.argv[2:]]
main()
"""


def status(pid: int, field: str) -> int:
    """A /proc/<pid>/status figure in bytes (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def reset_peak(pid: int) -> int:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
    return status(pid, "VmRSS")


def one_store(store: str, megabytes: float, rounds: int) -> dict[str, list[int]]:
    from tests.conftest import TEACHER, TRAINER, ToolServer, register
    from tests.production.test_evidence_hosts import THAI_NAME, big_png
    from tests.support.lti_platform import TestPlatform
    from tests.test_observations_page import TEAM_A, running_program, visit_as

    growth: dict[str, list[int]] = {"upload": [], "download": []}
    with throwaway_database("plc_stream") as url, tempfile.TemporaryDirectory() as work:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "PLC_DATABASE_URL": url,
            "PLC_INSTANCE_PATH": work,
            "PLC_PUBLIC_BASE_URL": base,
            "PLC_SECRET_KEY": uuid.uuid4().hex * 2,
            "PLC_WORKER_THREAD": "false",
            "PLC_RATE_LIMIT_LTI": "100000 per minute",
            "PLC_LOG_LEVEL": "ERROR",
            "PLC_PRIVACY_NOTICE": "false",
            "PLC_EVIDENCE_STORE": store,
        }
        subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True)
        size = int(megabytes * 1024 * 1024) + 1024 * 1024
        web = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(size), "serve", "--port", str(port), "--threads", "4"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        database = Database(url)
        platform = TestPlatform(client_id="client-stream", deployment_id="dep-stream")
        try:
            wait_until_up(f"{base}/healthz", web)
            tool = ToolServer(base, Settings(instance_path=Path(work), database_url=url), database, server=None)  # type: ignore[arg-type]
            platform.start()
            platform.configure_tool(f"{base}/lti/login", f"{base}/lti/launch", f"{base}/lti/jwks")
            platform.add_user(TEACHER)
            platform.add_user(TRAINER)
            register(tool, platform)
            model, _ = running_program(tool, platform)[(TEAM_A, 1)]
            teacher = visit_as(tool, platform, model)
            teacher.get("/program/sessions")  # warm the page once
            for round_ in range(rounds + 1):  # the first, of a 1 MB file, warms the process up and is not counted
                data = big_png(megabytes if round_ else 1)
                before = reset_peak(web.pid)
                saved = record_session(teacher, element=round_ + 1, name=THAI_NAME, data=data)
                assert saved.status_code == 200, (saved.status_code, re.findall(r"error[^<]*<[^<]*", saved.text)[:3])
                growth["upload"].append(status(web.pid, "VmHWM") - before)
                evidence_id = max(int(i) for i in _ids(saved.text))
                before = reset_peak(web.pid)
                got = teacher.browser.get(
                    tool.url(f"/program/evidence/{evidence_id}"), params={"s": teacher.token}, stream=True
                )
                received = sum(len(block) for block in got.iter_content(256 * 1024))
                growth["download"].append(status(web.pid, "VmHWM") - before)
                assert got.status_code == 200 and received == len(data)
                if not round_:
                    growth = {"upload": [], "download": []}
        finally:
            platform.stop()
            web.terminate()
            web.wait(timeout=20)
            database.dispose()
    return growth


def record_session(visit: Any, element: int, name: str, data: bytes) -> requests.Response:
    """The sessions page's form, as a browser posts it, with one file (each round another element: no duplicate)."""
    page = visit.get("/program/sessions")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf is not None
    attendees = re.findall(r'name="attendee" value="(\d+)"', page.text)
    fields = [("csrf", csrf.group(1)), ("cycle", "1"), ("element", str(element)), ("held_on", "2026-11-20")]
    fields += [("hours", "2"), *[("attendee", a) for a in attendees]]
    return visit.browser.post(
        visit.tool.url("/program/sessions"),
        params={"s": visit.token},
        data=fields,
        files=[("evidence", (name, data, "application/octet-stream"))],
    )


def _ids(page: str) -> list[str]:
    return re.findall(r"/program/evidence/(\d+)", page)


def traced(megabytes: float) -> tuple[int, int]:
    """Python's own allocations (tracemalloc peak) while the database store takes a file from a spooled temporary
    file, as Werkzeug hands over an upload, and while `read_chunks` gives it back: the store's part alone, without
    the WSGI server's buffers."""
    import tempfile as spool
    import tracemalloc

    import models.evidence as ev
    from models.evidence_chunks import DatabaseStore, read_chunks
    from models.migrate import upgrade
    from tests.factories import make_course, record, running
    from tests.production.test_evidence_hosts import big_png

    ev.MAX_EVIDENCE_BYTES = max(ev.MAX_EVIDENCE_BYTES, int((megabytes + 1) * 1024 * 1024))
    with throwaway_database("plc_traced") as url, spool.SpooledTemporaryFile(max_size=500 * 1024) as part:
        database = Database(url)
        upgrade(database.engine)
        part.write(big_png(megabytes))
        with database.transaction() as db:
            course = make_course(db, "traced")
            _, team = running(db, course)
            record(db, team, 1)
            tracemalloc.start()
            [row] = ev.store_evidence(
                db, DatabaseStore(), team.cycles[0], [ev.Upload("ภาพ.png", stream=part)], course.teachers[0].id
            )  # type: ignore[arg-type]
            upload = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        tracemalloc.start()
        assert sum(len(chunk) for chunk in read_chunks(database, row.id)) == row.size
        download = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        database.dispose()
    return upload, download


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min); file {args.megabytes:g} MB")
    file_bytes = args.megabytes * 1024 * 1024
    for store in ("database", "folder"):
        growth: dict[str, Any] = one_store(store, args.megabytes, args.rounds)
        for step in ("upload", "download"):
            values = growth[step]
            median = statistics.median(values)
            print(
                f"{store:8} {step:8} peak RSS growth median {median / 2**20:6.1f} MB "
                f"(rounds: {', '.join(f'{v / 2**20:.1f}' for v in values)}), "
                f"{median / file_bytes:.2f} of the file's size"
            )
    upload, download = traced(args.megabytes)
    print(
        f"database store alone (tracemalloc peak, in this process): upload {upload / 2**20:.1f} MB, "
        f"download {download / 2**20:.1f} MB ({upload / file_bytes:.2f} and {download / file_bytes:.2f} of the file)"
    )


if __name__ == "__main__":
    main()
