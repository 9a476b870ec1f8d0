"""The read log's search (a GET form: it changes nothing, so it carries no form token): part of a reader's or a
person read's name, and a range of days."""

from __future__ import annotations

from typing import Any

from wtforms import Form
from wtforms.validators import ValidationError

from lti_tool.web import messages
from lti_tool.web.forms.base import column_length
from lti_tool.web.forms.fields import Day, Text, limited
from models.people import Person
from models.read_log import ReadSearch

PROBLEMS = messages.READ_LOG_PROBLEMS


class ReadLogSearch(Form):
    reader: Text = limited(column_length(Person.name), PROBLEMS["too_long"])
    subject: Text = limited(column_length(Person.name), PROBLEMS["too_long"])
    since = Day(message=PROBLEMS["not_a_date"], if_empty="")
    until = Day(message=PROBLEMS["not_a_date"], if_empty="")

    def validate_until(self, field: Any) -> None:
        if self.since.data and field.data and field.data < self.since.data:
            raise ValidationError(str(PROBLEMS["backwards"]))

    def problems(self) -> dict[str, str]:
        return {name: str(errors[0]) for name, errors in self.errors.items() if errors}

    def search(self) -> ReadSearch:
        """What to look for, once validated; a field that was refused is left out of the search."""
        refused = self.errors
        return ReadSearch(
            reader="" if "reader" in refused else self.reader.data or "",
            subject="" if "subject" in refused else self.subject.data or "",
            since=None if "since" in refused else self.since.data or None,
            until=None if "until" in refused else self.until.data or None,
        )
