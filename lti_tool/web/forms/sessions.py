"""The form of an element session: which cycle and element, when, how long, who came, notes (the files are read by
web/views/evidence.py)."""

from __future__ import annotations

from lti_tool.services.sessions import SessionEntry
from lti_tool.web import messages
from lti_tool.web.forms.base import PlcForm
from lti_tool.web.forms.fields import Day, DecimalNumber, Text, WholeNumber, WholeNumbers
from models.corrections import MAX_REASON_CHARS

NOTES_LIMIT = 4000  # the most characters of notes kept (a Text column has no length of its own)
NOT_A_NUMBER = messages.SESSION_PROBLEMS["not_a_number"]


class SessionForm(PlcForm):
    cycle = WholeNumber(message=NOT_A_NUMBER)
    element = WholeNumber(message=NOT_A_NUMBER)
    held_on = Day(message=messages.SESSION_PROBLEMS["not_a_date"])
    hours = DecimalNumber(message=NOT_A_NUMBER)
    attendee = WholeNumbers(message=messages.SESSION_PROBLEMS["not_in_team"])
    notes = Text(cut_at=NOTES_LIMIT)
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

    reason = Text(cut_at=MAX_REASON_CHARS + 1)  # one over the limit, so the rule refuses it rather than cutting it


class WithdrawForm(PlcForm):
    reason = Text(cut_at=MAX_REASON_CHARS + 1)
