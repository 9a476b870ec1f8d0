"""The controlled lists of the Basic Education Core Curriculum (config/curriculum.json): its eight learning areas
(กลุ่มสาระการเรียนรู้) and the grade levels from อนุบาล to ม.6, in Thai and English.

A program's and a cycle's learning area and grade level hold the Thai name of a list entry ("คณิตศาสตร์", "ป.4"),
or "" (a cycle's "" falls back to its program's). `canonical_area` and `canonical_grade` read the common spellings
("คณิต", "ป 4", "ประถมศึกษาปีที่ ๔", "Grade 4") as the entry they name, and None for a text they cannot place
with certainty (a range such as "ป.4-6", two subjects, a typo): such a text is left as it was, for a trainer to
choose (migration 0028 lists the rows it left, `unplaced` finds them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow
from models.catalog import _load
from models.errors import Problem

LEARNING_AREA, GRADE_LEVEL = "learning_area", "grade_level"


@dataclass(frozen=True)
class Entry:
    code: str
    name: dict[str, str]  # "th" (the value kept) and "en"
    aliases: tuple[str, ...]

    @property
    def value(self) -> str:
        return self.name["th"]

    def label(self, locale: str) -> str:
        return self.name.get(locale, self.name["th"])


@cache
def learning_areas() -> tuple[Entry, ...]:
    return tuple(_entries("learning_areas"))


@cache
def grade_levels() -> tuple[Entry, ...]:
    return tuple(_entries("grade_levels"))


def _entries(key: str) -> list[Entry]:
    return [Entry(e["code"], dict(e["name"]), tuple(e["aliases"])) for e in _load("curriculum.json")[key]]


_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_PREFIXES = ("กลุ่มสาระการเรียนรู้", "กลุ่มสาระฯ", "กลุ่มสาระ", "ระดับชั้น", "ชั้น", "วิชา")


def comparable(text: str) -> str:
    """The text as the lists compare it: Thai digits as digits, lower case, without spaces, dots, commas, brackets
    and the words that only say what kind of thing it is (กลุ่มสาระการเรียนรู้, ชั้น, วิชา)."""
    found = text.translate(_THAI_DIGITS).casefold().strip()
    found = re.sub(r"[\s.,()\[\]/]+", "", found)
    for prefix in _PREFIXES:
        if found.startswith(prefix) and len(found) > len(prefix):
            found = found[len(prefix) :]
    return found


@cache
def _index(kind: str) -> dict[str, str]:
    entries = learning_areas() if kind == LEARNING_AREA else grade_levels()
    index: dict[str, str] = {}
    for entry in entries:
        for spelling in (*entry.aliases, *entry.name.values()):
            index[comparable(spelling)] = entry.value
    return index


def canonical(kind: str, text: str) -> str | None:
    """The list value that `text` names for sure ("" for an empty text), or None."""
    if not text.strip():
        return ""
    return _index(kind).get(comparable(text))


def canonical_area(text: str) -> str | None:
    return canonical(LEARNING_AREA, text)


def canonical_grade(text: str) -> str | None:
    return canonical(GRADE_LEVEL, text)


def listed(kind: str, value: str) -> bool:
    entries = learning_areas() if kind == LEARNING_AREA else grade_levels()
    return value == "" or any(entry.value == value for entry in entries)


def label(kind: str, value: str, locale: str) -> str:
    """The name of a list value in the locale; a value not on the list is shown as it is."""
    entries = learning_areas() if kind == LEARNING_AREA else grade_levels()
    for entry in entries:
        if entry.value == value:
            return entry.label(locale)
    return value


def choices(kind: str, locale: str) -> list[tuple[str, str]]:
    entries = learning_areas() if kind == LEARNING_AREA else grade_levels()
    return [(entry.value, entry.label(locale)) for entry in entries]


def grade_order(value: str) -> int:
    """The position of a grade on the list (อ.1 first, ม.6 last); values not on it come after."""
    for position, entry in enumerate(grade_levels()):
        if entry.value == value:
            return position
    return len(grade_levels())


def problems(area: str, grade: str) -> list[Problem]:
    """`not_in_list` for a learning area or grade level that is neither empty nor on the list (nor a spelling of an
    entry, which `canonical` turns into it)."""
    found = []
    if canonical_area(area) is None:
        found.append(Problem(LEARNING_AREA, "not_in_list", {"have": area}))
    if canonical_grade(grade) is None:
        found.append(Problem(GRADE_LEVEL, "not_in_list", {"have": grade}))
    return found


class CurriculumMapping(Base):
    """What migration 0028 did with one free-text learning area or grade level: the text as it was, and the list
    value it became (`mapped`), or None when it was not sure and left the text for a trainer to choose."""

    __tablename__ = "curriculum_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[int]
    field: Mapped[str] = mapped_column(String(32))
    original: Mapped[str] = mapped_column(Text)
    mapped: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
