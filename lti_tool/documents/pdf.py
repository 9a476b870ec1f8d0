"""Printable documents (certificates, hours logbooks, the results report) as PDF: Jinja HTML + CSS templates that an
agency may replace without touching code (`PLC_DOCUMENT_TEMPLATES`), laid out by WeasyPrint, whose Pango shapes Thai
(marks stacked on their consonants) and breaks lines between Thai words with libthai."""

from __future__ import annotations

import functools
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import segno
from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from lti_tool.settings import Settings
from lti_tool.web.i18n import format_answer, format_date_local
from models.agencies import KIND_NAMES, AgencyKind
from models.catalog import CONFIG_DIR
from models.catalog import element as element_info
from models.plan import PlcRole

SHIPPED = CONFIG_DIR / "documents"
ROLE_NAMES = {
    PlcRole.MODEL: {"th": "ครูผู้สอน (Model Teacher)", "en": "Model Teacher"},
    PlcRole.BUDDY: {"th": "ครูร่วมการเรียนรู้ (Buddy Teacher)", "en": "Buddy Teacher"},
}
THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


def be_date(value: date | None, lang: str = "th") -> str:
    """22 พฤศจิกายน 2569 in Thai (Buddhist Era), 22 November 2026 in English."""
    return format_date_local(value, lang) if value else ""


def hours_text(value: Decimal | int | float) -> str:
    """Hours without needless decimals: 30, 1.5, 2.25."""
    number = Decimal(value).normalize()
    return f"{number:f}" if number == number.to_integral_value() else f"{number:f}".rstrip("0")


def element_name(number: int, lang: str = "th") -> str:
    return element_info(number).name[lang]


def role_name(role: PlcRole | str | None, lang: str = "th") -> str:
    return ROLE_NAMES[PlcRole(role)][lang] if role else ""


def thai_digits(value: object) -> str:
    """Arabic digits as Thai digits (๑๒๓); markup stays markup, so a whole block of a letter can be filtered."""
    return value.translate(THAI_DIGITS) if isinstance(value, str) else str(value).translate(THAI_DIGITS)


def agency_kind(kind: AgencyKind | str, lang: str = "th") -> str:
    """The kind of agency in the guideline's words (seed 004 §1), or in English."""
    return KIND_NAMES[AgencyKind(kind)][lang]


def qr_image(data: str, scale: int = 4) -> Markup:
    """An <img> of a QR code (SVG, error correction M) that holds `data`; the QR is drawn, never fetched."""
    uri = segno.make(data, error="m").svg_data_uri(scale=scale, border=2)
    return Markup('<img class="qr" alt="QR" src="{}">').format(uri)


def environment(settings: Settings) -> SandboxedEnvironment:
    """The agency's folder first, then the shipped templates. Sandboxed: a template is configuration, not code."""
    folders: list[Path] = [SHIPPED]
    if settings.document_templates is not None:
        folders.insert(0, settings.document_templates)
    env = SandboxedEnvironment(
        loader=ChoiceLoader([FileSystemLoader(str(folder)) for folder in folders]),
        autoescape=select_autoescape(["html", "css"], default_for_string=True),
        undefined=StrictUndefined,
    )
    # `numerals`: the official letters' numbers, in Thai digits unless PLC_THAI_DIGITS=false.
    numerals = thai_digits if settings.thai_digits else (lambda value: value)
    env.filters.update(be_date=be_date, hours=hours_text, thai_digits=thai_digits, numerals=numerals)
    env.globals.update(
        element_name=element_name,
        role_name=role_name,
        qr_image=qr_image,
        agency_kind=agency_kind,
        answer_text=format_answer,
    )
    return env


def render_html(settings: Settings, template: str, **context: Any) -> str:
    return environment(settings).get_template(template).render(**context)


def render_pdf(settings: Settings, template: str, **context: Any) -> bytes:
    from weasyprint import HTML  # imported on first use: it loads Pango and fonts

    html = render_html(settings, template, **context)
    base = settings.document_templates or SHIPPED
    document = HTML(string=html, base_url=str(base)).render()
    document.fonts = _FontsWithTheirOwnCharacters()
    pdf: bytes = document.write_pdf()
    return pdf


# The PDF's text layer (what copying or pdftotext reads) maps each glyph to text. WeasyPrint gives a glyph the text of
# the first cluster it was drawn in, which is wrong when a cluster holds several glyphs, as Thai clusters do: HarfBuzz
# draws สระอำ as NIKHAHIT + SARA AA, so every later า read as ำ, and marks took their consonant's letter. A glyph that
# the font maps from one character (outside the private use area) reads as that character instead; ำ then reads as
# ํ + า, the two parts it is drawn with.
class _GlyphText(dict[int, str]):
    def __init__(self, characters: dict[int, str]) -> None:
        super().__init__()
        self._characters = characters

    def __setitem__(self, glyph: int, text: str) -> None:
        super().__setitem__(glyph, self._characters.get(glyph, text))


class _FontsWithTheirOwnCharacters(dict[Any, Any]):
    """WeasyPrint's fonts of one document; each new font reads its glyphs as the characters its cmap maps to them."""

    def __setitem__(self, key: Any, font: Any) -> None:
        font.to_unicode = _GlyphText(_characters_of_glyphs(bytes(font.file_content), font.index))
        super().__setitem__(key, font)


@functools.lru_cache(maxsize=16)
def _characters_of_glyphs(font_file: bytes, index: int) -> dict[int, str]:
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(font_file), fontNumber=index, lazy=True)
    characters: dict[int, str] = {}
    for codepoint, name in sorted(font.getBestCmap().items()):
        if not 0xE000 <= codepoint <= 0xF8FF:  # private-use codes name a font's variant glyphs, not text
            characters.setdefault(font.getGlyphID(name), chr(codepoint))
    # A variant glyph (a tone mark moved down or left, a letter without its tail) is named after the character it
    # draws: uni0E49.low is MAI THO.
    for glyph, name in enumerate(font.getGlyphOrder()):
        if glyph not in characters and (variant := VARIANT_NAME.fullmatch(name)):
            characters[glyph] = chr(int(variant.group(1), 16))
    return characters


VARIANT_NAME = re.compile(r"uni([0-9A-F]{4})\.\w+")
