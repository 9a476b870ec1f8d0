"""Shipped domain data from config/: the OBEC teacher competencies and the Council's five PLC elements."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

# In a wheel, config/ ships inside this package; in a source checkout it is the top-level config/.
_PACKAGED = Path(__file__).resolve().parent / "config"
CONFIG_DIR = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).resolve().parent.parent / "config"


@dataclass(frozen=True)
class Competency:
    code: str
    kind: str
    name: dict[str, str]
    definition: dict[str, str]  # the framework's own definition ("หมายถึง …"), and our English of it


@dataclass(frozen=True)
class Level:
    level: int
    name: dict[str, str]
    description: dict[str, str]


@dataclass(frozen=True)
class AssessmentScale:
    """The levels a teacher rates themself on: the product's own default (`ours`), replaceable in configuration."""

    id: str
    ours: bool
    source: dict[str, str]
    levels: tuple[Level, ...]

    @property
    def minimum(self) -> int:
        return min(level.level for level in self.levels)

    @property
    def maximum(self) -> int:
        return max(level.level for level in self.levels)


@dataclass(frozen=True)
class Element:
    number: int
    slug: str
    name: dict[str, str]
    competencies: tuple[str, ...]


@dataclass(frozen=True)
class ActivityKind:
    slug: str
    name: dict[str, str]
    competencies: tuple[str, ...]


def _load(name: str) -> Any:
    return json.loads((CONFIG_DIR / name).read_text(encoding="utf-8"))


@cache
def competencies() -> dict[str, Competency]:
    data = _load("competencies.json")
    return {
        c["code"]: Competency(c["code"], c["kind"], dict(c["name"]), dict(c["definition"]))
        for c in data["competencies"]
    }


@cache
def assessment_scale() -> AssessmentScale:
    scale = _load("competencies.json")["assessment"]["scale"]
    levels = tuple(
        Level(int(level["level"]), dict(level["name"]), dict(level["description"])) for level in scale["levels"]
    )
    if len(levels) < 2 or len({level.level for level in levels}) != len(levels):
        raise ValueError("the competency assessment scale needs at least two distinct levels")
    return AssessmentScale(scale["id"], bool(scale.get("ours", False)), dict(scale["source"]), levels)


@cache
def default_target_competencies() -> tuple[str, ...]:
    """The competencies a new program aims at unless it chooses others (seed 000: C3, C4 and F5)."""
    targets = tuple(_load("competencies.json")["assessment"]["default_targets"])
    unknown = [code for code in targets if code not in competencies()]
    if unknown:
        raise ValueError(f"unknown default target competencies: {unknown}")
    return targets


@cache
def framework() -> dict[str, Any]:
    """The framework's name, source and what PLC work develops according to the source."""
    framework_data: dict[str, Any] = _load("competencies.json")["framework"]
    return framework_data


@cache
def elements() -> tuple[Element, ...]:
    return tuple(
        Element(e["number"], e["slug"], dict(e["name"]), tuple(e["competencies"]))
        for e in _load("plc.json")["elements"]
    )


@cache
def activity_kinds() -> dict[str, ActivityKind]:
    return {
        slug: ActivityKind(slug, dict(a["name"]), tuple(a["competencies"]))
        for slug, a in _load("plc.json")["activities"].items()
    }


def element(number: int) -> Element:
    for candidate in elements():
        if candidate.number == number:
            return candidate
    raise KeyError(f"there is no PLC element {number}; the Council's cycle has elements 1 to 5")
