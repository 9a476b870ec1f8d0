"""How the dashboard writes its figures and orders its names: thousands grouped and decimals kept in the tables
(the CSV keeps bare numbers), and a number within a name by its value."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import flask

from lti_tool.documents.charts import dumbbell_chart
from lti_tool.web.i18n import format_figure
from lti_tool.web.views.dashboard import TITLES
from lti_tool.web.views.dashboard_cells import in_name_order
from lti_tool.web.views.public_summary import PublicUnit
from models.dashboard_learning import StudentResults
from models.measures import AS_PERCENT
from tests.test_app_config import _app


def test_a_tables_numbers_have_their_thousands_grouped_and_their_decimals_kept() -> None:
    assert format_figure(364270) == "364,270"
    assert format_figure(Decimal("364270.00")) == "364,270.00"
    assert format_figure(Decimal("3.25")) == "3.25"
    assert format_figure(999) == "999"
    assert format_figure("+0.25") == "+0.25"  # text (a change, a label) as it is
    assert format_figure(True) is True


def test_names_with_numbers_sort_by_the_numbers_value() -> None:
    names = ["จังหวัดสังเคราะห์ 10", "จังหวัดสังเคราะห์ 2", "จังหวัดสังเคราะห์ 1", "กระบี่"]
    assert sorted(names, key=in_name_order) == ["กระบี่", "จังหวัดสังเคราะห์ 1", "จังหวัดสังเคราะห์ 2",
                                                "จังหวัดสังเคราะห์ 10"]  # fmt: skip


def test_the_public_summarys_student_results_have_their_thousands_grouped_as_its_other_tables(tmp_path: Path) -> None:
    app = _app(tmp_path, public_base_url="http://127.0.0.1:5000")
    results = [StudentResults("คณิตศาสตร์", "ป.6", AS_PERCENT, 1234, Decimal("40.0"), Decimal("50.0"), 900)]
    with app.test_request_context("/?lang=en"):
        page = flask.render_template(
            "dashboard/public.html",
            district=PublicUnit("สพป.สังเคราะห์", synthetic=False),
            total=None,
            tables={"years": (["Year", "Teachers"], [["2025", 12345]], 0)},
            titles=TITLES,
            results=results,
            chart=dumbbell_chart([("คณิตศาสตร์ ป.6", Decimal("40.0"), Decimal("50.0"), "40.0 → 50.0")]),
            min_teachers=10,
            min_cycles=5,
            refreshed_at=None,
        )
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert "12,345" in cells and "1,234" in cells and "1234" not in cells
