"""The letters to the Council and the application as printed (seed 004 §2.1, §3.1, §3.3): their text layer, as
`pdftotext` reads it, is the Thai that was laid out (no า read as ำ, no mark read as another), in Thai digits unless
the setting turns them off; the request for certificates cites the Council's approval letter or says it is missing."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from lti_tool.documents import pdf as documents
from lti_tool.services.letters import CouncilReference
from lti_tool.settings import Settings
from models.agencies import AgencyKind

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils' pdftotext is not installed")

AGENCY = SimpleNamespace(
    kind=AgencyKind.SERVICE_AREA_OFFICE,
    name="สำนักงานเขตพื้นที่การศึกษาประถมศึกษาตัวอย่าง เขต 2 (ข้อมูลสมมติ)",
    address_lines=["ถนนตัวอย่าง ตำบลสนามจันทร์", "อำเภอเมือง จังหวัดนครปฐม 73000"],
    signatory_name="นายสมชาย ใจงาม",
    signatory_position="ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษา",
    contact_unit="กลุ่มนิเทศ ติดตามและประเมินผลการจัดการศึกษา",
    telephone="0 3425 8100",
    staff=[
        SimpleNamespace(
            name="นางสาววิไล ศรีสวัสดิ์",
            position="ศึกษานิเทศก์ชำนาญการพิเศษ",
            training="หลักสูตรการขับเคลื่อน PLC ของคุรุสภา",
            trained_on=date(2025, 8, 20),
        )
    ],
)
PROGRAM = SimpleNamespace(
    name="PLC คณิตศาสตร์ ม.1 (ข้อมูลสมมติ)",
    agency=AGENCY.name,
    school_or_network="",
    learning_area="คณิตศาสตร์",
    grade_level="ม.1",
    planned_cycles=4,
    min_hours=30,
    approved_on=date(2026, 1, 15),
    ended_on=date(2026, 11, 30),
)
LETTER = SimpleNamespace(
    number="ศธ 04073/1234",
    dated=date(2026, 12, 5),
    participants=12,
    teams=3,
    certificates=11,
    sent_late=False,
    last_day=date(2026, 12, 30),
    late_certificates=0,
)


def settings(tmp_path: Path, thai_digits: bool = True) -> Settings:
    return Settings(instance_path=tmp_path, secret_key="s" * 40, thai_digits=thai_digits).resolved()


def text_layer(pdf: bytes) -> str:
    """What a reader copying from the PDF gets, in the order it was written, without spaces (a line may break
    between Thai words, where a space is then read). HarfBuzz draws ำ as its two parts (ํ and า), so they read as those
    two: joined back here, since that is the same letter."""
    out = subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return compact(out).replace("\u0e4d\u0e32", "ำ")


def compact(text: str) -> str:
    """Without spaces, in Unicode's canonical order: a font may draw a tone mark before the vowel below it (ร ้ ู),
    which reads as the same letters as typed (ร ู ้) once ordered as Unicode orders them (NFC)."""
    return unicodedata.normalize("NFC", "".join(text.split()))


def letter(tmp_path: Path, kind: str, reference: CouncilReference | None = None, thai_digits: bool = True) -> str:
    pdf = documents.render_pdf(
        settings(tmp_path, thai_digits),
        f"letter-{kind}.html",
        letter=LETTER,
        agency=AGENCY,
        program=PROGRAM,
        reference=reference,
    )
    return text_layer(pdf)


def test_the_application_letter_reads_as_a_thai_official_letter_in_thai_digits(tmp_path: Path) -> None:
    text = letter(tmp_path, "application")

    for words in (
        "ที่ ศธ ๐๔๐๗๓/๑๒๓๔",
        "๕ ธันวาคม ๒๕๖๙",
        "เลขาธิการคุรุสภา",
        "ขอความร่วมมือการพัฒนาวิชาชีพแบบชุมชนแห่งการเรียนรู้ทางวิชาชีพ",
        "สิ่งที่ส่งมาด้วย",
        "รายชื่อผู้เข้าร่วมโครงการ จำนวน ๑๒ คน",
        "ลงวันที่ ๙ กรกฎาคม ๒๕๖๓",
        "ขอแสดงความนับถือ",
        "(นายสมชาย ใจงาม)",
        "กลุ่มนิเทศ ติดตามและประเมินผลการจัดการศึกษา",
        "โทร. ๐ ๓๔๒๕ ๘๑๐๐",
        "อำเภอเมือง จังหวัดนครปฐม ๗๓๐๐๐",
    ):
        assert compact(words) in text, words
    assert "อ้างถึง" not in text  # only the request for certificates cites a letter
    assert "2569" not in text and "73000" not in text


def test_no_sara_aa_reads_as_sara_am_and_no_mark_as_another(tmp_path: Path) -> None:
    text = letter(tmp_path, "application")

    assert compact("ความร่วมมือ") in text and "ควำม" not in text  # า stays า once ำ has been drawn
    assert (
        compact("ด้วย") in text and compact("ผู้เข้าร่วม") in text and compact("ครูผู้สอน") in text
    )  # tone marks and vowels below, as typed


def test_a_setting_turns_thai_digits_off(tmp_path: Path) -> None:
    text = letter(tmp_path, "application", thai_digits=False)

    assert compact("ที่ ศธ 04073/1234") in text and compact("5 ธันวาคม 2569") in text and compact("จำนวน 12 คน") in text
    assert not any(digit in text for digit in "๐๑๒๓๔๕๖๗๘๙")


def test_the_request_for_certificates_cites_the_councils_approval_letter(tmp_path: Path) -> None:
    reference = CouncilReference("คส 0101/456", date(2026, 1, 15), 2)

    text = letter(tmp_path, "certificates", reference)

    assert compact("อ้างถึง หนังสือสำนักงานเลขาธิการคุรุสภา ที่ คส ๐๑๐๑/๔๕๖ ลงวันที่ ๑๕ มกราคม ๒๕๖๙") in text
    assert (
        compact("รายงานผลการจัดกิจกรรม จำนวน ๑ เล่ม") in text and compact("เกียรติบัตรตามแบบที่คุรุสภากำหนด จำนวน ๑๑ ฉบับ") in text
    )
    assert compact("ตามหนังสือที่อ้างถึง") in text and compact("๓๐ พฤศจิกายน ๒๕๖๙") in text


def test_the_request_for_certificates_says_the_approval_letter_is_missing_rather_than_a_blank(tmp_path: Path) -> None:
    text = letter(tmp_path, "certificates", None)

    assert compact("อ้างถึง ยังไม่ได้บันทึกเลขที่และวันที่ของหนังสือที่สำนักงานเลขาธิการคุรุสภาให้ความเห็นชอบโครงการ") in text
    assert "ตามหนังสือที่อ้างถึง" not in text


def test_the_application_names_the_agency_with_its_kind_and_its_staff_with_their_training(tmp_path: Path) -> None:
    pdf = documents.render_pdf(
        settings(tmp_path),
        "application.html",
        program=PROGRAM,
        agency=AGENCY,
        teams=[],
        participants=0,
        plan_version=None,
        lang="th",
        printed_on=date(2026, 12, 5),
    )

    text = text_layer(pdf)
    assert compact(f"{AGENCY.name} (หน่วยงานระดับสำนักงานเขตพื้นที่)") in text
    assert compact("นางสาววิไล ศรีสวัสดิ์") in text and compact("หลักสูตรการขับเคลื่อน PLC ของคุรุสภา") in text
    assert compact("20 สิงหาคม 2568") in text  # the training date in the Buddhist Era
    assert compact("แนวปฏิบัติของหน่วยงานในการขอความร่วมมือการพัฒนาวิชาชีพแบบชุมชนแห่งการเรียนรู้ทางวิชาชีพ") in text
    assert compact("9 กรกฎาคม 2563") in text
    assert "แนวทางการพิจารณาความร่วมมือ" not in text and "อนุมัติ" not in text


def test_an_agency_replaces_a_letter_without_touching_code(tmp_path: Path) -> None:
    folder = tmp_path / "agency"
    folder.mkdir()
    (folder / "letter-application.html").write_text(
        '{% extends "letter-base.html" %}{% block subject %}เรื่องตามแบบของหน่วยงาน{% endblock %}', encoding="utf-8"
    )
    custom = Settings(instance_path=tmp_path, secret_key="s" * 40, document_templates=folder).resolved()

    pdf = documents.render_pdf(custom, "letter-application.html", letter=LETTER, agency=AGENCY, program=PROGRAM)

    text = text_layer(pdf)
    assert (
        compact("เรื่องตามแบบของหน่วยงาน") in text and compact("ขอแสดงความนับถือ") in text
    )  # the shipped base still lays it out


def test_the_thai_digits_setting_is_read_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(instance_path=tmp_path).thai_digits is True
    monkeypatch.setenv("PLC_THAI_DIGITS", "false")

    assert Settings(instance_path=tmp_path).thai_digits is False
