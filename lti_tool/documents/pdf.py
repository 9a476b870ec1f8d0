"""Printable documents (certificates, hours logbooks, the results report) as PDF: Jinja HTML + CSS templates that an
agency may replace without touching code (`PLC_DOCUMENT_TEMPLATES`), laid out by WeasyPrint, whose Pango shapes Thai
(marks stacked on their consonants) and breaks lines between Thai words with libthai."""

from __future__ import annotations

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
    env.filters.update(be_date=be_date, hours=hours_text, thai_digits=lambda v: str(v).translate(THAI_DIGITS))
    env.globals.update(element_name=element_name, role_name=role_name, qr_image=qr_image, answer_text=format_answer)
    return env


def render_html(settings: Settings, template: str, **context: Any) -> str:
    return environment(settings).get_template(template).render(**context)


def render_pdf(settings: Settings, template: str, **context: Any) -> bytes:
    from weasyprint import HTML  # imported on first use: it loads Pango and fonts

    html = render_html(settings, template, **context)
    base = settings.document_templates or SHIPPED
    pdf: bytes = HTML(string=html, base_url=str(base)).write_pdf()
    return pdf
