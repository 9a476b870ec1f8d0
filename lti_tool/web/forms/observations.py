"""The Buddy-observation form, built from its template in config/forms: one text input per template field (the
template's rules, in models/forms.py, say what is missing or too long) and the rows of notes on students."""

from __future__ import annotations

from functools import cache
from typing import ClassVar

from lti_tool.web import messages
from lti_tool.web.forms.base import PlcForm
from lti_tool.web.forms.fields import StringList, Text, limited
from models.corrections import MAX_REASON_CHARS
from models.forms import MAX_ANSWER_CHARS, OBSERVATION_FORM, FormTemplate, answer_problems, form_templates
from models.observations import ObservationForm

MAX_STUDENT_NOTES = 60
MAX_STUDENT_NAME = 120


class ObservationPost(PlcForm):
    """The posted observation; `observation_form()` adds a field per template field."""

    template: ClassVar[FormTemplate]
    student = StringList()
    note = StringList()

    def answers(self) -> dict[str, str]:
        return {item.id: self._fields[item.id].data for item in self.template.fields}

    def notes(self) -> list[dict[str, str]]:
        """The filled rows of student notes (a row left empty is not one)."""
        rows = zip(self.student.data, self.note.data, strict=False)
        return [{"student": s.strip(), "note": n.strip()} for s, n in rows if s.strip() or n.strip()]

    def problems(self) -> dict[str, str]:
        """What is wrong, field by field; a note's problem under `student-<row>`, the row as shown again (without
        the unused rows)."""
        found = {
            p.field: str(messages.OBSERVATION_PROBLEMS.get(p.code, p.code)) % p.params
            for p in answer_problems(self.template, self.answers())
        }
        notes = self.notes()
        for row, item in enumerate(notes):
            if not item["student"] or len(item["student"]) > MAX_STUDENT_NAME:
                found[f"student-{row}"] = str(messages.OBSERVATION_PROBLEMS["student_missing"])
            elif not item["note"]:
                found[f"student-{row}"] = str(messages.OBSERVATION_PROBLEMS["note_missing"])
            elif len(item["note"]) > MAX_ANSWER_CHARS:
                message = messages.OBSERVATION_PROBLEMS["too_long"]
                found[f"student-{row}"] = str(message) % {"most": MAX_ANSWER_CHARS}
        if len(notes) > MAX_STUDENT_NOTES:
            message = messages.OBSERVATION_PROBLEMS["too_many_students"]
            found["student_notes"] = str(message) % {"most": MAX_STUDENT_NOTES}
        return found

    def observation(self) -> ObservationForm:
        answers = self.answers()
        return ObservationForm(
            lesson=answers["lesson"],
            students_did=answers["students_did"],
            students_learned=answers["students_learned"],
            evidence=answers["evidence"],
            student_notes=self.notes(),
            suggestions=answers["suggestions"],
        )


@cache
def observation_form() -> type[ObservationPost]:
    """The form class for the Buddy-observation template of config/forms."""
    template = form_templates()[OBSERVATION_FORM]
    fields = {item.id: Text() for item in template.fields}
    return type("ObservationPost", (ObservationPost,), {"template": template, **fields})


class WithdrawObservation(PlcForm):
    reason = limited(MAX_REASON_CHARS, messages.OBSERVATION_PROBLEMS["too_long"])


@cache
def correction_form() -> type[ObservationPost]:
    """Every field of the observation again, and the reason for the change (the rules say when it is needed)."""
    reason = limited(MAX_REASON_CHARS, messages.OBSERVATION_PROBLEMS["too_long"])
    return type("ObservationCorrection", (observation_form(),), {"reason": reason})
