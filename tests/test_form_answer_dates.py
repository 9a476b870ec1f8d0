"""A date typed into a tracking form is kept as ISO 8601 and shown as a Thai reader writes it: in the Buddhist Era in
Thai, a readable date in English, on the cycle page and in its history of changes (over real HTTP launches)."""

from __future__ import annotations

import re

import pytest
import requests

from models.forms import form_templates
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_cycle_pages import PROBLEM_FORM, SCHOOL_HEAD, entries
from tests.test_program_pages import Visit
from tests.test_sessions_page import running_program_with_a_team


def visible(html: str) -> str:
    """The text a reader sees: no tags, no attribute values (an <input type=date> keeps its ISO value)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", html, flags=re.S)))


def saved_problem_form(tool: ToolServer, platform: TestPlatform) -> Visit:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = teacher.get("/program/cycles/1")
    csrf = teacher.csrf(page, "/cycles/1/forms/problem-reflection")
    assert teacher.post("/program/cycles/1/forms/problem-reflection", {"csrf": csrf, **PROBLEM_FORM}).status_code == 200
    return teacher


def test_a_typed_date_is_read_in_the_buddhist_era_and_kept_as_iso(tool: ToolServer, platform: TestPlatform) -> None:
    saved_problem_form(tool, platform)
    platform.add_user(SCHOOL_HEAD)
    head = Visit(tool, launch(requests.Session(), platform, SCHOOL_HEAD))

    thai = visible(head.get("/program/cycles/1").text)
    english = visible(head.get("/program/cycles/1", lang="en").text)

    assert "25 พฤศจิกายน 2569" in thai and "2026-11-25" not in thai
    assert "25 November 2026" in english and "2026-11-25" not in english
    assert entries(tool)[0][2]["lesson_date"] == "2026-11-25"


def test_a_changed_date_shows_both_dates_in_the_buddhist_era_in_the_history(
    tool: ToolServer, platform: TestPlatform
) -> None:
    teacher = saved_problem_form(tool, platform)
    page = teacher.get("/program/cycles/1")
    csrf = teacher.csrf(page, "/cycles/1/forms/problem-reflection")

    changed = teacher.post(
        "/program/cycles/1/forms/problem-reflection", {"csrf": csrf, **PROBLEM_FORM, "lesson_date": "2026-11-27"}
    )

    assert changed.status_code == 200
    assert "<del>25 พฤศจิกายน 2569</del> → <ins>27 พฤศจิกายน 2569</ins>" in changed.text
    assert entries(tool)[0][2]["lesson_date"] == "2026-11-27"


@pytest.mark.parametrize(
    ("answer", "day"),
    [("2026-03-22", (2026, 3, 22)), (" 2026-03-22 ", (2026, 3, 22)), ("22/03/2026", None), ("", None), (None, None)],
)
def test_a_date_fields_answer_is_read_as_a_day(answer: str | None, day: tuple[int, int, int] | None) -> None:
    lesson_date = form_templates()["problem-reflection"].field("lesson_date")

    found = lesson_date.answer_date(answer)

    assert (found.timetuple()[:3] if found else None) == day


def test_a_text_answer_that_looks_like_a_date_is_shown_as_typed() -> None:
    problem = form_templates()["problem-reflection"].field("problem")

    assert problem.answer_date("2026-03-22") is None
