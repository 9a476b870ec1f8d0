"""Geometry for the dashboard's server-rendered SVG charts: numbers in, positions out; templates draw them.

No script and no inline style (the CSP forbids both): the templates use SVG presentation attributes for positions
and sizes and the stylesheet's classes for colour.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 760  # viewBox width; the SVG scales to its container (800 px iframe and wider)
LABEL = 230  # left column for labels
VALUE = 130  # right column for the value text ("1,234 / 1,509" and "41.7 → 51.0 (115)" fit)
ROW = 26


@dataclass(frozen=True)
class Bar:
    label: str
    y: int
    width: float  # the whole bar (e.g. teachers)
    part: float  # the darker part inside it (e.g. eligible teachers)
    text: str  # the value written beside the bar


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: int
    x0: int = LABEL
    span: int = WIDTH - LABEL - VALUE
    width: int = WIDTH


def bar_chart(rows: Sequence[tuple[str, float | Decimal, float | Decimal, str]]) -> BarChart:
    """Horizontal bars: (label, whole, part, text) per row, scaled to the largest whole."""
    span = WIDTH - LABEL - VALUE
    top = max((float(whole) for _, whole, _, _ in rows), default=0.0) or 1.0
    bars = [
        Bar(_short(label), 8 + i * ROW, round(span * float(whole) / top, 1), round(span * float(part) / top, 1), text)
        for i, (label, whole, part, text) in enumerate(rows)
    ]
    return BarChart(bars, 16 + len(rows) * ROW)


@dataclass(frozen=True)
class Dumbbell:
    label: str
    y: int
    x_baseline: float
    x_result: float
    text: str
    improved: bool


@dataclass(frozen=True)
class DumbbellChart:
    rows: list[Dumbbell]
    height: int
    ticks: list[tuple[float, str]]
    x0: int = LABEL
    span: int = WIDTH - LABEL - VALUE
    width: int = WIDTH


def dumbbell_chart(
    rows: Sequence[tuple[str, Decimal, Decimal, str]], bounds: tuple[float, float] | None = None
) -> DumbbellChart:
    """Baseline → result on a shared scale, one row per group. The scale runs between round tens around the
    values (at least 40 wide), so that a change of a few points is visible; the ticks say where it starts. A fixed
    scale (`bounds`, such as the levels 1 to 5 of an assessment) is drawn as it is."""
    span = WIDTH - LABEL - VALUE
    values = [float(v) for _, b, r, _ in rows for v in (b, r)] or [0.0, 100.0]
    low = max(0.0, math.floor(min(values) / 10) * 10)
    high = math.ceil(max(values) / 10) * 10
    if bounds is not None:
        low, high = bounds
    elif high - low < 40:
        low = max(0.0, high - 40)
        high = max(high, low + 40)

    def x(value: Decimal | float) -> float:
        return round(LABEL + span * (float(value) - low) / (high - low), 1)

    drawn = [
        Dumbbell(_short(label), 30 + i * ROW, x(baseline), x(result), text, result > baseline)
        for i, (label, baseline, result, text) in enumerate(rows)
    ]
    ticks = [(x(low + (high - low) * step / 4), f"{low + (high - low) * step / 4:.0f}") for step in range(5)]
    return DumbbellChart(drawn, 40 + len(rows) * ROW, ticks)


# The Thai names of district offices begin alike; the charts write them as the offices abbreviate themselves.
ABBREVIATIONS = (
    ("สำนักงานเขตพื้นที่การศึกษาประถมศึกษา", "สพป."),
    ("สำนักงานเขตพื้นที่การศึกษามัธยมศึกษา", "สพม."),
    ("สำนักงานเขตพื้นที่การศึกษา", "สพท."),
)


def _short(label: str, most: int = 34) -> str:
    """A label that fits the label column: the offices' common names abbreviated, then, if still too long, its
    start and its end around an ellipsis (names that differ at their end, "เขต 1", "เขต 2", stay apart), never
    cutting a Thai vowel or tone mark from its consonant."""
    for name, short in ABBREVIATIONS:
        if label.startswith(name):
            label = short + label[len(name) :].lstrip()
            break
    if len(label) <= most:
        return label
    head, tail = (most - 1) // 2, most - 1 - (most - 1) // 2
    start, end = head, len(label) - tail
    while start < len(label) and _is_mark(label[start]):
        start += 1
    while end < len(label) and _is_mark(label[end]):
        end += 1
    return label[:start] + "…" + label[end:]


def _is_mark(char: str) -> bool:
    """A Thai vowel or tone mark written above or below its consonant (Unicode category Mn)."""
    return bool(char) and unicodedata.category(char) == "Mn"
