"""Every text field says how much it holds, and text over the limit is refused beside the field with the text kept,
never cut (over real HTTP)."""

from __future__ import annotations

import html
import re

import requests
from sqlalchemy import select

from models.cycles import ElementSession
from models.teams import Team
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_program_pages import Visit, create, programs, trainer_visit
from tests.test_program_teams import form_team, teachers_launch
from tests.test_sessions_page import record, running_program_with_a_team


def textarea(page: requests.Response, name: str) -> str:
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert found, f"no textarea {name}"
    return html.unescape(found.group(1))


def test_notes_over_4000_characters_are_refused_beside_the_field_and_kept_in_it(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    typed = "บันทึกการประชุม " * 312 + "ก" * 8  # 5,000 characters
    assert len(typed) == 5000

    page = record(teacher, cycle="1", element="1", held_on="2026-11-20", hours="1", notes=typed)

    assert page.status_code == 422
    assert re.search(r'<span id="notes-error" class="field-error">[^<]*4,000', page.text)
    assert textarea(page, "notes") == typed.strip()
    with tool.database.transaction() as db:
        assert db.scalars(select(ElementSession)).all() == []


def test_notes_of_exactly_4000_characters_are_kept_whole(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    page = record(teacher, cycle="1", element="1", held_on="2026-11-20", hours="1", notes="น" * 4000)

    assert page.status_code == 200
    with tool.database.transaction() as db:
        assert [s.notes for s in db.scalars(select(ElementSession))] == ["น" * 4000]


def test_the_notes_field_carries_its_limit_as_maxlength_and_as_printed_text(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    page = teacher.get("/program/sessions")

    assert re.search(r'<textarea id="notes" name="notes"[^>]*maxlength="4000"', page.text)
    assert '<small id="notes-limit" class="field-limit">ไม่เกิน 4,000 ตัวอักษร</small>' in page.text


def test_a_program_name_over_its_column_is_refused_and_nothing_is_created(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)

    page = create(trainer, name="ก" * 256)

    assert page.status_code == 422 and programs(tool) == []
    assert re.search(r'<span id="name-error" class="field-error">[^<]*255', page.text)
    assert 'value="' + "ก" * 256 + '"' in page.text


def test_a_program_name_of_exactly_255_characters_is_kept_whole(tool: ToolServer, platform: TestPlatform) -> None:
    trainer = trainer_visit(tool, platform)

    assert create(trainer, name="ก" * 255).status_code == 200

    assert [p.name for p in programs(tool)] == ["ก" * 255]


def test_every_text_field_of_the_program_form_shows_its_limit(tool: ToolServer, platform: TestPlatform) -> None:
    page = trainer_visit(tool, platform).get("/program")

    for field, most in [("name", 255), ("agency", 255), ("school_or_network", 255)]:
        assert re.search(rf'<input id="{field}" name="{field}" type="text"[^>]*maxlength="{most}"', page.text)
        assert f'id="{field}-limit"' in page.text
    for field in ("learning_area", "grade_level"):  # chosen from the curriculum's lists: no text to limit
        assert f'<select id="{field}" name="{field}"' in page.text
    assert "maxlength" not in re.search(r'<input id="planned_cycles"[^>]*>', page.text).group(0)  # type: ignore[union-attr]


def test_a_team_name_over_its_column_is_refused_and_no_team_is_formed(tool: ToolServer, platform: TestPlatform) -> None:
    names = teachers_launch(platform, 3)
    trainer = trainer_visit(tool, platform)
    create(trainer)

    page = form_team(trainer, tool, "ท" * 256, names)

    assert page.status_code == 422
    assert re.search(r'<span id="name-error" class="field-error">[^<]*255', page.text)
    with tool.database.transaction() as db:
        assert db.scalars(select(Team)).all() == []
