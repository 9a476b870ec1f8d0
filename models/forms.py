"""The tracking forms that the source documents name (seed 000), built from templates in `config/forms/`, and the
answers a team keeps per cycle. The Buddy-observation form's template lives there too; its answers are
`models.observations.Observation` rows."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, utcnow
from models.calendar import last_day_of_program
from models.catalog import CONFIG_DIR
from models.cycles import Cycle, open_cycle
from models.errors import InvalidInput, Problem
from models.people import Membership
from models.programs import check_recording_allowed
from models.scope import register_scope_path
from models.teams import Team, may_record_for_team

MAX_ANSWER_CHARS = 8000
FIELD_KINDS = frozenset({"text", "textarea", "number", "date", "choice"})
# The results report (seed 000, process 8): whether the cycle met its goal, and what the team will improve, which the
# next cycle's problem reflection starts from.
RESULTS_FORM = "results-report"
GOAL_FIELD, IMPROVEMENTS_FIELD = "goal_met", "improvements"
GOAL_MET, GOAL_NOT_MET = "met", "not_met"  # the two outcomes of seed 000's process 8, as the goal field stores them
# Said in documents beside free text kept from before a field became a choice (pages say it through Babel).
NOT_A_CHOICE = {"th": "ไม่ได้บันทึกเป็นตัวเลือก", "en": "not recorded as a choice"}


@dataclass(frozen=True)
class Choice:
    """One answer a choice field offers: the value stored, its label, and the free text that plainly meant it
    before the field was a choice (`earlier`, compared without case, spaces, punctuation or remarks in brackets)."""

    value: str
    label: dict[str, str]
    earlier: tuple[str, ...] = ()


def _plain(text: str) -> str:
    """Free text reduced for comparison: no remark in brackets, no punctuation or spaces, lower case."""
    text = re.sub(r"\([^)]*\)", "", text)
    return "".join(ch for ch in text.casefold() if ch.isalnum() or unicodedata.category(ch).startswith("M"))


@dataclass(frozen=True)
class FormField:
    id: str
    kind: str
    label: dict[str, str]
    help: dict[str, str]
    required: bool
    options: tuple[Choice, ...] = ()

    def option(self, answer: str) -> Choice | None:
        """The option an answer stands for: its value, or free text from before the field was a choice that plainly
        names one option; None for anything else (such text is kept and shown as "not recorded as a choice")."""
        for choice in self.options:
            if answer == choice.value:
                return choice
        plain = _plain(answer)
        if not plain:
            return None
        for choice in self.options:
            if plain in {_plain(word) for word in choice.earlier}:
                return choice
        return None

    def answer_text(self, answer: str, lang: str) -> str:
        """An answer as a reader sees it: a choice by its label (free text from before kept beside it), else as typed."""
        if self.kind != "choice" or not answer:
            return answer
        choice = self.option(answer)
        if choice is None:
            return f"{answer} ({NOT_A_CHOICE[lang]})"
        return choice.label[lang] if answer == choice.value else f"{choice.label[lang]} (“{answer}”)"

    def answer_date(self, answer: str | None) -> date | None:
        """The day a date field's answer names (kept as ISO 8601, 2026-03-22), so that pages can write it as a Thai
        reader does; None for another kind of field or an answer that is not a date."""
        if self.kind != "date" or not answer:
            return None
        try:
            return date.fromisoformat(answer.strip())
        except ValueError:
            return None


@dataclass(frozen=True)
class FormTemplate:
    """One form as the agency configures it: its fields, the element it belongs to, the seed-000 steps it serves."""

    slug: str
    title: dict[str, str]
    source: dict[str, str]
    element: int
    steps: tuple[int, ...]
    fields: tuple[FormField, ...]

    def field(self, field_id: str) -> FormField:
        for item in self.fields:
            if item.id == field_id:
                return item
        raise KeyError(field_id)


def _load(document: dict[str, Any]) -> FormTemplate:
    fields = []
    for raw in document["fields"]:
        if raw["kind"] not in FIELD_KINDS:
            raise ValueError(f"form {document['slug']}: field {raw['id']} has unknown kind {raw['kind']!r}")
        options = tuple(
            Choice(str(o["value"]), o["label"], tuple(o.get("earlier", ()))) for o in raw.get("options", ())
        )
        if (raw["kind"] == "choice") != bool(options):
            raise ValueError(f"form {document['slug']}: field {raw['id']} needs options exactly when it is a choice")
        fields.append(
            FormField(
                raw["id"],
                raw["kind"],
                raw["label"],
                raw.get("help", {"th": "", "en": ""}),
                raw.get("required", False),
                options,
            )
        )
    return FormTemplate(
        slug=document["slug"],
        title=document["title"],
        source=document.get("source", {"th": "", "en": ""}),
        element=int(document["element"]),
        steps=tuple(document.get("steps", ())),
        fields=tuple(fields),
    )


@cache
def form_templates() -> dict[str, FormTemplate]:
    """Every form template in config/forms, by slug, in the order the cycle uses them."""
    loaded = [_load(json.loads(item.read_text(encoding="utf-8"))) for item in (CONFIG_DIR / "forms").glob("*.json")]
    return {t.slug: t for t in sorted(loaded, key=lambda t: (t.element, min(t.steps, default=0), t.slug))}


TEAM_FORMS = ("problem-reflection", "operation-tracking", "results-report")
OBSERVATION_FORM = "buddy-observation"


class FormEntry(Base):
    """A team's answers to one tracking form in one cycle; any member may update them, the last edit is kept."""

    __tablename__ = "plc_form_entries"
    __table_args__ = (UniqueConstraint("cycle_id", "form"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("plc_cycles.id", ondelete="CASCADE"))
    form: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    cycle: Mapped[Cycle] = relationship()


register_scope_path(FormEntry, (FormEntry.cycle, Cycle.team, Team.program))


def answer_problems(
    template: FormTemplate, answers: dict[str, str], year: tuple[date, date] | None = None
) -> list[Problem]:
    """What is wrong with each answer; with the program's `year` (first and last day), a date outside it too."""
    found: list[Problem] = []
    for item in template.fields:
        value = answers.get(item.id, "").strip()
        if item.required and not value:
            found.append(Problem(item.id, "required", {}))
        elif len(value) > MAX_ANSWER_CHARS:
            found.append(Problem(item.id, "too_long", {"most": MAX_ANSWER_CHARS}))
        elif value and item.kind == "choice" and value not in {choice.value for choice in item.options}:
            found.append(Problem(item.id, "not_a_choice", {}))
        elif value and item.kind == "number":
            try:
                float(value)
            except ValueError:
                found.append(Problem(item.id, "not_a_number", {}))
        elif value and item.kind == "date":
            try:
                day = date.fromisoformat(value)
            except ValueError:
                found.append(Problem(item.id, "not_a_date", {}))
                continue
            if year is not None and not year[0] <= day <= year[1]:
                found.append(Problem(item.id, "outside_program_year", {"first": year[0], "last": year[1]}))
    return found


def save_form(
    db: Session, team: Team, cycle_number: int, slug: str, answers: dict[str, str], writer: Membership, today: date
) -> FormEntry:
    """Keep a team's answers to a tracking form; unknown fields are ignored, known ones validated."""
    check_recording_allowed(team.program, today)
    template = form_templates().get(slug)
    if template is None or slug not in TEAM_FORMS:
        raise InvalidInput([Problem("form", "unknown", {"form": slug})])
    if not may_record_for_team(writer, team):
        raise InvalidInput([Problem("form", "not_in_team", {})])
    by_id = writer.id
    clean = {item.id: answers.get(item.id, "").strip() for item in template.fields}
    program = team.program
    year = (program.approved_on, last_day_of_program(program.approved_on)) if program.approved_on else None
    if problems := answer_problems(template, clean, year):
        raise InvalidInput(problems)
    cycle = open_cycle(db, team, cycle_number, today)
    entry = db.scalars(select(FormEntry).where(FormEntry.cycle_id == cycle.id, FormEntry.form == slug)).one_or_none()
    if entry is None:
        entry = FormEntry(cycle=cycle, form=slug, updated_by_id=by_id)
        db.add(entry)
    entry.answers = clean
    entry.updated_by_id = by_id
    db.flush()
    return entry


def form_entries(db: Session, cycle: Cycle) -> dict[str, FormEntry]:
    return {e.form: e for e in db.scalars(select(FormEntry).where(FormEntry.cycle_id == cycle.id))}


def forms_filled(db: Session, cycle_id: int) -> frozenset[str]:
    """The forms of a cycle that have an entry, by name (without reading the entries)."""
    return frozenset(db.scalars(select(FormEntry.form).where(FormEntry.cycle_id == cycle_id)))


@dataclass(frozen=True)
class CarriedOver:
    """What the results report of a team's previous cycle said it will improve: the next cycle starts from it."""

    cycle: int
    improvements: str
    goal: Choice | None
    goal_answer: str


def carried_over(db: Session, team: Team, number: int) -> CarriedOver | None:
    """The previous cycle's "what we will improve" (seed 000, process 8: improve and try again), for cycle `number`
    of `team`; None for the first cycle, or when that results report is not saved or leaves it empty."""
    previous = next((c for c in team.cycles if c.number == number - 1), None)
    if previous is None:
        return None
    entry = form_entries(db, previous).get(RESULTS_FORM)
    improvements = entry.answers.get(IMPROVEMENTS_FIELD, "").strip() if entry else ""
    if entry is None or not improvements:
        return None
    goal_answer = entry.answers.get(GOAL_FIELD, "").strip()
    return CarriedOver(previous.number, improvements, goal_field().option(goal_answer), goal_answer)


def goal_field() -> FormField:
    """The results report's "was the goal met" choice."""
    return form_templates()[RESULTS_FORM].field(GOAL_FIELD)


FREE_TEXT_KINDS = frozenset({"text", "textarea"})


def free_text_fields(slug: str) -> frozenset[str]:
    """The fields of a form where people write their own words: what an erasure and the retention run remove (the
    choices, dates and numbers stay, for the dashboard and the Council's figures). Empty for a form no longer
    configured: nothing of it is known to be free text."""
    template = form_templates().get(slug)
    if template is None:
        return frozenset()
    return frozenset(f.id for f in template.fields if f.kind in FREE_TEXT_KINDS)
