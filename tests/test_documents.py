"""Printed documents: an agency's own templates replace the shipped ones without code, templates run sandboxed,
and Thai lines break between words (Pango with libthai), never inside one."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from jinja2.exceptions import SecurityError
from pydantic import ValidationError
from pypdf import PdfReader

from lti_tool.documents import pdf as documents
from lti_tool.settings import Settings

CERTIFICATE = SimpleNamespace(
    holder_name="สมศรี ใจดี",
    program_name="PLC วิทยาศาสตร์ ป.5 (ข้อมูลสังเคราะห์)",
    agency="สำนักงานเขตพื้นที่การศึกษาตัวอย่าง",
    school_or_network="",
    cycles=3,
    hours=Decimal("31.5"),
    issued_on=date(2026, 11, 22),
    code="7KQ2M-9XH4T",
    revoked=False,
)


def settings(tmp_path: Path, templates: Path | None = None) -> Settings:
    return Settings(instance_path=tmp_path, secret_key="s" * 40, document_templates=templates).resolved()


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_shipped_certificate_shows_the_buddhist_era_date_and_hours(tmp_path: Path) -> None:
    html = documents.render_html(
        settings(tmp_path), "certificate.html", c=CERTIFICATE, verify_url="https://x/verify/7KQ2M-9XH4T", lang="th"
    )
    assert "22 พฤศจิกายน 2569" in html and "31.5 ชั่วโมง" in html and "สมศรี ใจดี" in html


def test_an_agencys_own_certificate_template_is_used_without_code_changes(tmp_path: Path) -> None:
    folder = tmp_path / "agency"
    folder.mkdir()
    (folder / "certificate.html").write_text(
        "<html><body><h1>แบบเกียรติบัตรของหน่วยงาน</h1><p>{{ c.holder_name }} · {{ c.issued_on | be_date(lang) }}</p>"
        "{{ qr_image(verify_url) }}</body></html>",
        encoding="utf-8",
    )

    pdf = documents.render_pdf(
        settings(tmp_path, folder), "certificate.html", c=CERTIFICATE, verify_url="https://x/v", lang="th"
    )

    text = text_of(pdf)
    assert "แบบเกียรติบัตรของหน่วยงาน" in text and "สมศรี ใจดี" in text
    assert "ฉบับนี้ให้ไว้เพื่อแสดงว่า" not in text  # the shipped layout is not used


def test_templates_the_agency_did_not_replace_come_from_the_shipped_folder(tmp_path: Path) -> None:
    folder = tmp_path / "agency"
    folder.mkdir()

    html = documents.render_html(
        settings(tmp_path, folder), "certificate.html", c=CERTIFICATE, verify_url="https://x/v", lang="en"
    )

    assert "This is to certify that" in html


def test_a_templates_folder_that_does_not_exist_stops_start_up_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="PLC_DOCUMENT_TEMPLATES"):
        Settings(instance_path=tmp_path, document_templates=tmp_path / "missing")


def test_a_template_cannot_reach_python_internals(tmp_path: Path) -> None:
    folder = tmp_path / "agency"
    folder.mkdir()
    (folder / "certificate.html").write_text("{{ c.__class__.__mro__[1].__subclasses__() }}", encoding="utf-8")

    with pytest.raises(SecurityError):
        documents.render_html(settings(tmp_path, folder), "certificate.html", c=CERTIFICATE, verify_url="", lang="th")


def test_names_are_escaped_in_documents(tmp_path: Path) -> None:
    hostile = SimpleNamespace(**{**vars(CERTIFICATE), "holder_name": "<img src=x onerror=alert(1)>"})

    html = documents.render_html(settings(tmp_path), "certificate.html", c=hostile, verify_url="https://x", lang="th")

    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_thai_lines_break_between_words_and_never_inside_one(tmp_path: Path) -> None:
    """Thai has no spaces between words: a run of one word repeated must wrap only at the word's edges."""
    folder = tmp_path / "agency"
    folder.mkdir()
    word = "การเรียนรู้"
    (folder / "wrap.html").write_text(
        '<html lang="th"><body style="font-family: \'Noto Sans Thai\'; font-size: 14pt; width: 60mm">'
        f"<p>{word * 40}</p></body></html>",
        encoding="utf-8",
    )

    lines = [
        line.strip() for line in text_of(documents.render_pdf(settings(tmp_path, folder), "wrap.html")).split("\n")
    ]

    lines = [line for line in lines if line]
    assert len(lines) > 3  # it did wrap
    assert all(line == word * (len(line) // len(word)) for line in lines), lines


@pytest.mark.parametrize(
    ("value", "shown"), [(Decimal("30.00"), "30"), (Decimal("1.50"), "1.5"), (Decimal("2.25"), "2.25")]
)
def test_hours_are_shown_without_needless_decimals(value: Decimal, shown: str) -> None:
    assert documents.hours_text(value) == shown
