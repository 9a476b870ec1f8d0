"""Thai type for the documents: a warning in the log when the tool starts without a Thai font, and a notice in Thai
and English on every page that offers a document (certificates, logbooks, the results report) while none is found."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from lti_tool.documents.fonts import THAI_FONT_PACKAGES, thai_fonts, warn_if_missing
from lti_tool.web.i18n import both_languages

NOTICE: Any = _l(
    "This server has no Thai font, so the documents on this page would print Thai as empty boxes. Please ask the "
    "server's administrator to install the Thai fonts (the Debian packages %(packages)s) and restart PLC Bridge."
)


def font_notice() -> dict[str, str] | None:
    """The notice in Thai and English while no Thai font is found; None when the documents can print Thai."""
    if not thai_fonts().missing:
        return None
    packages = ", ".join(THAI_FONT_PACKAGES)
    return both_languages(lambda: str(NOTICE % {"packages": packages}))


def init_app(app: Flask) -> None:
    """Warn at start when no Thai font is found; give templates `font_notice()` (partials/font_notice.html)."""
    warn_if_missing()

    @app.context_processor
    def _font_notice() -> dict[str, Any]:
        return {"font_notice": font_notice}
