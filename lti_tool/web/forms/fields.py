"""Field types and filters that our forms share: repeated inputs read as one list, text trimmed (and, where a page
has always done so, silently cut), and a length limit that says the limit in the page's own words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wtforms import Form
from wtforms.fields import Field
from wtforms.validators import ValidationError


class StringList(Field):
    """Every value posted under the field's name, in order: a form that repeats an input once per row."""

    data: list[str]

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = [str(value) for value in valuelist]


def stripped(value: str | None) -> str:
    """The text without surrounding white space ('' for a field the browser did not send)."""
    return (value or "").strip()


def cut(length: int) -> Callable[[str | None], str]:
    """A filter: the text stripped, and silently cut to `length` characters (the page has always kept just that
    much instead of refusing longer text)."""

    def cut_text(value: str | None) -> str:
        return stripped(value)[:length]

    return cut_text


class AtMost:
    """A validator: at most `most` characters, refused with `message` (a msgid with `%(most)s`)."""

    def __init__(self, most: int, message: Any) -> None:
        self.most, self.message = most, message

    def __call__(self, form: Form, field: Field) -> None:
        if len(field.data or "") > self.most:
            raise ValidationError(str(self.message) % {"most": self.most})
