"""How the dashboard writes what its tables and charts show: names in reading order, years in the Buddhist Era, rows
of figures, competencies, mean levels and their change (the page, its CSV exports and the results pages share them)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _

from models import dashboard as stats
from models import dashboard_learning as learning
from models.calendar import buddhist_era


def in_name_order(name: str) -> tuple[Any, ...]:
    """Names in the order a reader expects: a number within a name by its value (จังหวัด 2 before จังหวัด 10)."""
    return tuple(int(part) if n % 2 else part for n, part in enumerate(re.split(r"(\d+)", name)))


def year_label(year: int) -> str:
    """A program year: พ.ศ. in Thai, the common era in English."""
    locale = str(get_locale() or "th")
    return f"{buddhist_era(year)}" if locale.startswith("th") else str(year)


def figure_cells(row: stats.Figures) -> list[Any]:
    """A row of figures as the tables give it, in the order of the headings (FIGURE_HEADINGS of the page)."""
    return [
        row.programs,
        row.programs_running,
        row.teams,
        row.teachers,
        row.cycles_completed,
        row.teachers_eligible,
        row.teacher_hours,
    ]


def goal_cells(row: stats.Figures) -> list[Any]:
    """A row of the goals table: cycles counted, met, not met, not reported."""
    return [row.goals_counted, row.goals_met, row.goals_not_met, row.goals_not_reported]


def competency_name(coverage: learning.CompetencyCoverage | learning.AssessedGrowth) -> str:
    """A competency by its code and its name in the page's language."""

    locale = "th" if str(get_locale() or "th").startswith("th") else "en"
    return f"{coverage.code} {coverage.name.get(locale, coverage.code)}"


def mean(value: Decimal | None, withheld: bool = False) -> Any:
    """A mean self-assessed level, or why it is not shown."""
    if withheld:  # too few teachers: the mean would be a person's own rating
        return str(_("withheld: fewer than %(n)s teachers", n=learning.GROWTH_MIN_TEACHERS))
    return value if value is not None else "—"


def change(value: Decimal | None) -> Any:
    """A change of mean level, signed."""
    return f"{value:+.2f}" if value is not None else "—"
