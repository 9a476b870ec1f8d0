"""The forms of the agency page (its details, which agency runs the program, its staff) and of the letters to the
Council (the agency's letter number and the letter's date)."""

from __future__ import annotations

from datetime import date
from typing import Any

from wtforms.fields import StringField

from lti_tool.services.letters import LETTER_NUMBER_LENGTH, LetterHead
from lti_tool.web import messages
from lti_tool.web.forms.base import PlcForm, column_length
from lti_tool.web.forms.fields import Day, WholeNumber, limited
from lti_tool.web.forms.program import DayIfKnown
from models.agencies import Agency, AgencyDetails, AgencyKind, AgencyStaff, StaffDetails

TOO_LONG = messages.AGENCY_PROBLEMS["too_long"]


class AgencyForm(PlcForm):
    """The agency as the guideline's §1 and its letters need it."""

    kind = StringField()  # one of AgencyKind, checked in validate()
    name = limited(column_length(Agency.name), TOO_LONG)
    address = limited(column_length(Agency.address), TOO_LONG)
    signatory_name = limited(column_length(Agency.signatory_name), TOO_LONG)
    signatory_position = limited(column_length(Agency.signatory_position), TOO_LONG)
    contact_unit = limited(column_length(Agency.contact_unit), TOO_LONG)
    telephone = limited(column_length(Agency.telephone), TOO_LONG)

    def details(self) -> AgencyDetails:
        kind = self.kind.data if self.kind.data in set(AgencyKind) else AgencyKind.OTHER
        return AgencyDetails(
            kind=AgencyKind(kind),
            name=self.name.data,
            address=self.address.data,
            signatory_name=self.signatory_name.data,
            signatory_position=self.signatory_position.data,
            contact_unit=self.contact_unit.data,
            telephone=self.telephone.data,
        )

    def validate(self, extra_validators: Any = None) -> bool:
        super().validate(extra_validators)
        if self.kind.data not in set(AgencyKind):
            self.kind.errors = [str(messages.AGENCY_PROBLEMS["unknown_kind"])]
        for field, message in messages.field_problems(self.details().problems(), messages.AGENCY_PROBLEMS).items():
            if not self[field].errors:
                self[field].errors.append(message)
        return not self.problems()


class ChooseAgencyForm(PlcForm):
    agency = WholeNumber(message=messages.AGENCY_PROBLEMS["unknown_agency"])


class StaffForm(PlcForm):
    """One of the agency's staff who lead PLC work, and their PLC training."""

    name = limited(column_length(AgencyStaff.name), TOO_LONG)
    position = limited(column_length(AgencyStaff.position), TOO_LONG)
    training = limited(column_length(AgencyStaff.training), TOO_LONG)
    trained_on = DayIfKnown(message=messages.AGENCY_PROBLEMS["not_a_date"])

    def details(self) -> StaffDetails:
        return StaffDetails(self.name.data, self.position.data, self.training.data, self.trained_on.data)

    def validate_for(self, today: date) -> bool:
        super().validate()
        problems = self.details().problems(today)
        for field, message in messages.field_problems(problems, messages.AGENCY_PROBLEMS).items():
            if not self[field].errors:
                self[field].errors.append(message)
        return not self.problems()


class LetterForm(PlcForm):
    """What the trainer types when printing a letter: its number (ที่) and its date."""

    number = limited(LETTER_NUMBER_LENGTH, TOO_LONG)
    dated = Day(message=messages.AGENCY_PROBLEMS["not_a_date"])

    def head(self) -> LetterHead:
        return LetterHead(self.number.data, self.dated.data)

    def validate(self, extra_validators: Any = None) -> bool:
        super().validate(extra_validators)
        for field, message in messages.field_problems(self.head().problems(), messages.AGENCY_PROBLEMS).items():
            if not self[field].errors:
                self[field].errors.append(message)
        return not self.problems()
