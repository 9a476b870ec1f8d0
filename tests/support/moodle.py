"""A real Moodle for the tests, from the source tree in `../shared/moodle/` (beside the project root).

The first run of a Moodle version unpacks it into a cache folder, installs it on a PostgreSQL database of its own
with Moodle's CLI installer and keeps a `pg_dump` of the installed site with its data folder; every later test
session restores that dump into a new database (seconds instead of a minute), serves the tree with PHP's built-in
server on a free port of 127.0.0.1, and drops the database at the end. The tree's `config.php` (ours, in
tests/moodle/) reads the database, address and data folder from the environment, so several sessions at once may
share one unpacked tree. People, courses and enrolments are made by tests/moodle/site.php, a short PHP CLI script.

Another Moodle version dropped into `../shared/moodle/` (`moodle-<version>.tar.xz`, or an unpacked `moodle-<version>`
folder) is picked up: the newest unless `PLC_MOODLE_VERSION` names one.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tarfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests

from tests.support.pg import PG_ADMIN_URL

PROJECT = Path(__file__).resolve().parents[2]
SHARED_MOODLE = Path(os.environ.get("PLC_MOODLE_SOURCES", PROJECT.parent / "shared" / "moodle"))
CACHE = Path(os.environ.get("PLC_MOODLE_CACHE", Path.home() / ".cache" / "plc-bridge" / "moodle"))
OUR_FILES = PROJECT / "tests" / "moodle"
CACHE_FORMAT = "1"  # bump when the installed site changes (the installer's options, the data folder's extras)

ADMIN = ("admin", "Admin-pass-1!")
PHP_SETTINGS = ["-d", "max_input_vars=5000", "-d", "memory_limit=512M"]

# Moodle's Thai: a language pack of one file makes "th" a language Moodle knows, so that a Thai user's launches say
# `th` (every string Moodle itself shows falls back to English, which has them all).
THAI_LANGCONFIG = """<?php
$string['thisdirection'] = 'ltr';
$string['thislanguage'] = 'ไทย';
$string['thislanguageint'] = 'Thai';
$string['parentlanguage'] = '';
$string['locale'] = 'th_TH.UTF-8';
$string['localewin'] = 'Thai_Thailand.874';
$string['iso6391'] = 'th';
$string['iso6392'] = 'tha';
"""


@dataclass(frozen=True)
class MoodleSource:
    version: str
    path: Path  # a .tar.xz/.tgz/.tar.gz of the source tree, or the tree itself

    @property
    def cache(self) -> Path:
        return CACHE / f"{self.version}-{CACHE_FORMAT}"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def sources(folder: Path | None = None) -> list[MoodleSource]:
    """Every Moodle version in the folder (`../shared/moodle/` unless given), oldest first."""
    folder = SHARED_MOODLE if folder is None else folder
    found = []
    for path in folder.glob("moodle-*") if folder.is_dir() else []:
        match = re.fullmatch(r"moodle-(\d+(?:\.\d+)*)(\.tar\.xz|\.tar\.gz|\.tgz)?", path.name)
        if match and (match.group(2) or (path / "version.php").is_file()):
            found.append(MoodleSource(match.group(1), path))
    return sorted(found, key=lambda source: _version_key(source.version))


def chosen_source() -> MoodleSource | None:
    """The Moodle the tests run against: `PLC_MOODLE_VERSION`, or the newest one in `../shared/moodle/`."""
    available = sources()
    wanted = os.environ.get("PLC_MOODLE_VERSION")
    if wanted:
        matching = [source for source in available if source.version == wanted]
        return matching[0] if matching else None
    return available[-1] if available else None


def php() -> str | None:
    return shutil.which("php")


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One test session at a time prepares a version's cache; the others wait and then reuse it."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _unpack(source: MoodleSource) -> Path:
    tree = source.cache / "src"
    if not (tree / ".unpacked").exists():
        shutil.rmtree(tree, ignore_errors=True)
        if source.path.is_dir():
            shutil.copytree(source.path, tree, symlinks=True)
        else:
            tree.mkdir(parents=True)
            subprocess.run(["tar", "-xf", str(source.path), "-C", str(tree)], check=True)
            inner = [child for child in tree.iterdir()]
            if len(inner) == 1 and (inner[0] / "version.php").is_file():  # a tarball with a top folder
                for child in inner[0].iterdir():
                    child.rename(tree / child.name)
                inner[0].rmdir()
        (tree / ".unpacked").touch()
    shutil.copyfile(OUR_FILES / "config.php", tree / "config.php")
    return tree


def _environment(tree: Path, database: str, wwwroot: str, dataroot: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PLC_MOODLE_ROOT": str(tree),
        "PLC_MOODLE_DBNAME": database,
        "PLC_MOODLE_WWWROOT": wwwroot,
        "PLC_MOODLE_DATAROOT": str(dataroot),
    }


def _admin_sql(statement: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


def _pg_args() -> list[str]:
    return ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]


def prepare(source: MoodleSource) -> Path:
    """Unpack and install the version once; its tree, `site.dump` and `moodledata.tar` stay in the cache."""
    with _locked(source.cache):
        tree = _unpack(source)
        if (source.cache / "site.dump").exists() and (source.cache / "moodledata.tar").exists():
            return tree
        database = f"plc_moodle_install_{uuid.uuid4().hex[:8]}"
        dataroot = source.cache / "moodledata-install"
        shutil.rmtree(dataroot, ignore_errors=True)
        dataroot.mkdir()
        _admin_sql(f'CREATE DATABASE "{database}"')
        try:
            subprocess.run(
                [
                    "php",
                    *PHP_SETTINGS,
                    "admin/cli/install_database.php",
                    "--agree-license",
                    "--lang=en",
                    f"--adminuser={ADMIN[0]}",
                    f"--adminpass={ADMIN[1]}",
                    "--adminemail=admin@example.org",
                    "--fullname=District LMS",
                    "--shortname=district",
                ],
                cwd=tree,
                env=_environment(tree, database, "http://127.0.0.1:9", dataroot),
                check=True,
                capture_output=True,
                timeout=900,
            )
            thai = dataroot / "lang" / "th"
            thai.mkdir(parents=True, exist_ok=True)
            (thai / "langconfig.php").write_text(THAI_LANGCONFIG, encoding="utf-8")
            for cached in ("cache", "localcache", "sessions", "temp", "muc"):
                shutil.rmtree(dataroot / cached, ignore_errors=True)
            with open(source.cache / "site.dump.part", "wb") as dump:
                subprocess.run(["pg_dump", "-Fc", *_pg_args(), database], stdout=dump, check=True)
            with tarfile.open(source.cache / "moodledata.tar.part", "w") as archive:
                archive.add(dataroot, arcname=".")
            (source.cache / "site.dump.part").rename(source.cache / "site.dump")
            (source.cache / "moodledata.tar.part").rename(source.cache / "moodledata.tar")
        finally:
            _admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            shutil.rmtree(dataroot, ignore_errors=True)
        return tree


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class MoodleSite:
    """A running Moodle: its address, its database (for reading what Moodle stored) and its CLI helper."""

    source: MoodleSource
    tree: Path
    database: str
    dataroot: Path
    wwwroot: str
    server: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    users: dict[str, str] = field(default_factory=dict)  # username → password

    @property
    def version(self) -> str:
        return self.source.version

    def url(self, path: str) -> str:
        return self.wwwroot + path

    def environment(self) -> dict[str, str]:
        return _environment(self.tree, self.database, self.wwwroot, self.dataroot)

    def run(self, *commands: dict[str, Any]) -> list[Any]:
        """Commands of tests/moodle/site.php (user, course, enrol, suspend, tool_types, launch_container), in one
        PHP process."""
        done = subprocess.run(
            ["php", *PHP_SETTINGS, str(OUR_FILES / "site.php")],
            input=json.dumps(list(commands)).encode(),
            env=self.environment(),
            capture_output=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"site.php failed: {done.stdout.decode()[-2000:]} {done.stderr.decode()[-2000:]}")
        answers: list[Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
        return answers

    def add_user(self, username: str, firstname: str, lastname: str, lang: str = "en") -> dict[str, Any]:
        password = f"Pw-{username}-1!"
        [answer] = self.run(
            {
                "action": "user",
                "username": username,
                "password": password,
                "firstname": firstname,
                "lastname": lastname,
                "email": f"{username}@example.org",
                "lang": lang,
            }
        )
        self.users[username] = password
        return dict(answer)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read what Moodle stored (its tables are prefixed `mdl_`)."""
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{self.database}") as connection:
            return list(connection.execute(sql, params).fetchall())  # type: ignore[arg-type]

    def start(self) -> MoodleSite:
        self.log = self.dataroot.parent / "php-server.log"
        with open(self.log, "wb") as log:
            self.server = subprocess.Popen(
                ["php", *PHP_SETTINGS, "-S", self.wwwroot.removeprefix("http://"), "-t", str(self.tree)],
                env={**self.environment(), "PHP_CLI_SERVER_WORKERS": "4"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its workers are forked children: stop() ends the whole group
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(self.url("/login/index.php"), timeout=30).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or self.server.poll() is not None:
                raise RuntimeError(f"Moodle did not start: {self.log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.server is not None:
            os.killpg(self.server.pid, signal.SIGTERM)  # PHP's built-in server and the workers it forked
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
        _admin_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


def start_site(source: MoodleSource, workdir: Path) -> MoodleSite:
    """A Moodle of its own for this session, restored from the installed version's dump."""
    tree = prepare(source)
    database = f"plc_moodle_{uuid.uuid4().hex[:10]}"
    dataroot = workdir / "moodledata"
    dataroot.mkdir(parents=True)
    with tarfile.open(source.cache / "moodledata.tar") as archive:
        archive.extractall(dataroot, filter="tar")
    _admin_sql(f'CREATE DATABASE "{database}"')
    subprocess.run(
        ["pg_restore", "--no-owner", *_pg_args(), "-d", database, str(source.cache / "site.dump")],
        check=True,
        capture_output=True,
    )
    site = MoodleSite(source, tree, database, dataroot, f"http://127.0.0.1:{_free_port()}")
    site.users[ADMIN[0]] = ADMIN[1]
    return site.start()
