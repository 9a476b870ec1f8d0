"""Whether the machine has the Thai fonts the documents need: without one, WeasyPrint prints Thai as empty boxes.
Asked of fontconfig (`fc-list :lang=th`, the library WeasyPrint's Pango finds fonts with) once per fontconfig set-up,
so that the check costs one process per start; fontconfig's own FONTCONFIG_FILE picks another set-up, which is how a
machine without Thai fonts is simulated without uninstalling any."""

from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass
from functools import cache

log = logging.getLogger(__name__)

# The Debian packages that scripts/demo.sh and scripts/test.sh install: Noto Sans/Serif Thai, the TLWG fonts, and
# Laksaman (the free twin of TH Sarabun PSK, the Thai official font of letters).
THAI_FONT_PACKAGES = ("fonts-thai-tlwg", "fonts-noto-core", "fonts-tlwg-laksaman")


@dataclass(frozen=True)
class ThaiFonts:
    """The Thai font families fontconfig knows; `checked` is False when fontconfig could not be asked at all."""

    families: tuple[str, ...]
    checked: bool = True

    @property
    def missing(self) -> bool:
        return not self.families


def thai_fonts() -> ThaiFonts:
    """The Thai fonts of this machine, as fontconfig (under FONTCONFIG_FILE / FONTCONFIG_PATH when set) lists them."""
    return _ask_fontconfig(os.environ.get("FONTCONFIG_FILE", ""), os.environ.get("FONTCONFIG_PATH", ""))


@cache
def _ask_fontconfig(config_file: str, config_path: str) -> ThaiFonts:
    # The arguments key the cache: the process environment carries them to fc-list.
    try:
        listed = subprocess.run(
            ["fc-list", ":lang=th", "family"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as failed:
        log.warning("could not ask fontconfig for Thai fonts (fc-list): %s", failed)
        return ThaiFonts((), checked=False)
    families = {name.strip() for line in listed.stdout.splitlines() for name in line.split(",")[:1] if name.strip()}
    return ThaiFonts(tuple(sorted(families)))


def warn_if_missing() -> ThaiFonts:
    """Log a warning naming the packages to install when no Thai font is found; the fonts found either way."""
    fonts = thai_fonts()
    if fonts.missing:
        log.warning(
            "no Thai font found: certificates, logbooks and the results report will print Thai as empty boxes. "
            "Install the Thai fonts (Debian: apt-get install %s) and restart PLC Bridge",
            " ".join(THAI_FONT_PACKAGES),
        )
    return fonts
