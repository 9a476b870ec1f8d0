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
    return {c["code"]: Competency(c["code"], c["kind"], dict(c["name"])) for c in data["competencies"]}


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
