"""The curriculum's lists and the ways of measuring a target, as the pages offer and name them, in the page's
language (models/curriculum.py, models/measures.py)."""

from __future__ import annotations

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from models import curriculum, measures

MEASURE_KINDS = {
    measures.PERCENT_REACHING: _l("Percentage of pupils reaching a level"),
    measures.MEAN_SCORE: _l("Mean score out of N"),
    measures.COUNT: _l("Number of pupils"),
}


def _locale() -> str:
    return "th" if str(get_locale() or "th").startswith("th") else "en"


def choices(kind: str) -> list[tuple[str, str]]:
    return curriculum.choices(kind, _locale())


def label(kind: str, value: str) -> str:
    return curriculum.label(kind, value, _locale())


def listed(kind: str, value: str) -> bool:
    return curriculum.listed(kind, value)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        curriculum_choices=choices,
        curriculum_label=label,
        curriculum_listed=listed,
        measure_kinds=MEASURE_KINDS,
    )
