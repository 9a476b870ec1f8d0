"""Evidence files over real HTTP: checked by their bytes and size before anything is written, kept outside the web
root under random names, served as downloads (Thai names intact) only to the people who may see their record."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from sqlalchemy import select

from lti_tool.settings import load_settings
from lti_tool.web.uploads import UPLOAD_REQUEST_BYTES, kept_on_commit
from models.cycles import ElementSession
from models.evidence import MAX_EVIDENCE_BYTES, MAX_FILES_PER_UPLOAD, Evidence, Upload, store_evidence
from models.evidence_chunks import EvidenceChunk, chunk_count
from models.observations import Observation
from models.outbox import OutboxStatement
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_observations_page import (
    GOOD,
    PDF,
    TEAM_A,
    TEAM_B,
    another_platform,
    observations,
    observe,
    png,
    running_program,
    visit_as,
)
from tests.test_program_pages import Visit, trainer_visit
from xapi.vocabulary import Verb

PHOTO_NAME = "ภาพกิจกรรมกลุ่ม ป.4-2.png"
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode"
)


def stored_files(tool: ToolServer) -> set[str]:
    """The stored names of the evidence the tool holds bytes of: files in the evidence folder, and evidence whose
    chunks are in the database (PLC_EVIDENCE_STORE's default on PostgreSQL)."""
    folder = tool.settings.evidence_path
    assert folder is not None
    on_disk = {p.name for p in folder.iterdir()} if folder.exists() else set()
    with tool.database.transaction() as db:
        chunked = select(Evidence.stored_name).join(EvidenceChunk, EvidenceChunk.evidence_id == Evidence.id)
        in_database = set(db.scalars(chunked.where(EvidenceChunk.seq == 0)))
    return on_disk | in_database


def chunks_held(tool: ToolServer) -> int:
    with tool.database.transaction() as db:
        return chunk_count(db)


def evidence_rows(tool: ToolServer) -> list[Evidence]:
    with tool.database.transaction() as db:
        return list(db.scalars(select(Evidence).order_by(Evidence.id)))


def learning_records(tool: ToolServer) -> int:
    with tool.database.transaction() as db:
        return len(db.scalars(select(OutboxStatement.id)).all())


def unchanged(tool: ToolServer) -> tuple[dict[str, int], set[str]]:
    """Rows per table and the files on disk, but the read log (a download of someone else's file is a read)."""
    counts = tool.counts()
    counts.pop("read_log")
    return counts, stored_files(tool)


def download(visit: Visit, evidence_id: int) -> requests.Response:
    return visit.get(f"/program/evidence/{evidence_id}")


# --- a photo on an observation ----------------------------------------------------------------------------------


def test_a_buddy_attaches_a_photo_and_the_model_teacher_downloads_it_under_its_thai_name(
    tool: ToolServer, platform: TestPlatform
) -> None:
    model, (buddy, _) = running_program(tool, platform)[(TEAM_A, 1)]
    photo = png(64, 48)

    page = observe(visit_as(tool, platform, buddy), files=[(PHOTO_NAME, photo)])

    assert page.status_code == 200 and PHOTO_NAME in page.text
    [row] = evidence_rows(tool)
    assert (row.original_name, row.content_type, row.size) == (PHOTO_NAME, "image/png", len(photo))
    got = download(visit_as(tool, platform, model), row.id)
    assert got.status_code == 200 and got.content == photo
    assert got.headers["Content-Type"] == "image/png"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert f"filename*=UTF-8''{quote(PHOTO_NAME, safe='')}" in got.headers["Content-Disposition"]
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in got.headers["Cache-Control"]


def test_a_file_is_kept_outside_the_web_root_under_a_random_name(tool: ToolServer, platform: TestPlatform) -> None:
    _, (buddy, _) = running_program(tool, platform)[(TEAM_A, 1)]
    earlier = stored_files(tool)  # other tests' files stay when their rows are cleaned up

    observe(visit_as(tool, platform, buddy), files=[(PHOTO_NAME, png()), ("แผนการสอน.pdf", PDF)])

    names = stored_files(tool) - earlier
    assert len(names) == 2 and all(re.fullmatch(r"[0-9a-f]{32}", n) for n in names)
    folder = tool.settings.evidence_path
    assert folder is not None and folder.is_relative_to(tool.settings.instance_path)
    assert all(row.stored_name in names for row in evidence_rows(tool))
    for name in names:  # nothing serves the folder: not as a static file, not by its stored name
        assert requests.get(tool.url(f"/static/{name}"), timeout=5).status_code == 404


def test_a_path_in_the_file_name_is_dropped(tool: ToolServer, platform: TestPlatform) -> None:
    _, (buddy, _) = running_program(tool, platform)[(TEAM_A, 1)]
    escape = Path(tool.settings.instance_path).parent / "escaped.pdf"
    earlier = stored_files(tool)

    page = observe(visit_as(tool, platform, buddy), files=[("../../escaped.pdf", PDF), ("..\\..\\win.pdf", PDF)])

    assert page.status_code == 200
    first, second = [row.original_name for row in evidence_rows(tool)]
    assert first == "escaped.pdf"
    assert second.endswith("win.pdf") and "/" not in second and "\\" not in second  # quoting may eat the "\\"
    assert not escape.exists() and len(stored_files(tool) - earlier) == 2


# --- refused files: nothing is written ---------------------------------------------------------------------------

REFUSED = {
    "too large": (("ภาพใหญ่.pdf", PDF + b"0" * MAX_EVIDENCE_BYTES), "ภาพใหญ่.pdf” is larger than 10 MB"),
    "a program renamed as a pdf": (("แผนการสอน.pdf", EXE), "แผนการสอน.pdf” is not a PDF"),
    "empty": (("ว่าง.png", b""), "ว่าง.png” is empty"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_file_is_named_beside_the_field_and_no_observation_is_written(
    tool: ToolServer, platform: TestPlatform, case: str
) -> None:
    _, (buddy, _) = running_program(tool, platform)[(TEAM_A, 1)]
    visit = visit_as(tool, platform, buddy)
    bad, message = REFUSED[case]
    before = unchanged(tool)

    page = observe(visit, files=[(PHOTO_NAME, png()), bad], lang="en")

    assert page.status_code == 422 and 'id="evidence-files-error"' in page.text
    assert message in page.text and PHOTO_NAME not in page.text.split('id="evidence-files-error"')[1][:40]
    assert GOOD["students_did"] in page.text  # the text is kept for the retry
    assert unchanged(tool) == before
    assert observations(tool) == [] and evidence_rows(tool) == []


def test_more_files_than_allowed_are_refused(tool: ToolServer, platform: TestPlatform) -> None:
    _, (buddy, _) = running_program(tool, platform)[(TEAM_A, 1)]
    visit = visit_as(tool, platform, buddy)
    before = unchanged(tool)

    page = observe(visit, files=[(f"{n}.pdf", PDF) for n in range(MAX_FILES_PER_UPLOAD + 1)], lang="en")

    assert page.status_code == 422 and f"at most {MAX_FILES_PER_UPLOAD} files" in page.text
    assert unchanged(tool) == before


def test_a_request_larger_than_the_limit_gets_a_413_page_in_thai_and_english(
    tool: ToolServer, platform: TestPlatform
) -> None:
    _, (buddy, _) = running_program(tool, platform)[(TEAM_A, 1)]
    visit = visit_as(tool, platform, buddy)
    before = unchanged(tool)

    response = observe(visit, files=[("ใหญ่มาก.pdf", PDF + b"0" * UPLOAD_REQUEST_BYTES)])

    assert response.status_code == 413
    assert "ยังไม่ได้บันทึกสิ่งใด" in response.text and "Nothing was saved" in response.text
    assert unchanged(tool) == before


def test_a_form_without_files_is_limited_as_before(tool: ToolServer, platform: TestPlatform) -> None:
    """Only forms that carry files accept large requests; the program form still refuses more than 2 MB."""
    visit = trainer_visit(tool, platform)

    response = visit.post("/program", {"name": "x" * (3 * 1024 * 1024), "csrf": "0"})

    assert response.status_code == 413 and "Nothing was saved" in response.text


# --- files on an element session ---------------------------------------------------------------------------------


def record_with_files(visit: Visit, files: list[tuple[str, bytes]], **fields: str) -> requests.Response:
    page = visit.get("/program/sessions")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf and 'enctype="multipart/form-data"' in page.text
    attendees = re.findall(r'name="attendee" value="(\d+)"', page.text)
    data = [("csrf", csrf.group(1)), ("cycle", "1"), ("element", "1"), ("held_on", "2026-11-20"), ("hours", "2")]
    data += [*fields.items(), *[("attendee", a) for a in attendees]]
    parts = [("evidence", (name, content, "application/octet-stream")) for name, content in files]
    return visit.browser.post(visit.tool.url("/program/sessions"), params={"s": visit.token}, data=data, files=parts)


def sessions(tool: ToolServer) -> list[ElementSession]:
    with tool.database.transaction() as db:
        return list(db.scalars(select(ElementSession)))


def test_a_session_is_recorded_with_its_files_and_the_team_downloads_them(
    tool: ToolServer, platform: TestPlatform
) -> None:
    model, (buddy, _) = running_program(tool, platform)[(TEAM_A, 1)]
    teacher = visit_as(tool, platform, buddy)

    page = record_with_files(teacher, [("แผนการจัดการเรียนรู้ที่ 3.pdf", PDF)])

    assert page.status_code == 200 and "แผนการจัดการเรียนรู้ที่ 3.pdf" in page.text
    [session] = sessions(tool)
    [row] = evidence_rows(tool)
    assert (row.session_id, row.observation_id, row.content_type) == (session.id, None, "application/pdf")
    got = download(visit_as(tool, platform, model), row.id)
    assert got.status_code == 200 and got.content == PDF and got.headers["Content-Type"] == "application/pdf"


def test_a_refused_file_records_no_session_and_no_learning_record(tool: ToolServer, platform: TestPlatform) -> None:
    _, (buddy, _) = running_program(tool, platform)[(TEAM_A, 1)]
    teacher = visit_as(tool, platform, buddy)
    before, records = unchanged(tool), learning_records(tool)

    page = record_with_files(teacher, [("ใบงาน.pdf", PDF), ("setup.pdf", EXE)], lang="en")

    assert page.status_code == 422 and 'id="evidence-files-error"' in page.text and "setup.pdf" in page.text
    assert unchanged(tool) == before and learning_records(tool) == records
    assert sessions(tool) == []


# --- who may download --------------------------------------------------------------------------------------------


def test_who_may_download_evidence(tool: ToolServer, platform: TestPlatform) -> None:
    """The access matrix for an observation's photo and a session's lesson plan (both of team A, cycle 1)."""
    the_plan = running_program(tool, platform)
    model, (author, other_buddy) = the_plan[(TEAM_A, 1)]
    other_team = the_plan[(TEAM_B, 2)][0]
    observe(visit_as(tool, platform, author), files=[(PHOTO_NAME, png())])
    record_with_files(visit_as(tool, platform, model), [("แผน.pdf", PDF)])
    photo, plan = evidence_rows(tool)
    assert (photo.observation_id is not None, plan.session_id is not None) == (True, True)
    with another_platform(tool) as elsewhere:
        viewers = {
            "the buddy who wrote the observation": visit_as(tool, platform, author),
            "the model teacher observed": visit_as(tool, platform, model),
            "a trainer of the course": trainer_visit(tool, platform),
            "a buddy of another pair in the same team": visit_as(tool, platform, other_buddy),
            "a member of another team": visit_as(tool, platform, other_team),
            "a teacher of another course": visit_as(tool, platform, TEACHER.name, context_id="course-99"),
            "a teacher on another platform": Visit(tool, launch(requests.Session(), elsewhere, TEACHER)),
        }
        before = unchanged(tool)

        got = {who: (download(v, photo.id).status_code, download(v, plan.id).status_code) for who, v in viewers.items()}

    assert got == {  # (the observation's photo, the session's lesson plan)
        "the buddy who wrote the observation": (200, 200),
        "the model teacher observed": (200, 200),
        "a trainer of the course": (200, 200),
        "a buddy of another pair in the same team": (403, 200),
        "a member of another team": (403, 403),
        "a teacher of another course": (404, 404),
        "a teacher on another platform": (404, 404),
    }
    assert unchanged(tool) == before


def test_downloading_needs_a_session(tool: ToolServer, platform: TestPlatform) -> None:
    _, (buddy, _) = running_program(tool, platform)[(TEAM_A, 1)]
    observe(visit_as(tool, platform, buddy), files=[(PHOTO_NAME, png())])
    [row] = evidence_rows(tool)

    assert requests.get(tool.url(f"/program/evidence/{row.id}"), timeout=5).status_code == 401


# --- files of a transaction that does not commit ------------------------------------------------------------------


def test_files_of_a_transaction_that_does_not_commit_are_taken_off_the_disk(
    tool: ToolServer, platform: TestPlatform
) -> None:
    _, (buddy, _) = running_program(tool, platform)[(TEAM_A, 1)]
    observe(visit_as(tool, platform, buddy))
    [observation] = observations(tool)
    before, records = stored_files(tool), learning_records(tool)
    folder = tool.settings.evidence_path
    assert folder is not None

    with tool.app.app_context(), pytest.raises(Exception, match="(?i)unique|duplicate"):
        with kept_on_commit() as stored, tool.database.transaction() as db:
            mine = db.get(Observation, observation.id)
            assert mine is not None
            photo = [Upload("ภาพ.png", png())]
            stored += store_evidence(db, folder, mine.cycle, photo, mine.buddy_id, observation=mine)
            assert len(stored_files(tool)) == len(before) + 1  # written, not yet committed
            # The same Buddy's second observation of the cycle: the database refuses it when the transaction ends.
            db.add(Observation(cycle_id=mine.cycle_id, buddy_id=mine.buddy_id, model_id=mine.model_id))

    assert stored_files(tool) == before and evidence_rows(tool) == [] and learning_records(tool) == records


def test_a_refused_submission_writes_no_learning_record(tool: ToolServer, platform: TestPlatform) -> None:
    _, (buddy, _) = running_program(tool, platform)[(TEAM_A, 1)]

    observe(visit_as(tool, platform, buddy), files=[("setup.pdf", EXE)])

    with tool.database.transaction() as db:
        verbs = set(db.scalars(select(OutboxStatement.verb)))
    assert Verb.OBSERVED not in verbs and Verb.TAUGHT not in verbs


def test_evidence_is_kept_in_the_instance_folder_unless_a_folder_is_set(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("PLC_EVIDENCE_PATH", raising=False)
    assert load_settings(instance_path=tmp_path).evidence_path == tmp_path.resolve() / "evidence"

    monkeypatch.setenv("PLC_EVIDENCE_PATH", str(tmp_path / "shared"))
    assert load_settings(instance_path=tmp_path).evidence_path == (tmp_path / "shared").resolve()
