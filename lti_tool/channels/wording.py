"""What a notice says, in the reader's language: one title and one line per kind, the same words in the notice list,
the LINE message and the e-mail. The texts are in the tool's catalog (marked here for extraction) and read through a
Babel `Translations`, so a worker with no Flask request words them as the pages do."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from babel.dates import format_date
from babel.support import NullTranslations, Translations

from models.calendar import buddhist_year
from models.notices import Kind

DATE_PARAMS = ("last_day", "lesson_date")
CATALOG = Path(__file__).resolve().parent.parent / "translations"


def _(text: str) -> str:
    """Marks a text for the catalog; it is translated when a notice is worded."""
    return text


class Gettext(Protocol):
    def gettext(self, message: str) -> str: ...


TITLES: dict[str, str] = {
    Kind.OBSERVATION_SUBMITTED: _("An observation of your lesson arrived"),
    Kind.OBSERVATION_MISSING: _("Your observation is missing"),
    Kind.REFLECTION_GRADED: _("Your reflection was graded"),
    Kind.ELEMENTS_NOT_RECORDED: _("Elements not recorded yet"),
    Kind.TRAINER_DIGEST: _("Today in your PLC programs"),
    Kind.YEAR_ENDING: _("The program year ends soon"),
    Kind.CERTIFICATE_WINDOW_ENDING: _("The Council's 30 days for certificates end soon"),
    Kind.CERTIFICATE_ISSUED: _("Your certificate was issued"),
}

LINES: dict[str, str] = {
    Kind.OBSERVATION_SUBMITTED: _(
        "A ครูร่วมการเรียนรู้ submitted the observation of your lesson in cycle {cycle}. Open it to read what the "
        "students did."
    ),
    Kind.OBSERVATION_MISSING: _(
        "The lesson of cycle {cycle} was taught on {lesson_date}; your observation of it is not submitted yet."
    ),
    Kind.REFLECTION_GRADED: _("Your reflection on cycle {cycle} was graded: {score} of {max_score}."),
    Kind.ELEMENTS_NOT_RECORDED: _("Cycle {cycle} of your กลุ่ม PLC still has {count} elements not recorded."),
    Kind.TRAINER_DIGEST: _("{waiting} reflections wait for a grade; {near} programs are near a deadline."),
    Kind.YEAR_ENDING: _("The year of the program “{program}” ends in {days} days, on {last_day}."),
    Kind.CERTIFICATE_WINDOW_ENDING: _(
        "The Council's 30 days to send the certificates of “{program}” end in {days} days, on {last_day}."
    ),
    Kind.CERTIFICATE_ISSUED: _(
        "Your certificate of the program “{program}” was issued; anyone can check it at {verify_url}"
    ),
}

COMMENT = _("Comment: {comment}")
OPEN_LINK = _("Open it in PLC Bridge (through your course in the LMS):")
EMAIL_FOOTER = _(
    "You receive this because the PLC Bridge of your course sends notices by e-mail. Switch each kind off on the "
    "notice settings page of the tool."
)


@dataclass(frozen=True)
class Wording:
    title: str
    text: str  # the line, with the comment of a grade after it when there is one


@functools.lru_cache(maxsize=8)
def translations(locale: str = "th") -> Gettext:
    """The catalog for `locale` (English: the texts as they are), read once per process."""
    if locale.startswith("en"):
        return NullTranslations()
    return Translations.load(str(CATALOG), [locale])


def day_text(value: str, locale: str) -> str:
    """An ISO date as a reader writes it: 1 มิถุนายน 2570 in Thai (the Buddhist Era), 1 June 2027 in English."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    if locale.startswith("th"):
        return f"{format_date(day, 'd MMMM', locale='th')} {buddhist_year(day)}"
    return format_date(day, "d MMMM y", locale="en")


def word(kind: str, params: dict[str, Any], texts: Gettext, verify_url: str = "", locale: str = "th") -> Wording:
    """The notice's title and text, with its numbers and dates filled in (never another person's words: the only
    free text is a grade's comment, which the grader wrote for this reader)."""
    title = texts.gettext(TITLES.get(kind, kind))
    values = {**params, "verify_url": verify_url}
    for key in DATE_PARAMS:
        if isinstance(values.get(key), str):
            values[key] = day_text(values[key], locale)
    try:
        text = texts.gettext(LINES[kind]).format(**values) if kind in LINES else ""
    except (KeyError, IndexError):
        text = ""
    comment = str(params.get("comment") or "").strip()
    if kind == Kind.REFLECTION_GRADED and comment:
        text += "\n" + texts.gettext(COMMENT).format(comment=comment)
    return Wording(title, text)
