"""National and school test results (issue 17, seed 001): O-NET (ป.6, ม.3, ม.6), NT (ป.3) and RT (ป.1) means per
school, subject and year, with the district's and the nation's means, read from the file a district receives.

The layout (docs/test-results.md): one row per school (or the district, or the nation), test, grade, subject and
year, with the columns below under their Thai or English headings, in CSV (UTF-8, or Windows-874 as Thai Excel
saves it) or XLSX (the first sheet). The school's mean, and on the same row the district's and the nation's means
as the testing bodies print them beside it. A file with an unknown school, test, grade or subject, or a value that
is not a number, is refused whole: every problem is listed and nothing is written. A result already held for the
same school (district, nation), test, grade, subject and year is replaced; the nation's means a district's file
carries are kept for that district alone.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, and_, delete, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow
from models.catalog import _load
from models.curriculum import comparable
from models.district import District, School

SCHOOL, DISTRICT, NATION = "school", "district", "nation"
MAX_FILE_BYTES = 2 * 1024 * 1024  # what an upload may hold (the app refuses a larger request before reading it)
MAX_ROWS = 50_000
MAX_PUPILS = 100_000  # pupils tested at one school (or a district) in one subject: never negative
MAX_UNPACKED_BYTES = 20 * 1024 * 1024  # what an XLSX may unpack to
MAX_COMPRESSION_RATIO = 100  # a workbook's parts compress ten- to thirtyfold; a bomb a thousandfold
MAX_EMPTY_RUN = 1_000  # empty rows in a row after which a sheet is taken to have ended
BUDDHIST_ERA_OFFSET = 543

# Every column by its key, with the headings it is known by (Thai first); None: the column may be left out.
COLUMNS: dict[str, tuple[bool, tuple[str, ...]]] = {
    # The academic year (ปีการศึกษา), or the year the test was sat (ปีที่สอบ): the tests of an academic year are sat
    # in February and March of the next calendar year (O-NET of ปีการศึกษา 2566 in early 2567), so a year sat is
    # read as the academic year before it. One of the two is needed.
    "year": (False, ("ปีการศึกษา", "year", "academic year")),
    "exam_year": (False, ("ปีที่สอบ", "ปีที่จัดสอบ", "exam year", "year sat")),
    "test": (True, ("การทดสอบ", "การสอบ", "ประเภทการสอบ", "test")),
    "grade": (True, ("ระดับชั้น", "ชั้น", "grade", "grade level")),
    "school_code": (True, ("รหัสโรงเรียน", "รหัสสถานศึกษา", "school code", "school_code")),
    "school_name": (False, ("ชื่อโรงเรียน", "โรงเรียน", "ชื่อสถานศึกษา", "school name", "school_name")),
    "subject": (True, ("วิชา", "รายวิชา", "ด้าน", "subject")),
    "pupils": (False, ("จำนวนผู้เข้าสอบ", "จำนวนนักเรียน", "pupils", "students")),
    "mean": (True, ("คะแนนเฉลี่ยระดับโรงเรียน", "คะแนนเฉลี่ย", "school mean", "mean", "school_mean")),
    "district_mean": (
        False,
        ("คะแนนเฉลี่ยระดับเขตพื้นที่", "คะแนนเฉลี่ยระดับเขต", "คะแนนเฉลี่ยระดับสพท", "district mean", "district_mean"),
    ),
    "national_mean": (False, ("คะแนนเฉลี่ยระดับประเทศ", "national mean", "national_mean")),
}
# What the school code column holds on a row of the district's or the nation's own means.
LEVEL_WORDS = {DISTRICT: ("ระดับเขตพื้นที่", "ระดับเขต", "เขต", "district"), NATION: ("ระดับประเทศ", "ประเทศ", "nation")}


class ExamResult(Base):
    """One mean: of a school, of a district (school None) or of the nation (school None). The nation's mean is kept
    as published beside the district's own upload (district_id is the uploading district): one district's file never
    changes another district's (or another platform's) figures, and each district is read with its own."""

    __tablename__ = "exam_results"
    __table_args__ = (
        Index("ix_exam_results_district_year", "district_id", "year"),
        Index("ix_exam_results_school", "school_id"),
        Index("ix_exam_results_key", "test", "grade_level", "subject", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(8))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("district_schools.id", ondelete="CASCADE"), default=None)
    test: Mapped[str] = mapped_column(String(8))
    grade_level: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(32))
    year: Mapped[int]  # the academic year, Common Era (shown in the Buddhist Era)
    mean: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    pupils: Mapped[int | None] = mapped_column(default=None)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Subject:
    code: str
    tests: tuple[str, ...]
    area: str
    name: dict[str, str]
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Exam:
    code: str
    grades: tuple[str, ...]
    aliases: tuple[str, ...]


@cache
def tests() -> dict[str, Exam]:
    return {
        t["code"]: Exam(t["code"], tuple(t["grades"]), tuple(t["aliases"]))
        for t in _load("national_tests.json")["tests"]
    }


@cache
def subjects() -> dict[str, Subject]:
    return {
        s["code"]: Subject(s["code"], tuple(s["tests"]), s["area"], dict(s["name"]), tuple(s["aliases"]))
        for s in _load("national_tests.json")["subjects"]
    }


def find_test(text: str) -> str | None:
    wanted = comparable(text)
    for test in tests().values():
        if wanted in {comparable(a) for a in (test.code, *test.aliases)}:
            return test.code
    return None


def find_subject(test: str, text: str) -> str | None:
    wanted = comparable(text)
    for subject in subjects().values():
        if test in subject.tests and wanted in {
            comparable(a) for a in (subject.code, *subject.aliases, *subject.name.values())
        }:
            return subject.code
    return None


# --- Reading a file -----------------------------------------------------------------------------------------------


@dataclass
class Refused(Exception):
    """Why a file was refused whole; nothing was written."""

    missing_columns: list[str] = field(default_factory=list)
    unknown_schools: list[str] = field(default_factory=list)
    unknown_tests: list[str] = field(default_factory=list)
    unknown_subjects: list[str] = field(default_factory=list)
    bad_values: list[tuple[int, str]] = field(default_factory=list)  # (line, column key)
    unreadable: str = ""  # "too_large", "not_a_table", "too_many_rows", "empty"

    def __bool__(self) -> bool:
        return bool(
            self.missing_columns or self.unknown_schools or self.unknown_tests or self.unknown_subjects
            or self.bad_values or self.unreadable
        )  # fmt: skip


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """The file's rows (the first is the heading row), from XLSX (first sheet) or CSV."""
    if len(data) > MAX_FILE_BYTES:
        raise Refused(unreadable="too_large")
    if data[:2] == b"PK" or filename.lower().endswith((".xlsx", ".xlsm")):
        rows = _workbook_rows(data)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp874", errors="replace")
        rows = []
        try:
            for row in csv.reader(io.StringIO(text)):
                if any(cell.strip() for cell in row):
                    rows.append(row)
                    if len(rows) > MAX_ROWS + 1:
                        raise Refused(unreadable="too_many_rows")
        except csv.Error as exc:
            raise Refused(unreadable="not_a_table") from exc
    if len(rows) < 2:
        raise Refused(unreadable="empty")
    return rows


def _workbook_rows(data: bytes) -> list[list[str]]:
    """The first sheet's non-empty rows, read without trusting the workbook: its unpacked size and compression ratio
    are checked before it is opened (a small file may unpack to gigabytes), at most the known columns (and a few) are
    read of each row, whatever the sheet's declared dimension, and reading stops at MAX_ROWS + 1 rows or after a long
    run of empty rows (a forged dimension pads the sheet with them)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise Refused(unreadable="not_a_table") from exc
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED_BYTES or any(
        m.file_size > MAX_COMPRESSION_RATIO * max(m.compress_size, 1) and m.file_size > 1024 * 1024 for m in members
    ):
        raise Refused(unreadable="too_large")
    rows: list[list[str]] = []
    try:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a file that is not a workbook
        raise Refused(unreadable="not_a_table") from exc
    try:
        empty_run = 0
        for values in book.worksheets[0].iter_rows(max_col=len(COLUMNS) + 5, values_only=True):
            row = ["" if cell is None else _cell(cell) for cell in values]
            if not any(cell.strip() for cell in row):
                empty_run += 1
                if empty_run > MAX_EMPTY_RUN:
                    break
                continue
            empty_run = 0
            rows.append(row)
            if len(rows) > MAX_ROWS + 1:
                raise Refused(unreadable="too_many_rows")
    except Refused:
        raise
    except Exception as exc:
        raise Refused(unreadable="not_a_table") from exc
    finally:
        book.close()
    return rows


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Row:
    line: int
    level: str
    school_code: str
    test: str
    grade: str
    subject: str
    year: int
    mean: Decimal
    pupils: int | None
    district_mean: Decimal | None
    national_mean: Decimal | None


def _headings(header: list[str]) -> dict[str, int]:
    known = {comparable(name): key for key, (_, names) in COLUMNS.items() for name in names}
    found: dict[str, int] = {}
    for index, heading in enumerate(header):
        key = known.get(comparable(heading))
        if key is not None and key not in found:
            found[key] = index
    return found


def _number(text: str) -> Decimal | None:
    text = text.strip().replace(",", "")
    if not text:
        return None
    value = Decimal(text)
    if not value.is_finite() or not 0 <= value <= 100:
        raise InvalidOperation(text)
    return value.quantize(Decimal("0.01"))


def parse(rows: list[list[str]]) -> list[Row]:
    """The rows of a table as results; Refused with every problem found (but unknown schools, checked later)."""
    columns = _headings(rows[0])
    refused = Refused(missing_columns=[key for key, (needed, _) in COLUMNS.items() if needed and key not in columns])
    if "year" not in columns and "exam_year" not in columns:
        refused.missing_columns.insert(0, "year")
    if refused:
        raise refused
    found: list[Row] = []
    for line, raw in enumerate(rows[1:], start=2):
        cells = {key: (raw[index].strip() if index < len(raw) else "") for key, index in columns.items()}
        test = find_test(cells["test"])
        if test is None:
            refused.unknown_tests.append(cells["test"])
            continue
        grade = cells["grade"].replace(" ", "")
        grade = next((g for g in tests()[test].grades if comparable(g) == comparable(grade)), "")
        if not grade:
            refused.unknown_tests.append(f"{test} {cells['grade']}")
            continue
        subject = find_subject(test, cells["subject"])
        if subject is None:
            refused.unknown_subjects.append(f"{test} {cells['subject']}")
            continue
        values: dict[str, Any] = {}
        for key in ("mean", "district_mean", "national_mean"):
            try:
                values[key] = _number(cells.get(key, ""))
            except (InvalidOperation, ValueError):
                refused.bad_values.append((line, key))
        try:
            sat = "year" not in cells
            year = int(cells["exam_year"] if sat else cells["year"])
            year = (year - BUDDHIST_ERA_OFFSET if year > 2400 else year) - (1 if sat else 0)
            if not 1990 <= year <= 2200:
                raise ValueError(year)
        except ValueError:
            refused.bad_values.append((line, "exam_year" if "year" not in cells else "year"))
            continue
        try:
            pupils = int(cells["pupils"].replace(",", "")) if cells.get("pupils") else None
            if pupils is not None and not 0 <= pupils <= MAX_PUPILS:
                raise ValueError(pupils)
        except ValueError:
            refused.bad_values.append((line, "pupils"))
            continue
        if values.get("mean") is None and "mean" in values:
            refused.bad_values.append((line, "mean"))
        if len(values) < 3 or values["mean"] is None:
            continue
        code = cells["school_code"]
        level = next(
            (lv for lv, words in LEVEL_WORDS.items() if comparable(code) in {comparable(w) for w in words}), SCHOOL
        )
        found.append(
            Row(
                line,
                level,
                code,
                test,
                grade,
                subject,
                year,
                values["mean"],
                pupils,
                values["district_mean"],
                values["national_mean"],
            )
        )
    refused.unknown_tests = sorted(set(refused.unknown_tests))
    refused.unknown_subjects = sorted(set(refused.unknown_subjects))
    if refused:
        raise refused
    return found


# --- Writing ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Imported:
    schools: int
    results: int
    years: tuple[int, ...]


def _records(db: Session, district: District, rows: list[Row]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The rows to write for the district, by key; Refused when a school code is not one of the district's schools."""
    schools = {
        code: school_id
        for code, school_id in db.execute(select(School.code, School.id).where(School.district_id == district.id))
    }
    unknown = sorted({r.school_code for r in rows if r.level == SCHOOL and r.school_code not in schools})
    if unknown:
        raise Refused(unknown_schools=unknown)
    now = utcnow()
    records: dict[tuple[Any, ...], dict[str, Any]] = {}

    def keep(level: str, district_id: int, school_id: int | None, row: Row, mean: Decimal, pupils: int | None) -> None:
        key = (level, district_id, school_id, row.test, row.grade, row.subject, row.year)
        records[key] = {
            "level": level, "district_id": district_id, "school_id": school_id, "test": row.test,
            "grade_level": row.grade, "subject": row.subject, "year": row.year, "mean": mean, "pupils": pupils,
            "imported_at": now,
        }  # fmt: skip

    for row in rows:
        if row.level == SCHOOL:
            keep(SCHOOL, district.id, schools[row.school_code], row, row.mean, row.pupils)
        elif row.level == DISTRICT:
            keep(DISTRICT, district.id, None, row, row.mean, row.pupils)
        else:
            keep(NATION, district.id, None, row, row.mean, row.pupils)
        if row.district_mean is not None:
            keep(DISTRICT, district.id, None, row, row.district_mean, None)
        if row.national_mean is not None:
            keep(NATION, district.id, None, row, row.national_mean, None)
    return records


def _held(db: Session, district: District, keys: Iterable[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    """Which of these keys the district holds a result for already (one read of the years concerned)."""
    wanted = set(keys)
    years = sorted({key[6] for key in wanted})
    if not years:
        return set()
    held = db.execute(
        select(
            ExamResult.level, ExamResult.district_id, ExamResult.school_id, ExamResult.test, ExamResult.grade_level,
            ExamResult.subject, ExamResult.year,
        ).where(ExamResult.district_id == district.id, ExamResult.year.in_(years))
    )  # fmt: skip
    return {tuple(row) for row in held} & wanted


@dataclass(frozen=True)
class Preview:
    """What importing a file would do, nothing written: how many results, of how many schools and which years, and
    how many results already held it would replace (of which years)."""

    imported: Imported
    replaces: int
    replaced_years: tuple[int, ...]


def preview_file(db: Session, district: District, filename: str, data: bytes) -> Preview:
    """Read a file for the district as import_file does (Refused alike), and say what it would write and replace."""
    records = _records(db, district, _parse_for(db, district, read_table(filename, data)))
    held = _held(db, district, records)
    return Preview(_summary(records), len(held), tuple(sorted({key[6] for key in held})))


def _summary(records: dict[tuple[Any, ...], dict[str, Any]]) -> Imported:
    school_ids = {key[2] for key in records if key[2] is not None}
    return Imported(len(school_ids), len(records), tuple(sorted({key[6] for key in records})))


def import_results(db: Session, district: District, rows: Iterable[Row]) -> Imported:
    """Write the rows for the district, replacing the results held for the same keys; Refused (nothing written)
    when a school code is not one of the district's schools."""
    rows = list(rows)
    # Imports into one district one after the other: the second waits here until the first commits, then replaces
    # what it wrote (PostgreSQL's READ COMMITTED reads it), rather than both deleting nothing and both inserting.
    db.execute(select(District.id).where(District.id == district.id).with_for_update())
    records = _records(db, district, rows)
    for level, district_id, school_id, test, grade, subject, year in _held(db, district, records):
        db.execute(
            delete(ExamResult).where(
                and_(
                    ExamResult.level == level,
                    ExamResult.district_id == district_id,
                    ExamResult.school_id.is_(None) if school_id is None else ExamResult.school_id == school_id,
                    ExamResult.test == test,
                    ExamResult.grade_level == grade,
                    ExamResult.subject == subject,
                    ExamResult.year == year,
                )
            )
        )
    if records:
        db.execute(insert(ExamResult), list(records.values()))
    return _summary(records)


def _parse_for(db: Session, district: District, table: list[list[str]]) -> list[Row]:
    """parse, with the school codes that are not the district's listed in the same refusal as the other problems."""
    try:
        return parse(table)
    except Refused as refused:
        column = _headings(table[0]).get("school_code")
        if column is not None:
            codes = {row[column].strip() for row in table[1:] if column < len(row) and row[column].strip()}
            levels = {comparable(w) for words in LEVEL_WORDS.values() for w in words}
            codes = {code for code in codes if comparable(code) not in levels}
            known = set(db.scalars(select(School.code).where(School.district_id == district.id)))
            refused.unknown_schools = sorted(codes - known)
        raise


def import_file(db: Session, district: District, filename: str, data: bytes) -> Imported:
    """Read and write a file for the district: everything or nothing."""
    return import_results(db, district, _parse_for(db, district, read_table(filename, data)))
