"""Rubrics for grading reflections, as data in `config/rubrics/` (the seeds set no rating scale: an agency edits
the file). A grade gives each criterion one of the rubric's levels; the maximum is criteria × the top level."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from models.catalog import CONFIG_DIR
from models.errors import Problem

REFLECTION_RUBRIC = "reflection"


@dataclass(frozen=True)
class Level:
    points: int
    name: dict[str, str]


@dataclass(frozen=True)
class Criterion:
    id: str
    name: dict[str, str]
    guide: dict[str, str]


@dataclass(frozen=True)
class Rubric:
    id: str
    title: dict[str, str]
    source: dict[str, str]
    levels: tuple[Level, ...]
    criteria: tuple[Criterion, ...]

    @property
    def max_score(self) -> int:
        return len(self.criteria) * max(level.points for level in self.levels)

    def level_name(self, points: int | float, lang: str) -> str:
        for level in self.levels:
            if level.points == points:
                return level.name.get(lang, level.name["en"])
        return str(points)


@cache
def rubric(name: str = REFLECTION_RUBRIC) -> Rubric:
    """A rubric from config/rubrics/<name>.json, checked: levels and criteria present, ids unique."""
    raw = json.loads((CONFIG_DIR / "rubrics" / f"{name}.json").read_text(encoding="utf-8"))
    levels = tuple(Level(int(level["points"]), level["name"]) for level in raw["levels"])
    criteria = tuple(Criterion(c["id"], c["name"], c.get("guide", {"th": "", "en": ""})) for c in raw["criteria"])
    if not levels or not criteria:
        raise ValueError(f"rubric {name}: needs levels and criteria")
    if len({c.id for c in criteria}) != len(criteria) or len({lv.points for lv in levels}) != len(levels):
        raise ValueError(f"rubric {name}: criterion ids and level points must be unique")
    if min(lv.points for lv in levels) < 0:
        raise ValueError(f"rubric {name}: level points cannot be negative")
    return Rubric(raw["id"], raw["title"], raw.get("source", {"th": "", "en": ""}), levels, criteria)


def rubric_problems(chosen: Rubric, scores: Mapping[str, Decimal | int]) -> list[Problem]:
    """Each criterion scored once with one of the rubric's levels; nothing else."""
    allowed = {lv.points for lv in chosen.levels}
    found: list[Problem] = []
    for criterion in chosen.criteria:
        score = scores.get(criterion.id)
        if score is None:
            found.append(Problem(criterion.id, "required", {}))
        elif Decimal(score) not in allowed:
            found.append(Problem(criterion.id, "not_a_level", {"score": score}))
    found.extend(
        Problem(extra, "unknown_criterion", {}) for extra in sorted(set(scores) - {c.id for c in chosen.criteria})
    )
    return found
