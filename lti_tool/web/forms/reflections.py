"""A teacher's reflection, and a trainer's grade of one: the rubric's form is built from config/rubrics, one score
field per criterion, each checked against the rubric's levels by the rubric's own rule (models/rubrics.py)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cache
from typing import ClassVar

from wtforms import Form
from wtforms.fields import Field
from wtforms.validators import StopValidation, ValidationError

from lti_tool.web import messages
from lti_tool.web.forms.base import PlcForm
from lti_tool.web.forms.fields import Text, limited
from models.rubrics import Criterion, Rubric, rubric, rubric_problems

MAX_REFLECTION_CHARS = 20000
MAX_COMMENT_CHARS = 4000
SCORE = "score-"  # a criterion's field is named score-<criterion id>


class ReflectionPost(PlcForm):
    """A teacher's reflection: whether it may be empty is the domain's rule (after the program's state)."""

    text = limited(MAX_REFLECTION_CHARS, messages.REFLECTION_PROBLEMS["too_long"])


class _Level:
    """A criterion's score: given, a number, and one of the rubric's levels."""

    def __init__(self, chosen: Rubric, criterion: Criterion) -> None:
        self.rubric, self.criterion = chosen, criterion

    def __call__(self, form: Form, field: Field) -> None:
        if not field.data:
            raise StopValidation(str(messages.REFLECTION_PROBLEMS["required"]))
        try:
            score = Decimal(field.data)
        except InvalidOperation:
            score = Decimal("NaN")
        if not score.is_finite():  # NaN, sNaN, Infinity: never a level
            raise ValidationError(str(messages.REFLECTION_PROBLEMS["not_a_level"]))
        for problem in rubric_problems(self.rubric, {self.criterion.id: score}):
            if problem.field == self.criterion.id:
                message = messages.REFLECTION_PROBLEMS.get(problem.code, problem.code)
                raise ValidationError(str(message) % problem.params)


class GradePost(PlcForm):
    """The posted grade; `grade_form()` adds a score field per criterion of the rubric."""

    rubric: ClassVar[Rubric]
    comment = limited(MAX_COMMENT_CHARS, messages.REFLECTION_PROBLEMS["too_long"])

    def scores(self) -> dict[str, Decimal]:
        return {c.id: Decimal(self._fields[SCORE + c.id].data) for c in self.rubric.criteria}

    def problems(self) -> dict[str, str]:
        """Each criterion's problem under the criterion's id, the comment's under `comment`."""
        return {name.removeprefix(SCORE): message for name, message in super().problems().items()}


@cache
def grade_form() -> type[GradePost]:
    """The form class for the reflection rubric of config/rubrics."""
    chosen = rubric()
    fields = {SCORE + c.id: Text(validators=[_Level(chosen, c)]) for c in chosen.criteria}
    return type("GradePost", (GradePost,), {"rubric": chosen, **fields})
