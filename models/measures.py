"""How a cycle's target is measured (issue 17): what is measured (the team's words), how, and for how many pupils;
the baseline and the result are values of that measure.

Three ways of measuring: the percentage of the pupils who reach a level (0–100), a mean score out of N (0–N), and a
count of pupils (0–the pupils targeted). The dashboard compares only what is comparable: a percentage with a mean
score turned into a percentage of N; a count only with counts. A cycle recorded before measures were stated (its
kind "") is counted apart and never averaged with the others.
"""

from __future__ import annotations

from decimal import Decimal

from models.errors import Problem

PERCENT_REACHING = "percent_reaching"
MEAN_SCORE = "mean_score"
COUNT = "count"
KINDS = (PERCENT_REACHING, MEAN_SCORE, COUNT)

# What the dashboard groups by: percentages (with mean scores turned into them), counts, and measures not stated.
AS_PERCENT, AS_COUNT, NOT_STATED = "percent", "count", ""

MOST_PUPILS = 100_000
MOST_OUT_OF = Decimal(100_000)


def comparable_as(kind: str, out_of: Decimal | None = None) -> str:
    """What a measure is compared as; a mean score without its N (out of what) cannot be a percentage, and is
    counted with the measures not stated."""
    if kind == PERCENT_REACHING or (kind == MEAN_SCORE and out_of is not None and out_of > 0):
        return AS_PERCENT
    if kind == COUNT:
        return AS_COUNT
    return NOT_STATED


def in_comparable_terms(kind: str, value: Decimal, out_of: Decimal | None) -> Decimal:
    """A value as the dashboard compares it: a mean score out of N as a percentage of N; others as they are. A mean
    score without its N is refused (ValueError), never taken for a percentage: comparable_as counts it apart."""
    if kind == MEAN_SCORE:
        if out_of is None or out_of <= 0:
            raise ValueError("a mean score without what it is out of cannot be a percentage")
        return value * 100 / out_of
    return value


def problems(
    kind: str,
    out_of: Decimal | None,
    pupils: int | None,
    values: dict[str, Decimal | None],
) -> list[Problem]:
    """What is wrong with a measure and its values (`values` by field name: baseline_value, result_value)."""
    found: list[Problem] = []
    if kind not in ("", *KINDS):
        found.append(Problem("measure_kind", "not_a_choice", {"have": kind}))
        return found
    given = {name: value for name, value in values.items() if value is not None}
    if given and not kind:
        found.append(Problem("measure_kind", "required", {}))
    if pupils is not None and not 1 <= pupils <= MOST_PUPILS:
        found.append(Problem("pupils", "out_of_range", {"least": 1, "most": MOST_PUPILS}))
        pupils = None
    most: Decimal | None = None
    if kind == PERCENT_REACHING:
        most = Decimal(100)
    elif kind == MEAN_SCORE:
        if out_of is None:
            found.append(Problem("measure_out_of", "required", {}))
        elif not out_of.is_finite() or not 0 < out_of <= MOST_OUT_OF:
            found.append(Problem("measure_out_of", "out_of_range", {"least": 1, "most": MOST_OUT_OF}))
        else:
            most = out_of
    elif kind == COUNT:
        if pupils is None:
            found.append(Problem("pupils", "required", {}))
        else:
            most = Decimal(pupils)
    for name, value in given.items():
        if value < 0 or (most is not None and value > most):
            found.append(Problem(name, "beyond_measure", {"most": most if most is not None else "—"}))
        elif kind == COUNT and value != value.to_integral_value():
            found.append(Problem(name, "whole_pupils", {}))
    return found
