"""The Council's two windows of a program, counted in Thai days: its year from the approval (seed 004 §2.5) and the
30 days after its end within which the results report and the certificates go to the Council (§3.3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.calendar import last_day_for_certificates, last_day_of_program
from models.programs import Program


@dataclass(frozen=True)
class Window:
    """A span of Thai days, both ends included, as seen on `today`."""

    opens_on: date
    last_day: date
    today: date

    @property
    def days_left(self) -> int:
        """Days from today to the last day: 0 on the last day, negative once it has passed."""
        return (self.last_day - self.today).days

    @property
    def passed(self) -> bool:
        return self.today > self.last_day

    @property
    def days_since_passed(self) -> int:
        return max(0, -self.days_left)


def program_year(program: Program, today: date) -> Window | None:
    """The program's year from the Council's approval, or None before it is approved."""
    if program.approved_on is None:
        return None
    return Window(program.approved_on, last_day_of_program(program.approved_on), today)


def certificate_window(program: Program, today: date) -> Window | None:
    """The 30 days after the program's end (day 0 is the end, day 30 the last), or None before it ends."""
    if program.ended_on is None:
        return None
    return Window(program.ended_on, last_day_for_certificates(program.ended_on), today)
