"""The confirmation of a program's cancellation: the reason, who cancels (the agency or the Council), and the Council's
letter (whose rules are the cancellation's, models/cancellations.py)."""

from __future__ import annotations

from lti_tool.web import messages
from lti_tool.web.forms.fields import Text
from lti_tool.web.forms.program import ConfirmStepForm, DayIfKnown
from models.cancellations import CancellationDetails


class CancelForm(ConfirmStepForm):
    cancelled_by = Text()
    letter_number = Text()
    letter_date = DayIfKnown(message=messages.PROGRAM_PROBLEMS["not_a_date"])

    def details(self) -> CancellationDetails:
        """What was posted; a letter date that could not be read is None (and refused beside its field first)."""
        return CancellationDetails(
            cancelled_by=self.cancelled_by.data,
            reason=self.reason.data,
            letter_number=self.letter_number.data,
            letter_date=self.letter_date.data,
        )
