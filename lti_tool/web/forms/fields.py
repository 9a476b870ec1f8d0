"""The fields our forms are made of: text with the spaces around it taken off, numbers, days and lists of people
typed as text (each refused with the message its form gives when the text is not one), and rows of repeated inputs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from wtforms import Form
from wtforms.fields import Field, StringField
from wtforms.fields.core import UnboundField
from wtforms.validators import ValidationError
from wtforms.widgets import TextInput


class Text(StringField):
    """Text without the spaces around it, kept whole: a limit is an `AtMost` that refuses longer text beside the
    field (the page shows it again as typed), never a cut."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = valuelist[0].strip() if valuelist else ""


class AtMost:
    """Refuse text longer than `most` characters; `message` takes %(most)s."""

    def __init__(self, most: int, message: Any) -> None:
        self.most, self.message = most, message

    def __call__(self, form: Form, field: Field) -> None:
        if len(field.data or "") > self.most:
            raise ValidationError(str(self.message) % {"most": f"{self.most:,}"})


def limited(most: int, message: Any, *validators: Any) -> Text:
    """A text field that holds at most `most` characters and refuses more with `message` (which takes %(most)s)."""
    return Text(validators=[*validators, AtMost(most, message)])


def text_limits(form: type[Form]) -> dict[str, int]:
    """The most characters each limited text field of a form class holds, by field name, for the page to show
    (`maxlength` and the printed limit) from the same number the form checks."""
    found: dict[str, int] = {}
    for name in dir(form):
        field = getattr(form, name, None)
        if isinstance(field, UnboundField):
            for check in field.kwargs.get("validators") or ():
                if isinstance(check, AtMost):
                    found[name] = check.most
    return found


class ParsedText(Field):
    """Text read as a value by `parse`; an empty field is `if_empty` when one is given, else refused like bad text."""

    widget = TextInput()
    parse: Callable[[str], Any]

    def __init__(self, label: str | None = None, validators: Any = None, *, message: Any, if_empty: Any = None,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(label, validators, **kwargs)
        self.message, self.if_empty = message, if_empty

    def process_formdata(self, valuelist: list[str]) -> None:
        raw = valuelist[0] if valuelist else ""
        if not raw.strip() and self.if_empty is not None:
            self.data = self.if_empty
            return
        try:
            self.data = type(self).parse(raw)
        except (ValueError, ArithmeticError) as bad:
            self.data = None
            raise ValueError(self.message) from bad


class WholeNumber(ParsedText):
    parse = staticmethod(int)  # spaces around the number are allowed, as int() allows them


class DecimalNumber(ParsedText):
    parse = staticmethod(Decimal)  # so does Decimal()


class Day(ParsedText):
    """A day as the date input sends it (YYYY-MM-DD)."""

    parse = staticmethod(date.fromisoformat)


class WholeNumbers(Field):
    """Every value of a repeated field (ticked checkboxes) as whole numbers; one that is not refuses them all."""

    def __init__(self, label: str | None = None, validators: Any = None, *, message: Any, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            self.data = [int(value) for value in valuelist]
        except ValueError as bad:
            self.data = []
            raise ValueError(self.message) from bad


class StringList(Field):
    """Every value posted under the field's name, in order: a form that repeats an input once per row."""

    data: list[str]

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = [str(value) for value in valuelist]
