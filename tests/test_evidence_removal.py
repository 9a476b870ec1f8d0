"""Taking a wrongly attached file off again: the person who attached it, or a trainer, while the program runs; the
row and the file go together, after the commit; anyone else, or after the end, changes nothing."""

from __future__ import annotations

import re

import requests

from tests.conftest import ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_access_matrix import form_token
from tests.test_evidence import chunks_held, evidence_rows, record_with_files, stored_files
from tests.test_observations_page import PDF, TEAM_A, observe, png, running_program, visit_as
from tests.test_program_pages import Visit, trainer_visit
from tests.test_program_teams import step

PLAN = "แผนการจัดการเรียนรู้ เศษส่วน.pdf"


def remove(visit: Visit, page: requests.Response, evidence_id: int) -> requests.Response:
    assert f'action="/program/evidence/{evidence_id}/remove/confirm' in page.text, "no remove button for this file"
    confirmation = visit.get(f"/program/evidence/{evidence_id}/remove/confirm")  # a weighty step: it asks first
    form = confirmation.text.split(f'action="/program/evidence/{evidence_id}/remove/confirm', 1)[1]
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', form)
    assert token, "no remove form for this file"
    return visit.post(f"/program/evidence/{evidence_id}/remove/confirm", {"csrf": token.group(1)})


def test_the_teacher_who_attached_a_file_removes_it_and_it_leaves_the_disk(
    tool: ToolServer, platform: TestPlatform
) -> None:
    model, (buddy, other) = running_program(tool, platform)[(TEAM_A, 1)]
    teacher = visit_as(tool, platform, model)
    record_with_files(teacher, [(PLAN, PDF)])
    [row] = evidence_rows(tool)
    assert row.storage == tool.settings.evidence_store  # PostgreSQL: the database; SQLite: the folder
    assert (chunks_held(tool) > 0) == (row.storage == "database")

    page = remove(teacher, teacher.get("/program/sessions"), row.id)

    assert page.status_code == 200 and PLAN not in page.text
    assert evidence_rows(tool) == [] and row.stored_name not in stored_files(tool)
    assert chunks_held(tool) == 0  # bytes kept in the database went in the removal's own transaction


def test_a_colleague_cannot_remove_someone_elses_file_and_nothing_changes(
    tool: ToolServer, platform: TestPlatform
) -> None:
    model, (buddy, other) = running_program(tool, platform)[(TEAM_A, 1)]
    record_with_files(visit_as(tool, platform, model), [(PLAN, PDF)])
    [row] = evidence_rows(tool)
    colleague = visit_as(tool, platform, buddy)
    page = colleague.get("/program/sessions")
    assert f"/program/evidence/{row.id}/remove" not in page.text  # no button for them
    before = stored_files(tool)

    # A valid remove token of the colleague's own session: the permission check is what refuses them.
    refused = colleague.post(
        f"/program/evidence/{row.id}/remove/confirm", {"csrf": form_token(tool, colleague, "evidence-remove")}
    )

    assert refused.status_code == 403
    assert [r.id for r in evidence_rows(tool)] == [row.id] and stored_files(tool) == before


def test_a_trainer_removes_a_buddys_observation_photo(tool: ToolServer, platform: TestPlatform) -> None:
    model, (buddy, _other) = running_program(tool, platform)[(TEAM_A, 1)]
    observe(visit_as(tool, platform, buddy), files=[("ภาพ.png", png())])
    [row] = evidence_rows(tool)
    trainer = trainer_visit(tool, platform)

    page = remove(trainer, trainer.get(f"/program/observations/{row.observation_id}"), row.id)

    assert page.status_code == 200 and evidence_rows(tool) == [] and row.stored_name not in stored_files(tool)


def test_after_the_program_ends_its_files_stay(tool: ToolServer, platform: TestPlatform) -> None:
    model, _buddies = running_program(tool, platform)[(TEAM_A, 1)]
    teacher = visit_as(tool, platform, model)
    record_with_files(teacher, [(PLAN, PDF)])
    page = teacher.get("/program/sessions")
    [row] = evidence_rows(tool)
    assert step(trainer_visit(tool, platform), "end").status_code == 200

    refused = remove(teacher, page, row.id)

    assert refused.status_code == 409 and [r.id for r in evidence_rows(tool)] == [row.id]
    assert row.stored_name in stored_files(tool)
    assert (chunks_held(tool) > 0) == (row.storage == "database")
