"""The form of an element session: which cycle and element, when, how long, who came, notes (the files are read by
web/views/evidence.py)."""

from __future__ import annotations

from lti_tool.services.sessions import SessionEntry
from lti_tool.web import messages
from lti_tool.web.forms.base import PlcForm
from lti_tool.web.forms.fields import Day, DecimalNumber, Text, WholeNumber, WholeNumbers, limited
from models.corrections import MAX_REASON_CHARS

NOTES_LIMIT = 4000  # the most characters of notes (a Text column has no length of its own); more is refused
NOT_A_NUMBER = messages.SESSION_PROBLEMS["not_a_number"]


class SessionForm(PlcForm):
    cycle = WholeNumber(message=NOT_A_NUMBER)
    element = WholeNumber(message=NOT_A_NUMBER)
    held_on = Day(message=messages.SESSION_PROBLEMS["not_a_date"])
    hours = DecimalNumber(message=NOT_A_NUMBER)
    attendee = WholeNumbers(message=messages.SESSION_PROBLEMS["not_in_team"])
    notes = limited(NOTES_LIMIT, messages.SESSION_PROBLEMS["too_long"])
    # Posted by "record anyway" on the page that showed a session like this one: record it without asking again.
    confirm_duplicate = Text()

    def entry(self) -> SessionEntry:
        return SessionEntry(
            cycle_number=self.cycle.data,
            element=self.element.data,
            held_on=self.held_on.data,
            hours=self.hours.data,
            attendee_ids=self.attendee.data,
            notes=self.notes.data,
            check_duplicates=self.confirm_duplicate.data != "1",
        )


class CorrectionForm(SessionForm):
    """Every field of a recorded session again, and the reason for the change (the rules say when it is needed)."""

    reason = limited(MAX_REASON_CHARS, messages.SESSION_PROBLEMS["too_long"])


class WithdrawForm(PlcForm):
    reason = limited(MAX_REASON_CHARS, messages.SESSION_PROBLEMS["too_long"])
