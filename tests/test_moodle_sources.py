"""Which Moodle the Moodle tests run against: every version in ../shared/moodle/ is found, the newest runs unless
PLC_MOODLE_VERSION names another, and a folder that is not a Moodle tree is not taken for one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import moodle


def shared_folder(tmp_path: Path) -> Path:
    (tmp_path / "moodle-4.5.6.tar.xz").write_bytes(b"")
    (tmp_path / "moodle-4.1.12.tgz").write_bytes(b"")
    (tmp_path / "moodle-5.0.2").mkdir()
    (tmp_path / "moodle-5.0.2" / "version.php").write_text("<?php\n")
    (tmp_path / "moodle-6.0").mkdir()  # no version.php: not a source tree
    (tmp_path / "README.md").write_text("")
    return tmp_path


def test_every_version_is_found_oldest_first(tmp_path: Path) -> None:
    found = moodle.sources(shared_folder(tmp_path))

    assert [(s.version, s.path.name) for s in found] == [
        ("4.1.12", "moodle-4.1.12.tgz"),
        ("4.5.6", "moodle-4.5.6.tar.xz"),
        ("5.0.2", "moodle-5.0.2"),
    ]
    assert found[0].cache != found[1].cache  # each version installs into its own cache


def test_the_newest_runs_unless_a_version_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moodle, "SHARED_MOODLE", shared_folder(tmp_path))
    monkeypatch.delenv("PLC_MOODLE_VERSION", raising=False)
    chosen = moodle.chosen_source()
    assert chosen is not None and chosen.version == "5.0.2"

    monkeypatch.setenv("PLC_MOODLE_VERSION", "4.5.6")
    chosen = moodle.chosen_source()
    assert chosen is not None and chosen.version == "4.5.6"

    monkeypatch.setenv("PLC_MOODLE_VERSION", "3.9.0")
    assert moodle.chosen_source() is None


def test_no_folder_means_no_moodle(tmp_path: Path) -> None:
    assert moodle.sources(tmp_path / "absent") == []
