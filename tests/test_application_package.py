"""The application package for the Teachers' Council (program and participants with their planned roles) as a PDF
in Thai, and the plan as a CSV; readable and exportable even when the plan is frozen; not for teachers."""

from __future__ import annotations

import csv
import io
import unicodedata

import pytest
import requests
from pypdf import PdfReader

from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_program_pages import LETTER, Visit, trainer_visit
from tests.test_sessions_page import running_program_with_a_team


def comparable(text: str) -> str:
    """Text without spaces (a line breaks between Thai words), with ำ read back from the two parts it is drawn with
    (ํ and า), in Unicode's canonical order (NFC: a tone mark may be drawn before the vowel below it)."""
    return unicodedata.normalize("NFC", "".join(text.split()).replace("\u0e4d\u0e32", "ำ"))


def pdf_text(data: bytes) -> str:
    return comparable("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def test_the_trainer_downloads_the_application_package_of_a_running_program_in_thai(
    tool: ToolServer, platform: TestPlatform
) -> None:
    names = running_program_with_a_team(tool, platform)
    trainer = trainer_visit(tool, platform)

    got = trainer.get("/program/application.pdf", lang="th")

    assert got.status_code == 200 and got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    text = pdf_text(got.content)
    assert comparable("PLC คณิตศาสตร์ ม.1") in text and comparable("กลุ่มคณิตศาสตร์") in text
    assert all(comparable(name) in text for name in names)
    assert comparable("1 พฤศจิกายน 2569") in text  # the approval date in the Buddhist Era
    assert comparable(f"ฉบับที่ 1 ที่คุรุสภาให้ความเห็นชอบ ตามหนังสือที่ {LETTER} ลงวันที่ 1 พฤศจิกายน 2569") in text


def test_the_plan_exports_as_csv_with_every_member_and_role(tool: ToolServer, platform: TestPlatform) -> None:
    names = running_program_with_a_team(tool, platform)
    trainer = trainer_visit(tool, platform)

    got = trainer.get("/program/plan.csv", lang="en")

    header, *rows = csv.reader(io.StringIO(got.content.decode("utf-8-sig")))
    assert header == ["Plan version", "Team", "Name", "Cycle 1", "Cycle 2", "Cycle 3"]
    assert sorted(row[2] for row in rows) == sorted(names)
    assert all(row[3:].count("Model Teacher") == 1 and row[3:].count("Buddy Teacher") == 2 for row in rows)
    assert {row[0] for row in rows} == {
        f"Version 1, approved by the Council by letter no. {LETTER} dated 1 November 2026"
    }


@pytest.mark.parametrize("path", ["/program/application.pdf", "/program/plan.csv"])
def test_a_teacher_cannot_download_the_participant_list(tool: ToolServer, platform: TestPlatform, path: str) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    assert teacher.get(path).status_code == 403


def test_a_course_without_a_program_has_no_package(tool: ToolServer, platform: TestPlatform) -> None:
    assert trainer_visit(tool, platform, course="course-empty").get("/program/plan.csv").status_code == 404
