"""The dashboard's pure rules: which public groups are withheld, Thai grade order, chart scales."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from lti_tool.documents.charts import _short, bar_chart, dumbbell_chart
from models.dashboard import Figures, grade_sort_key
from models.public_summary import PUBLIC_MIN_TEACHERS, suppress_small


def group(key: str, teachers: int) -> Figures:
    return Figures(key, 1, 1, 1, teachers, 1, 0, Decimal(10))


def test_groups_of_at_least_the_threshold_are_published() -> None:
    rows = [group("a", PUBLIC_MIN_TEACHERS), group("b", 40)]
    assert suppress_small(rows) == (rows, 0)


def test_a_group_below_the_threshold_is_withheld_with_the_next_smallest() -> None:
    rows = [group("tiny", PUBLIC_MIN_TEACHERS - 1), group("mid", 20), group("big", 40)]
    shown, withheld = suppress_small(rows)
    assert [row.key for row in shown] == ["big"] and withheld == 2


def test_two_small_groups_are_withheld_and_the_rest_shown() -> None:
    rows = [group("x", 3), group("y", 4), group("mid", 20), group("big", 40)]
    shown, withheld = suppress_small(rows)
    assert [row.key for row in shown] == ["mid", "big"] and withheld == 2


def test_a_district_of_small_groups_publishes_none() -> None:
    assert suppress_small([group("x", 3), group("y", 4)]) == ([], 2)


def test_thai_grades_sort_primary_before_secondary_and_unknown_last() -> None:
    grades = ["ม.1", "อื่น ๆ", "ป.6", "ป.10", "ป.2", "อ.3"]
    assert sorted(grades, key=grade_sort_key) == ["อ.3", "ป.2", "ป.6", "ป.10", "ม.1", "อื่น ๆ"]


def test_bars_scale_to_the_largest_and_an_empty_chart_has_no_bars() -> None:
    chart = bar_chart([("a", 50, 25, ""), ("b", 100, 100, "")])
    assert chart.bars[1].width == chart.span and chart.bars[0].width == chart.span / 2
    assert chart.bars[0].part == chart.span / 4
    assert bar_chart([]).bars == []


def test_the_results_scale_zooms_to_round_tens_at_least_forty_wide() -> None:
    chart = dumbbell_chart([("a", Decimal("52.3"), Decimal("58.1"), "")])
    assert [tick for _, tick in chart.ticks] == ["20", "30", "40", "50", "60"]
    row = chart.rows[0]
    assert chart.x0 < row.x_baseline < row.x_result <= chart.x0 + chart.span and row.improved


def test_chart_labels_abbreviate_the_offices_and_keep_what_tells_long_names_apart() -> None:
    assert _short("สำนักงานเขตพื้นที่การศึกษาประถมศึกษาขอนแก่น เขต 1") == "สพป.ขอนแก่น เขต 1"
    assert _short("สำนักงานเขตพื้นที่การศึกษามัธยมศึกษากรุงเทพมหานคร เขต 2") == "สพม.กรุงเทพมหานคร เขต 2"
    assert _short("คณิตศาสตร์") == "คณิตศาสตร์"
    long = "โรงเรียนบ้านหนองบัวแดงวิทยาคารพัฒนาศึกษาสงเคราะห์ เขต "
    one, two = _short(long + "1"), _short(long + "2")
    assert one != two and len(one) <= 34 and len(two) <= 34 and one.endswith("เขต 1")
    for label in (one, two, _short("สำนักงานเขตพื้นที่การศึกษาตัวอย่าง (ข้อมูลสังเคราะห์, n000)")):
        after = label.split("…", 1)[1]
        assert after and unicodedata.category(after[0]) != "Mn"  # no vowel or tone mark left without its consonant
