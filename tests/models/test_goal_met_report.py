"""The results report for the Council reads a cycle's goal as its label, in Thai and in English, and keeps free text
saved before the goal was a choice, marked as not recorded as a choice. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from lti_tool.documents import pdf as documents
from lti_tool.settings import Settings
from models.forms import save_form
from models.people import Membership
from models.results_report import results_report
from tests.factories import TODAY, Course, running


@pytest.mark.parametrize(("lang", "met", "unrecorded"), [
    ("th", "บรรลุเป้าหมาย", "ไม่ได้บันทึกเป็นตัวเลือก"),
    ("en", "Goal met", "not recorded as a choice"),
])  # fmt: skip
def test_the_results_report_reads_the_goal_as_its_label_and_keeps_earlier_text(
    db: Session, course: Course, tmp_path: Path, lang: str, met: str, unrecorded: str
) -> None:
    program, team = running(db, course)
    writer = db.get(Membership, team.member_ids[0])
    assert writer is not None
    save_form(db, team, 1, "results-report", {"summary": "สรุปวงรอบ 1", "goal_met": "met"}, writer, TODAY)
    earlier = save_form(db, team, 2, "results-report", {"summary": "สรุปวงรอบ 2", "goal_met": "met"}, writer, TODAY)
    earlier.answers = {**earlier.answers, "goal_met": "บรรลุบางส่วน"}  # saved while the goal was free text
    db.flush()
    settings = Settings(instance_path=tmp_path, secret_key="s" * 40).resolved()

    html = documents.render_html(
        settings, "results-report.html", r=results_report(db, program), codes={}, lang=lang, printed_on=TODAY
    )

    assert f"</span> {met}</p>" in html and "</span> met</p>" not in html
    assert f"บรรลุบางส่วน ({unrecorded})" in html
