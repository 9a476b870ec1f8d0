"""The forms of the program's pages: its set-up, a step through the Council's states, and a new team."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from wtforms.fields import StringField
from wtforms.validators import DataRequired

from lti_tool.web import messages
from lti_tool.web.forms.base import PlcForm, column_length
from lti_tool.web.forms.fields import Day, DecimalNumber, Text, WholeNumber, WholeNumbers, limited
from models.programs import MIN_CYCLES, Program, ProgramDetails
from models.teams import Team

NOT_A_NUMBER = messages.PROGRAM_PROBLEMS["not_a_number"]
TOO_LONG = messages.PROGRAM_PROBLEMS["too_long"]


class ProgramForm(PlcForm):
    """The program's details as the Council's application form asks for them."""

    name = limited(column_length(Program.name), TOO_LONG)
    agency = limited(column_length(Program.agency), TOO_LONG)
    school_or_network = limited(column_length(Program.school_or_network), TOO_LONG)
    planned_cycles = WholeNumber(message=NOT_A_NUMBER, if_empty=MIN_CYCLES)
    min_hours = DecimalNumber(message=NOT_A_NUMBER, if_empty=Decimal(0))
    learning_area = limited(column_length(Program.learning_area), TOO_LONG)
    grade_level = limited(column_length(Program.grade_level), TOO_LONG)

    def details(self) -> ProgramDetails:
        """The details entered; a number that could not be read counts as its default."""
        cycles, hours = self.planned_cycles.data, self.min_hours.data
        return ProgramDetails(
            name=self.name.data,
            agency=self.agency.data,
            school_or_network=self.school_or_network.data,
            planned_cycles=MIN_CYCLES if cycles is None else cycles,
            min_hours=Decimal(0) if hours is None else hours,
            learning_area=self.learning_area.data,
            grade_level=self.grade_level.data,
        )

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields, then the program's own rules on the details (models.programs.ProgramDetails.problems), so
        that every field shows its first problem at once."""
        super().validate(extra_validators)
        for field, message in messages.field_problems(self.details().problems(), messages.PROGRAM_PROBLEMS).items():
            if not self[field].errors:
                self[field].errors.append(message)
        return not self.problems()


class DayIfKnown(Day):
    """A day, or None when the field is left empty (or not sent): a day that is not known."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not (valuelist[0] if valuelist else "").strip():
            self.data = None
            return
        super().process_formdata(valuelist)


class ProgramStepForm(PlcForm):
    """A step of the program through the Council's states; the submission comes with its date (a submission without
    one is of a day not known). The approval is a weighty step with its own confirmation (ConfirmStepForm)."""

    action = StringField()  # taken as it comes: a step is named exactly
    submitted_on = DayIfKnown(message=messages.PROGRAM_PROBLEMS["not_a_date"])


class TeamForm(PlcForm):
    """A new team: its name and the teachers chosen for it."""

    name = limited(column_length(Team.name), TOO_LONG, DataRequired(messages.PROGRAM_PROBLEMS["required"]))
    member = WholeNumbers(message=messages.REFUSALS["not_in_course"])


class ConfirmStepForm(PlcForm):
    """The confirmation of a weighty step on the program: its reason, kept whole (never cut); for the approval the
    Council's letter number and date, for a corrected approval the new date."""

    reason = Text()
    approved_on = Day(message=messages.PROGRAM_PROBLEMS["not_a_date"])
    council_letter_number = Text()  # its length is the rule's (models.plan_versions), refused beside the field
