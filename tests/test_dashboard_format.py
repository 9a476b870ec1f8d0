"""How the dashboard writes its figures and orders its names: thousands grouped and decimals kept in the tables
(the CSV keeps bare numbers), and a number within a name by its value."""

from __future__ import annotations

from decimal import Decimal

from lti_tool.web.i18n import format_figure
from lti_tool.web.views.dashboard_cells import in_name_order


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
