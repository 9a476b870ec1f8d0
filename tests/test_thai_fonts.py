"""Thai type everywhere: the demo command makes sure the Thai fonts are installed, and the tool warns in its log at
start and on every page that offers a document when fontconfig finds no Thai font. A machine without Thai fonts is
simulated with fontconfig's own FONTCONFIG_FILE pointing at a configuration with no font folder."""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from lti_tool.documents.fonts import THAI_FONT_PACKAGES, thai_fonts, warn_if_missing
from lti_tool.settings import Settings
from lti_tool.web.app import create_app
from models.database import Database
from tests.conftest import TEACHER, TRAINER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_program_pages import Visit, trainer_visit
from tests.test_sessions_page import running_program_with_a_team

DEMO = Path(__file__).resolve().parent.parent / "scripts" / "demo.sh"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@pytest.fixture(autouse=True)
def fonts_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check's logger as the tool has it: another test's logging set-up (the import linter's) may have disabled it."""
    monkeypatch.setattr(logging.getLogger("lti_tool.documents.fonts"), "disabled", False)


@pytest.fixture
def no_thai_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """fontconfig as on a server where no font is installed: a configuration that names no font folder."""
    config = tmp_path / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?>\n<fontconfig><cachedir>{tmp_path}/cache</cachedir></fontconfig>\n')
    monkeypatch.setenv("FONTCONFIG_FILE", str(config))


def test_the_thai_fonts_of_this_machine_are_found() -> None:
    fonts = thai_fonts()
    assert not fonts.missing and fonts.checked
    assert {"Noto Sans Thai", "Laksaman"} <= set(fonts.families)


@pytest.mark.usefixtures("no_thai_font")
def test_without_a_thai_font_the_check_says_so_and_the_log_names_the_packages(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="lti_tool.documents.fonts"):
        fonts = warn_if_missing()

    assert fonts.missing and fonts.checked
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "no Thai font found" in warning.getMessage()
    assert all(package in warning.getMessage() for package in THAI_FONT_PACKAGES)


def test_with_thai_fonts_nothing_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="lti_tool.documents.fonts"):
        warn_if_missing()
    assert caplog.records == []


@pytest.mark.usefixtures("no_thai_font")
def test_the_tool_warns_at_start_without_a_thai_font(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(
        instance_path=tmp_path, database_url=f"sqlite:///{tmp_path / 'plc.sqlite3'}", secret_key="s" * 32
    ).resolved()
    database = Database(settings.database_url)
    with caplog.at_level(logging.WARNING, logger="lti_tool.documents.fonts"):
        create_app(settings, database)
    database.dispose()

    assert any("no Thai font found" in r.getMessage() for r in caplog.records)


def notice(page: requests.Response) -> str:
    found = re.search(r'<div class="notice" role="alert" id="thai-font-notice">(.*?)</div>', page.text, re.S)
    return found.group(1) if found else ""


@pytest.mark.usefixtures("no_thai_font")
def test_pages_that_offer_documents_tell_the_administrator_what_to_install_in_thai_and_english(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    trainer = trainer_visit(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    pages = {
        "program": trainer.get("/program"),
        "certificates": trainer.get("/program/certificates"),
        "logbook": teacher.get("/program/logbook"),
    }

    for name, page in pages.items():
        said = notice(page)
        assert page.status_code == 200 and said, name
        assert 'lang="th"' in said and "ไม่มีแบบอักษรภาษาไทย" in said, name
        assert 'lang="en"' in said and "no Thai font" in said, name
        assert all(package in said for package in THAI_FONT_PACKAGES), name
        assert ".py" not in said and "config/" not in said  # no file names
    assert notice(teacher.get("/program/cycles/1")) == ""  # a page without documents says nothing


def test_with_thai_fonts_no_page_shows_the_notice(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    trainer = trainer_visit(tool, platform)

    assert notice(trainer.get("/program")) == "" and notice(trainer.get("/program/certificates")) == ""


# --- scripts/demo.sh --------------------------------------------------------------------------------------------


def test_the_demo_command_installs_the_packages_the_tool_names() -> None:
    script = DEMO.read_text(encoding="utf-8")
    listed = re.search(r"^THAI_FONT_PACKAGES=\(([^)]*)\)", script, re.M)

    assert listed and tuple(listed.group(1).split()) == THAI_FONT_PACKAGES
    assert 'apt-get install -y -qq fontconfig "${THAI_FONT_PACKAGES[@]}"' in script
    assert script.index("ensure_thai_fonts ||") < script.index("exec .venv/bin/plc-bridge demo")
    assert subprocess.run(["bash", "-n", str(DEMO)], check=False).returncode == 0


def test_the_demo_commands_font_check_passes_with_the_fonts_installed() -> None:
    checked = subprocess.run(["bash", str(DEMO), "--check-fonts"], capture_output=True, check=False, timeout=60)
    assert checked.returncode == 0


def demo_fonts(option: str, folder: Path, **stand_ins: str) -> subprocess.CompletedProcess[str]:
    """Run `demo.sh option` where fontconfig finds no font, with shell stand-ins (name → body) first on the PATH."""
    config, shims = folder / "fonts.conf", folder / "bin"
    config.write_text(f'<?xml version="1.0"?>\n<fontconfig><cachedir>{folder}/cache</cachedir></fontconfig>\n')
    shims.mkdir()
    for name, body in stand_ins.items():
        (shims / name.replace("_", "-")).write_text(f"#!/bin/sh\n{body}\n")
        (shims / name.replace("_", "-")).chmod(0o755)
    return subprocess.run(
        ["bash", str(DEMO), option],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={"PATH": f"{shims}:/usr/bin:/bin", "FONTCONFIG_FILE": str(config)},
    )


def test_the_demo_commands_font_check_fails_when_fontconfig_finds_no_thai_font(tmp_path: Path) -> None:
    assert demo_fonts("--check-fonts", tmp_path).returncode == 1


def test_the_demo_command_says_what_to_install_when_it_may_not_install_fonts(tmp_path: Path) -> None:
    """Not root and no sudo (stand-ins for `id` and `sudo`): nothing is installed, the message names the packages,
    and the demo would start anyway."""
    tried = demo_fonts(
        "--install-fonts", tmp_path, id="echo 1000", sudo="exit 1", apt_get="echo apt-get ran >&2; exit 9"
    )

    assert tried.returncode == 1 and "apt-get ran" not in tried.stderr
    assert all(package in tried.stderr for package in THAI_FONT_PACKAGES) and "The demo starts anyway" in tried.stderr


def test_as_root_the_demo_command_installs_the_fonts_with_apt_get(tmp_path: Path) -> None:
    """Root (a stand-in `id`), no Thai font: apt-get (a stand-in that writes down its arguments) installs them."""
    called = tmp_path / "apt-get.calls"

    done = demo_fonts("--install-fonts", tmp_path, id="echo 0", apt_get=f'echo "$*" >> {called}')

    assert done.returncode == 0
    assert called.read_text().splitlines() == [
        "update -qq",
        "install -y -qq fontconfig " + " ".join(THAI_FONT_PACKAGES),
    ]


@pytest.mark.browser
@pytest.mark.usefixtures("no_thai_font")
def test_the_notice_fits_moodles_800_px_in_thai(tool: ToolServer, platform: TestPlatform, browser: Any) -> None:
    running_program_with_a_team(tool, platform)
    landing = launch(requests.Session(), platform, TRAINER, context_id="course-42")
    page = browser.new_page(viewport={"width": 800, "height": 700}, locale="th-TH")
    page.goto(tool.url("/program/certificates?lang=th&s=" + landing.url.split("s=", 1)[1]))

    notice = page.locator("#thai-font-notice")
    assert notice.is_visible() and "fonts-tlwg-laksaman" in notice.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "thai-font-missing-notice-th.png"))
    page.close()
