"""The dashboard's charts (server-rendered SVG, templates/dashboard/_charts.html) from the tables the page shows."""

from __future__ import annotations

from typing import Any

from lti_tool.documents.charts import bar_chart, dumbbell_chart
from lti_tool.web import curriculum
from models import dashboard as stats
from models import dashboard_learning as learning
from models.catalog import assessment_scale
from models.curriculum import GRADE_LEVEL, LEARNING_AREA
from models.measures import AS_PERCENT

Results = dict[tuple[str, ...], list[learning.StudentResults]]


def chart_by(filters: stats.Filters) -> tuple[str, ...]:
    """Results: by learning area; by grade once a learning area is chosen (the table has both, always)."""
    return ("grade_level",) if filters.learning_area else ("learning_area",)


def charts(unit: str, filters: stats.Filters, tables: dict[str, Any], by_measure: Results) -> dict[str, Any]:
    """The page's charts; the unit chart by `unit` (the schools, the networks, the districts or the provinces)."""
    units = [row for row in tables[unit][1] if row[4]]  # rows with teachers
    eligible = bar_chart([(row[0], row[4], row[6], f"{row[6]:,} / {row[4]:,}") for row in units])
    coverage = tables["competencies"][1]
    competencies = bar_chart([(row[0], row[1], row[1], f"{row[1]:,.0f}") for row in coverage])
    # Assessed growth: the mean self-assessed level at the programs' start and end, on the scale's own levels.
    scale = assessment_scale()
    growth = dumbbell_chart(
        [(row[0], row[2], row[4], f"{row[2]} → {row[4]}") for row in tables["growth"][1] if row[5] != "—"],
        bounds=(scale.minimum, scale.maximum),
    )
    by = chart_by(filters)
    # Only percentages are drawn (counts of pupils are not on one scale); the table has every measure.
    grouped = [r for r in by_measure[by] if r.measure == AS_PERCENT]
    results = dumbbell_chart(
        [
            (
                curriculum.label(GRADE_LEVEL, r.grade_level) or curriculum.label(LEARNING_AREA, r.learning_area),
                r.baseline,
                r.result,
                f"{r.baseline} → {r.result} ({r.cycles:,})",
            )
            for r in grouped
        ]
    )
    # Goals: per unit, the cycles completed or reported (light) and those that met their goal (dark); no total row.
    counted = [row for row in tables["goals"][1][:-1] if row[1]]
    goals = bar_chart([(row[0], row[1], row[2], f"{row[2]:,} / {row[1]:,}") for row in counted])
    return {
        "unit": unit,
        "eligible": eligible,
        "competencies": competencies,
        "growth": growth,
        "results": results,
        "results_by": by[0],
        "goals": goals,
    }
