"""The fields our forms are made of: text with the spaces around it taken off, numbers, days and lists of people
typed as text (each refused with the message its form gives when the text is not one), and rows of repeated inputs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from wtforms import Form
from wtforms.fields import Field, StringField
from wtforms.validators import ValidationError
from wtforms.widgets import TextInput


class Text(StringField):
    """Text without the spaces around it. With `cut_at`, longer text is cut to that many characters without a word
    (the pages have always done so with an over-long name); `AtMost` refuses it instead."""

    def __init__(
        self, label: str | None = None, validators: Any = None, *, cut_at: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.cut_at = cut_at

    def process_formdata(self, valuelist: list[str]) -> None:
        value = valuelist[0].strip() if valuelist else ""
        self.data = value[: self.cut_at] if self.cut_at is not None else value


class AtMost:
    """Refuse text longer than `most` characters; `message` takes %(most)s."""

    def __init__(self, most: int, message: Any) -> None:
        self.most, self.message = most, message

    def __call__(self, form: Form, field: Field) -> None:
        if len(field.data or "") > self.most:
            raise ValidationError(str(self.message) % {"most": self.most})


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
