"""Every user-facing string has a Thai translation, and the compiled catalog matches the source catalog."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "lti_tool" / "translations" / "th" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "ngettext": (1, 2)}


def _source_messages() -> set[str]:
    found: set[str] = set()
    for folder, method in ((ROOT / "lti_tool", "python"), (ROOT / "templates", "jinja2")):
        pattern = "**.py" if method == "python" else "**.html"
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(folder), method_map=[(pattern, method)], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_user_facing_string_has_a_thai_translation() -> None:
    catalog = read_po((CATALOG / "messages.po").open("rb"), locale="th")
    translated = {m.id for m in catalog if m.id and m.string}

    missing = sorted(_source_messages() - translated)

    assert not missing, (
        f"add Thai for: {missing} (pybabel extract -F babel.cfg -k _l ..., then update the .po and compile)"
    )


def test_compiled_catalog_matches_the_po_file() -> None:
    po = {m.id: m.string for m in read_po((CATALOG / "messages.po").open("rb"), locale="th") if m.id}
    mo = {m.id: m.string for m in read_mo(io.BytesIO((CATALOG / "messages.mo").read_bytes())) if m.id}

    assert po == mo, "run: pybabel compile -d lti_tool/translations"
