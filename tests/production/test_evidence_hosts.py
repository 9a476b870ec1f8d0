"""Evidence every host can read: two web processes (real OS processes, `plc-bridge serve`), each with an instance
folder of its own, on one PostgreSQL database. A file uploaded through one is downloaded through the other, byte for
byte, with its Thai name; neither process's folder holds it."""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from sqlalchemy import select

from bench.harness import CLI, wait_until_up
from lti_tool.settings import Settings
from models.database import Database
from models.evidence import DATABASE, Evidence
from models.evidence_chunks import chunk_count, stored_digest
from tests.conftest import TEACHER, TRAINER, ToolServer, register
from tests.support.lrs import free_port
from tests.support.lti_platform import TestPlatform
from tests.support.pg import throwaway_database
from tests.test_evidence import record_with_files
from tests.test_observations_page import TEAM_A, running_program, visit_as
from tests.test_program_pages import Visit

pytestmark = pytest.mark.postgres

THAI_NAME = "ภาพกิจกรรมกลุ่ม PLC ครูผู้สอน ป.4-2.png"


def big_png(megabytes: float) -> bytes:
    """A real PNG of random pixels, stored without compression: `megabytes` of bytes no two files share."""
    width = 1024
    height = int(megabytes * 1024 * 1024 / (3 * width)) + 1
    raw = b"".join(b"\x00" + os.urandom(3 * width) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b"")


@dataclass
class Host:
    base_url: str
    instance: Path
    process: subprocess.Popen[bytes]


def start_host(env: dict[str, str], instance: Path) -> Host:
    port = free_port()
    process = subprocess.Popen(
        [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "4"],
        env={**env, "PLC_INSTANCE_PATH": str(instance)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
    return Host(f"http://127.0.0.1:{port}", instance, process)


@pytest.fixture
def two_hosts(postgres_url: str, tmp_path: Path) -> Iterator[tuple[ToolServer, ToolServer, TestPlatform]]:
    """Host 1 and host 2 behind one public address (host 1's, where the platform sends launches), sharing the
    database and the secret as a deployment's hosts do, each with its own instance folder."""
    with throwaway_database("plc_hosts") as url:
        public = f"http://127.0.0.1:{free_port()}"
        env = {
            **os.environ,
            "PLC_DATABASE_URL": url,
            "PLC_SECRET_KEY": uuid.uuid4().hex * 2,
            "PLC_WORKER_THREAD": "false",
            "PLC_RATE_LIMIT_LTI": "100000 per minute",
            "PLC_LOG_LEVEL": "ERROR",
            "PLC_PRIVACY_NOTICE": "false",
        }
        env.pop("PLC_EVIDENCE_PATH", None)
        env.pop("PLC_EVIDENCE_STORE", None)  # the default: the database, since it is PostgreSQL
        subprocess.run([*CLI, "db", "upgrade"], env={**env, "PLC_INSTANCE_PATH": str(tmp_path)}, check=True)
        hosts: list[Host] = []
        database = Database(url)
        try:
            port = int(public.rsplit(":", 1)[1])
            first = subprocess.Popen(
                [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "4"],
                env={**env, "PLC_INSTANCE_PATH": str(tmp_path / "host1"), "PLC_PUBLIC_BASE_URL": public},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            hosts.append(Host(public, tmp_path / "host1", first))
            wait_until_up(f"{public}/healthz", first)
            hosts.append(start_host({**env, "PLC_PUBLIC_BASE_URL": public}, tmp_path / "host2"))
            tools = [
                ToolServer(
                    host.base_url,
                    Settings(instance_path=host.instance, database_url=url, public_base_url=public),
                    database,
                    server=None,  # type: ignore[arg-type]  # a process of its own, not a server in this one
                )
                for host in hosts
            ]
            platform = TestPlatform(client_id="client-hosts", deployment_id="dep-hosts")
            platform.start()
            platform.configure_tool(
                login_url=f"{public}/lti/login", launch_url=f"{public}/lti/launch", jwks_url=f"{public}/lti/jwks"
            )
            platform.add_user(TEACHER)
            platform.add_user(TRAINER)
            register(tools[0], platform)
            yield tools[0], tools[1], platform
            platform.stop()
        finally:
            for host in hosts:
                host.process.terminate()
                host.process.wait(timeout=20)
            database.dispose()


def on(tool: ToolServer, visit: Visit) -> Visit:
    """The same person's session, its requests sent to another host."""
    moved = Visit.__new__(Visit)
    moved.tool, moved.browser, moved.token = tool, visit.browser, visit.token
    return moved


def download(visit: Visit, evidence_id: int) -> requests.Response:
    return visit.get(f"/program/evidence/{evidence_id}")


def test_a_file_uploaded_through_one_host_is_downloaded_through_the_other(
    two_hosts: tuple[ToolServer, ToolServer, TestPlatform],
) -> None:
    host1, host2, platform = two_hosts
    model, _buddies = running_program(host1, platform)[(TEAM_A, 1)]
    teacher = visit_as(host1, platform, model)
    photo = big_png(3)
    assert len(photo) > 3 * 1024 * 1024

    saved = record_with_files(teacher, [(THAI_NAME, photo)])  # through host 1
    assert saved.status_code == 200 and saved.url.startswith(host1.base_url), saved.text[:300]
    with host1.database.transaction() as db:
        [row] = db.scalars(select(Evidence))
        assert (row.storage, row.size, row.sha256) == (DATABASE, len(photo), hashlib.sha256(photo).hexdigest())
        assert stored_digest(db, row.id) == (len(photo), row.sha256)
        assert chunk_count(db, [row.id]) == -(-len(photo) // (256 * 1024))  # 256 KiB chunks

    got = download(on(host2, teacher), row.id)  # through host 2

    assert got.status_code == 200 and got.url.startswith(host2.base_url)
    assert got.content == photo  # byte for byte
    assert got.headers["Content-Type"] == "image/png" and got.headers["Content-Length"] == str(len(photo))
    assert f"filename*=UTF-8''{quote(THAI_NAME, safe='')}" in got.headers["Content-Disposition"]
    assert got.headers["ETag"].strip('"') == row.sha256
    assert download(on(host2, teacher), row.id).status_code == 200  # and again: nothing was used up
    again = on(host2, teacher).browser.get(
        host2.url(f"/program/evidence/{row.id}"),
        params={"s": teacher.token},
        headers={"If-None-Match": got.headers["ETag"]},
    )
    assert again.status_code == 304 and again.content == b""
    for tool in (host1, host2):  # neither host kept it on its own disk
        folder = tool.settings.instance_path / "evidence"
        assert not folder.exists() or not any(folder.iterdir())


def test_the_other_way_round_and_a_file_removed_through_one_host_is_gone_from_both(
    two_hosts: tuple[ToolServer, ToolServer, TestPlatform],
) -> None:
    host1, host2, platform = two_hosts
    model, _buddies = running_program(host1, platform)[(TEAM_A, 1)]
    teacher = on(host2, visit_as(host1, platform, model))
    photo = big_png(1.5)

    assert record_with_files(teacher, [(THAI_NAME, photo)]).status_code == 200  # through host 2
    with host1.database.transaction() as db:
        [row] = db.scalars(select(Evidence))
    assert download(on(host1, teacher), row.id).content == photo  # through host 1

    with host1.database.transaction() as db:  # the row goes (as a removal, erasure or retention deletes it)
        db.delete(db.get(Evidence, row.id))
    with host1.database.transaction() as db:
        assert chunk_count(db) == 0  # its bytes went in the same transaction
    for tool in (host1, host2):
        assert download(on(tool, teacher), row.id).status_code == 404
