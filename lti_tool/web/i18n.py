"""Thai and English: locale choice, the Buddhist Era date, and messages shown in both languages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask import Flask, g, request
from flask_babel import Babel, force_locale, get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from lti_tool.settings import Settings
from models.calendar import THAI_ZONE_NAME, buddhist_year
from models.forms import FormField

LOCALES = ("th", "en")
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def select_locale() -> str:
    chosen = request.args.get("lang")
    if chosen in LOCALES:
        return chosen
    session_locale = getattr(g, "plc_locale", None)
    if session_locale in LOCALES:
        return str(session_locale)
    return request.accept_languages.best_match(LOCALES) or g.get("plc_default_locale", "th")


def init_app(app: Flask, settings: Settings) -> None:
    default = settings.default_locale
    app.config["BABEL_DEFAULT_LOCALE"] = default
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.config["BABEL_DEFAULT_TIMEZONE"] = settings.timezone
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters["be_datetime"] = lambda value: format_datetime_local(value, settings.timezone)
    app.jinja_env.filters["be_date"] = format_date_local
    app.jinja_env.filters["figure"] = format_figure
    app.jinja_env.globals["answer_text"] = format_answer
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or default)
    app.context_processor(catalog_for_render)


def format_figure(value: Any) -> Any:
    """A table's number with its thousands grouped (364,270.00; Thai writes numbers so too), its decimals kept;
    anything else as it is. The CSV exports keep the bare numbers."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return value
    return f"{value:,}"


def catalog_for_render() -> dict[str, Any]:
    """The templates' `_` bound to this request's catalog for one render. Flask-Babel's own looks the locale, domain
    and catalog up through the request context again at every call, a few dozen a page; this one reads the catalog
    once. The same text: Jinja's newstyle gettext (the catalog's text, escaped when autoescaping, formatted with the
    variables even when there are none)."""
    translations = get_translations()

    @pass_context
    def gettext(context: Context, string: str, **variables: Any) -> str:
        text: str = translations.ugettext(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return {"_": gettext, "gettext": gettext}


def format_datetime_local(value: datetime, zone: str = THAI_ZONE_NAME, locale: str | None = None) -> str:
    """A date and time in the person's zone; in Thai the year is in the Buddhist Era (พ.ศ. = ค.ศ. + 543)."""
    locale = locale or str(get_locale() or "th")
    local = value.astimezone(ZoneInfo(zone))
    time_text = format_time(local, "HH:mm", locale=locale)
    if locale.startswith("th"):
        return f"{format_date(local, 'd MMMM', locale='th')} พ.ศ. {buddhist_year(local)} {time_text} น."
    return f"{format_date(local, 'd MMMM y', locale='en')} {time_text}"


def format_date_local(value: date, locale: str | None = None) -> str:
    """A calendar date; in Thai the year is in the Buddhist Era: 22 พฤศจิกายน 2569."""
    locale = locale or str(get_locale() or "th")
    if locale.startswith("th"):
        return f"{format_date(value, 'd MMMM', locale='th')} {buddhist_year(value)}"
    return format_date(value, "d MMMM y", locale="en")


def format_answer(field: FormField, answer: str | None, locale: str | None = None) -> str:
    """A tracking form's answer as a reader sees it: a date field's ISO value as a date in the Buddhist Era in Thai
    (22 มีนาคม 2569), a readable date in English; a choice by its label (free text from before kept beside it); any
    other answer as typed."""
    day = field.answer_date(answer)
    if day is not None:
        return format_date_local(day, locale)
    lang = "th" if (locale or str(get_locale() or "th")).startswith("th") else "en"
    return field.answer_text(answer or "", lang)


def both_languages(message: Callable[[], str]) -> dict[str, str]:
    """Render a message in Thai and in English, for pages shown before we know who is reading."""
    with force_locale("th"):
        thai = message()
    with force_locale("en"):
        english = message()
    return {"message_th": thai, "message_en": english}
