"""Weighty steps ask first: one confirmation page (templates/confirm.html) that says what follows in the Council's
terms and what it means for people, and posts with its own token. Going back changes nothing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from lti_tool.web import messages
from models.facts import program_eligibility
from models.programs import Program


@dataclass(frozen=True)
class Input:
    """A field the confirmation asks for (a reason, a date); its value comes back when the step is refused."""

    name: str
    label: str
    kind: str = "textarea"  # or "date", "text", "radio"
    value: str = ""
    error: str = ""
    maxlength: int | None = None
    max: str = ""
    min: str = ""
    field_id: str = ""  # the element id, when it is not the name (e.g. one certificate's reason: reason-<id>)
    options: tuple[tuple[str, str], ...] = ()  # a radio's (value, label) pairs
    hint: str = ""  # when the field applies, say

    @property
    def id(self) -> str:
        return self.field_id or self.name


@dataclass(frozen=True)
class Confirmation:
    title: str
    follows: list[str]  # what follows, in the Council's terms
    action: str  # the address of the page's own POST, which alone takes the step
    csrf: str
    button: str
    back: str  # where "go back" leads (a GET: nothing changes)
    people: list[str] = field(default_factory=list)  # what it means for the people in the program
    inputs: list[Input] = field(default_factory=list)
    refusal: str = ""
    weighty: bool = True  # the step cannot simply be undone: the button says so by its look


def render(confirmation: Confirmation, status: int = 200) -> tuple[str, int]:
    return render_template("confirm.html", c=confirmation), status


def not_eligible(db: Session, program: Program) -> list[str]:
    """What the eligibility rule says of the program's teachers now, e.g. "2 of 5 teachers would not be eligible:
    3 complete cycles missing" (counted by each teacher's first reason)."""
    results = program_eligibility(db, program)
    if not results:
        return [_("The program has no teachers in teams.")]
    short = [e for e in results.values() if not e.eligible]
    if not short:
        return [_("All %(num)s teachers meet the Council's requirements for a certificate.", num=len(results))]
    lines = [
        _(
            "%(short)s of %(all)s teachers would not be eligible for a certificate:",
            short=len(short),
            all=len(results),
        )
    ]
    first: Counter[str] = Counter(e.reasons[0].code for e in short)
    for code, count in first.most_common():
        lines.append(_("%(num)s: %(reason)s", num=count, reason=messages.ELIGIBILITY_SUMMARIES.get(code, code)))
    return lines
