"""National and school test results read from real-shaped files (issue 17): Thai headings in CSV and XLSX, the
district's and the nation's means on each school row, a file with an unknown school or subject refused whole."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from models import exam_results
from models.dashboard_stats import ResultStats
from models.district import District, Network, Reach, import_structure
from models.exam_results import COLUMNS, ExamResult, Refused, import_file, preview_file, read_table
from models.exam_results_view import compare, cycles_targeting, furthest_below, schools_furthest_below
from models.measures import AS_PERCENT, MEAN_SCORE, NOT_STATED, comparable_as, in_comparable_terms
from models.platform import Platform
from tests.factories import make_course, planned_program

SCHOOLS = [("S1", "โรงเรียนบ้านหนองบัว"), ("S2", "โรงเรียนวัดโพธิ์ทอง")]
# As a district receives O-NET: one row per school and subject, the district's and the nation's means beside it.
HEADINGS = ["ปีการศึกษา", "การทดสอบ", "ระดับชั้น", "รหัสโรงเรียน", "ชื่อโรงเรียน", "วิชา", "จำนวนผู้เข้าสอบ",
            "คะแนนเฉลี่ยระดับโรงเรียน", "คะแนนเฉลี่ยระดับเขตพื้นที่", "คะแนนเฉลี่ยระดับประเทศ"]  # fmt: skip
ROWS = [
    ["2567", "O-NET", "ป.6", "S1", "โรงเรียนบ้านหนองบัว", "คณิตศาสตร์", "31", "24.10", "28.50", "30.25"],
    ["2567", "O-NET", "ป.6", "S1", "โรงเรียนบ้านหนองบัว", "ภาษาไทย", "31", "52.00", "50.10", "49.75"],
    ["2567", "O-NET", "ป.6", "S2", "โรงเรียนวัดโพธิ์ทอง", "คณิตศาสตร์", "18", "33.00", "28.50", "30.25"],
    ["2567", "NT", "ป.3", "S1", "โรงเรียนบ้านหนองบัว", "ด้านคณิตศาสตร์", "25", "41.00", "45.00", "47.00"],
    ["2567", "RT", "ป.1", "S1", "โรงเรียนบ้านหนองบัว", "การอ่านรู้เรื่อง", "25", "70.00", "72.00", "74.50"],
    ["2566", "O-NET", "ป.6", "S1", "โรงเรียนบ้านหนองบัว", "คณิตศาสตร์", "29", "26.00", "29.00", "29.90"],
]


def district(
    db: Session, course_name: str = "exam-results", code: str = "D1", beside: District | None = None
) -> District:
    """A district of two schools, on a platform of its own (or on the platform of the district beside)."""
    platform = db.get(
        Platform, beside.platform_id if beside else make_course(db, course_name, teachers=0).scope.platform_id
    )
    assert platform is not None
    import_structure(
        db,
        platform,
        [{"district_code": code, "district_name": f"สพป.สังเคราะห์ {code}", "network_code": "N1",
          "network_name": "เครือข่ายที่ 1", "school_code": school, "school_name": name} for school, name in SCHOOLS],
    )  # fmt: skip
    return db.scalars(select(District).where(District.platform_id == platform.id, District.code == code)).one()


def as_csv(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    return "\n".join(",".join(row) for row in [HEADINGS, *rows]).encode(encoding)


def as_xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADINGS)
    for row in rows:  # numbers as numbers, as a spreadsheet holds them
        sheet.append([int(row[0]), *row[1:6], int(row[6]), *(float(v) for v in row[7:])])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("filename", "make"), [("onet.csv", as_csv), ("onet.xlsx", as_xlsx)])
def test_a_file_with_thai_headings_is_read_with_the_district_and_national_means(db: Session, filename, make) -> None:
    d = district(db)

    imported = import_file(db, d, filename, make(ROWS))

    assert (imported.schools, imported.years) == (2, (2023, 2024))  # 2566 and 2567 in the Buddhist Era
    school = {c.subject: c for c in compare(db, d.id, school_id=_school(db, d, "S1")) if c.year == 2024}
    math = school["math"]
    assert (math.mean, math.district, math.nation, math.gap) == (
        Decimal("24.10"), Decimal("28.50"), Decimal("30.25"), Decimal("-6.15"),
    )  # fmt: skip
    assert school["nt-math"].grade_level == "ป.3" and school["rt-comprehension"].area == "ภาษาไทย"
    below = furthest_below(compare(db, d.id, school_id=_school(db, d, "S1")))
    assert [(c.test, c.subject) for c in below] == [("O-NET", "math"), ("NT", "nt-math"), ("RT", "rt-comprehension")]
    district_view = {(c.test, c.subject): c for c in compare(db, d.id) if c.year == 2024}
    assert district_view[("O-NET", "math")].mean == Decimal("28.50") and district_view[("O-NET", "math")].schools == 2


def test_importing_again_replaces_rather_than_adds(db: Session) -> None:
    d = district(db)
    import_file(db, d, "onet.csv", as_csv(ROWS))
    changed = [[*ROWS[0][:7], "25.00", *ROWS[0][8:]]]

    import_file(db, d, "onet.csv", as_csv(changed))

    assert db.scalar(select(func.count()).select_from(ExamResult)) == 6 + 5 + 5  # schools, district, nation rows
    s1 = {(c.subject, c.year): c.mean for c in compare(db, d.id, school_id=_school(db, d, "S1"))}
    assert s1[("math", 2024)] == Decimal("25.00")


def test_two_imports_of_one_file_leave_one_set_the_district_locked_before_anything_is_replaced(db: Session) -> None:
    d = district(db)
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(db.get_bind(), "before_cursor_execute", seen)
    try:
        for _ in range(2):
            import_file(db, d, "onet.csv", as_csv(ROWS))
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", seen)

    assert db.scalar(select(func.count()).select_from(ExamResult)) == 6 + 5 + 5
    if db.get_bind().dialect.name == "postgresql":  # SQLite has one writer at a time and no FOR UPDATE
        locks = [i for i, s in enumerate(statements) if s.startswith("SELECT districts.id") and "FOR UPDATE" in s]
        deletes = [i for i, s in enumerate(statements) if s.startswith("DELETE FROM exam_results")]
        assert len(locks) == 2 and locks[0] < deletes[0] and locks[1] < deletes[-1]


def test_one_districts_national_means_never_change_another_districts_or_platforms(db: Session) -> None:
    first = district(db)
    same_platform = district(db, code="D2", beside=first)
    other_platform = district(db, "exam-results-elsewhere")
    for d in (first, same_platform, other_platform):
        import_file(db, d, "onet.csv", as_csv(ROWS))
    forged = [[*row[:9], "99.00"] for row in ROWS]  # a wrong national mean in one district's file

    import_file(db, same_platform, "onet.csv", as_csv(forged))

    for d in (first, other_platform):
        nation = {(c.test, c.subject, c.year): c.nation for c in compare(db, d.id)}
        assert nation[("O-NET", "math", 2024)] == Decimal("30.25")
        assert {c.nation for c in compare(db, d.id, school_id=_school(db, d, "S1"))} <= {
            Decimal(row[9]) for row in ROWS
        }
        assert [c.nation for _, c in schools_furthest_below(db, d.id)] == [Decimal("30.25")]
    assert {c.nation for c in compare(db, same_platform.id)} == {Decimal("99.00")}


def test_a_file_with_an_unknown_school_or_subject_is_refused_whole_listing_them(db: Session) -> None:
    d = district(db)
    wrong = [*ROWS, ["2567", "O-NET", "ป.6", "S9", "โรงเรียนอื่น", "คณิตศาสตร์", "10", "20", "28.5", "30.25"]]

    with pytest.raises(Refused) as unknown_school:
        import_file(db, d, "onet.csv", as_csv(wrong))
    assert unknown_school.value.unknown_schools == ["S9"]

    with pytest.raises(Refused) as unknown_subject:
        import_file(db, d, "onet.xlsx", as_xlsx([*ROWS, [*ROWS[0][:5], "ดาราศาสตร์", *ROWS[0][6:]]]))
    assert unknown_subject.value.unknown_subjects == ["O-NET ดาราศาสตร์"]

    with pytest.raises(Refused) as bad:
        import_file(db, d, "onet.csv", as_csv([[*ROWS[0][:7], "สิบ", *ROWS[0][8:]]]))
    assert bad.value.bad_values == [(2, "mean")]

    with pytest.raises(Refused) as negative:
        import_file(db, d, "onet.csv", as_csv([[*ROWS[0][:6], "-31", *ROWS[0][7:]]]))
    assert negative.value.bad_values == [(2, "pupils")]
    assert db.scalar(select(func.count()).select_from(ExamResult)) == 0  # nothing written


def test_a_preview_says_what_an_import_would_replace_writing_nothing(db: Session) -> None:
    d = district(db)
    assert preview_file(db, d, "onet.csv", as_csv(ROWS)).replaces == 0
    import_file(db, d, "onet.csv", as_csv(ROWS[:1]))  # S1's math of 2567, with the district's and nation's means

    preview = preview_file(db, d, "onet.csv", as_csv(ROWS))

    assert (preview.replaces, preview.replaced_years, preview.imported.results) == (3, (2024,), 16)
    assert db.scalar(select(func.count()).select_from(ExamResult)) == 3  # nothing written


def test_unknown_schools_are_listed_with_the_bad_values_in_one_refusal(db: Session) -> None:
    d = district(db)
    wrong = [[*ROWS[0][:7], "สิบ", *ROWS[0][8:]], ["2567", "O-NET", "ป.6", "S9", "", "คณิตศาสตร์", "10", "20", "", ""]]

    with pytest.raises(Refused) as refused:
        import_file(db, d, "onet.csv", as_csv(wrong))

    assert (refused.value.bad_values, refused.value.unknown_schools) == ([(2, "mean")], ["S9"])


def test_a_year_sat_is_read_as_the_academic_year_before_it(db: Session) -> None:
    d = district(db)
    sat = "\n".join(",".join(row) for row in [["ปีที่สอบ", *HEADINGS[1:]], ROWS[0]]).encode("utf-8-sig")

    imported = import_file(db, d, "onet.csv", sat)

    assert imported.years == (2023,)  # sat in 2567: ปีการศึกษา 2566
    with pytest.raises(Refused) as no_year:
        import_file(db, d, "onet.csv", "\n".join(",".join(row[1:]) for row in [HEADINGS, ROWS[0]]).encode())
    assert no_year.value.missing_columns == ["year"]


def test_an_oversized_or_headless_file_is_refused(db: Session) -> None:
    d = district(db)
    with pytest.raises(Refused) as big:
        import_file(db, d, "onet.csv", b"x" * (2 * 1024 * 1024 + 1))
    assert big.value.unreadable == "too_large"
    with pytest.raises(Refused) as headless:
        import_file(db, d, "onet.csv", b"a,b\n1,2\n")
    assert "mean" in headless.value.missing_columns


def _rewritten(
    xlsx: bytes, part: str, change: Callable[[bytes], bytes], extra: dict[str, bytes] | None = None
) -> bytes:
    """The workbook with one part changed (and parts added), as a forger would write it."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, change(data) if item.filename == part else data)
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def test_a_workbook_with_a_forged_dimension_or_a_huge_unpacked_size_is_read_safely_or_refused(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = "xl/worksheets/sheet1.xml"
    forged = _rewritten(
        as_xlsx(ROWS), sheet, lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:ZZ5000"', xml)
    )
    assert b"A1:ZZ5000" in zipfile.ZipFile(io.BytesIO(forged)).read(sheet)

    rows = read_table("onet.xlsx", forged)

    assert len(rows) == 1 + len(ROWS)  # the padding rows are not rows
    assert max(len(row) for row in rows) <= len(COLUMNS) + 5  # nor the padding columns cells
    bomb = _rewritten(as_xlsx(ROWS), sheet, lambda xml: xml, {"xl/media/padding.bin": b"\0" * (21 * 1024 * 1024)})
    assert len(bomb) < 2 * 1024 * 1024
    with pytest.raises(Refused) as too_large:
        read_table("onet.xlsx", bomb)
    assert too_large.value.unreadable == "too_large"
    monkeypatch.setattr(exam_results, "MAX_ROWS", 3)
    with pytest.raises(Refused) as too_many:
        read_table("onet.xlsx", forged)
    assert too_many.value.unreadable == "too_many_rows"


def test_no_cycles_beside_a_subject_for_a_leader_who_sees_nothing(db: Session) -> None:
    assert cycles_targeting(db, Reach(), {("คณิตศาสตร์", "ป.6")}, 1) == {}


def test_the_cycles_beside_a_districts_results_are_that_districts_only(db: Session) -> None:
    first = district(db)
    second = district(db, code="D2", beside=first)
    course = make_course(db, "exam-results-cycles", teachers=3)
    for d, cycles in ((first, 2), (second, 5)):
        network = db.scalar(select(Network.id).where(Network.district_id == d.id))
        db.add(ResultStats(program_id=planned_program(db, course).id, district_id=d.id, network_id=network,
                           school_id=None, year=2025, learning_area="คณิตศาสตร์", grade_level="ป.6",
                           measure=AS_PERCENT, cycles=cycles, baseline_sum=40 * cycles, result_sum=50 * cycles,
                           improved=cycles))  # fmt: skip
    db.flush()
    both = Reach(led_district_ids=frozenset({first.id, second.id}), district_ids=frozenset({first.id, second.id}))

    shown = cycles_targeting(db, both, {("คณิตศาสตร์", "ป.6")}, first.id)

    assert shown[("คณิตศาสตร์", "ป.6")].cycles == 2  # not the 7 of every district the leader sees


def test_results_without_a_national_mean_are_not_said_to_be_at_or_above_the_nation(db: Session) -> None:
    from lti_tool.web.views.exam_results import versus

    d = district(db)
    import_file(db, d, "onet.csv", as_csv([[*row[:8], "", ""] for row in ROWS]))
    view = versus(db, Reach(), d.id, None)
    assert view["comparisons"] and view["below"] == [] and view["compared"] is False
    import_file(db, d, "onet.csv", as_csv(ROWS))
    assert versus(db, Reach(), d.id, None)["compared"] is True


def _school(db: Session, d: District, code: str) -> int:
    from models.district import School

    found = db.scalar(select(School.id).where(School.district_id == d.id, School.code == code))
    assert found is not None
    return found


def test_a_mean_score_without_its_n_is_never_a_percentage() -> None:
    assert comparable_as(MEAN_SCORE, None) == NOT_STATED and comparable_as(MEAN_SCORE, Decimal(20)) == AS_PERCENT
    assert in_comparable_terms(MEAN_SCORE, Decimal(10), Decimal(20)) == Decimal(50)
    with pytest.raises(ValueError):
        in_comparable_terms(MEAN_SCORE, Decimal(10), None)
