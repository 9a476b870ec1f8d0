"""The forms of a cycle's page: the student learning problem it targets with its baseline and result, and a tracking
form of config/forms, whose questions the template names (models.forms checks the answers against it)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug.datastructures import MultiDict

from lti_tool.web import messages
from lti_tool.web.forms.base import PlcForm, column_length
from lti_tool.web.forms.fields import ParsedText, Text, limited
from lti_tool.web.session import LINK_PARAM
from models.corrections import MAX_REASON_CHARS
from models.cycles import Cycle, CycleTarget
from models.measures import MEAN_SCORE

TEXT_LIMIT = 4000  # the most characters of a target's free text (Text columns have no length of their own)
TOO_LONG = messages.FORM_PROBLEMS["too_long"]


def _measure(raw: str) -> Decimal | None:
    """A measurement such as a percentage or a score, with thousands separators allowed, to three decimal places."""
    raw = raw.strip().replace(",", "")
    if not raw:
        return None
    value = Decimal(raw)
    if not value.is_finite() or abs(value) >= Decimal("1e9"):
        raise InvalidOperation(raw)
    return value.quantize(Decimal("0.001"))


class Measure(ParsedText):
    """A cycle's baseline or result value; empty is no value."""

    parse = staticmethod(_measure)


def _text(most: int) -> Text:
    return limited(most, TOO_LONG)


def _pupils(raw: str) -> int | None:
    raw = raw.strip().replace(",", "")
    return int(raw) if raw else None


class Pupils(ParsedText):
    """How many pupils a target is for; empty is not said."""

    parse = staticmethod(_pupils)


class TargetForm(PlcForm):
    problem = _text(TEXT_LIMIT)
    # Chosen from the curriculum's lists (models/curriculum.py); the template offers them as a list.
    learning_area = _text(column_length(Cycle.learning_area))
    grade_level = _text(column_length(Cycle.grade_level))
    target_students = _text(TEXT_LIMIT)
    measure = _text(TEXT_LIMIT)
    measure_kind = _text(column_length(Cycle.measure_kind))
    measure_out_of = Measure(message=messages.FORM_PROBLEMS["not_a_number"])
    pupils = Pupils(message=messages.FORM_PROBLEMS["not_a_number"])
    baseline = _text(TEXT_LIMIT)
    baseline_value = Measure(message=messages.FORM_PROBLEMS["not_a_number"])
    result = _text(TEXT_LIMIT)
    result_value = Measure(message=messages.FORM_PROBLEMS["not_a_number"])

    def target(self) -> CycleTarget:
        return CycleTarget(
            problem=self.problem.data,
            learning_area=self.learning_area.data,
            grade_level=self.grade_level.data,
            target_students=self.target_students.data,
            baseline=self.baseline.data,
            baseline_value=self.baseline_value.data,
            measure=self.measure.data,
            measure_kind=self.measure_kind.data,
            measure_out_of=self.measure_out_of.data if self.measure_kind.data == MEAN_SCORE else None,
            pupils=self.pupils.data,
        )

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields, then the target's own rules (curriculum lists, the measure), each beside its field."""
        super().validate(extra_validators)
        found = self.target().problems(self.result_value.data)
        for field, message in messages.field_problems(found, messages.FORM_PROBLEMS).items():
            if not self[field].errors:
                self[field].errors.append(message)
        return not self.problems()


class TrackingForm(PlcForm):
    """A team's answers to a tracking form: every posted field but the token and the session link; the template's
    questions and their checks are in models.forms."""

    def __init__(self, formdata: MultiDict[str, str], **kwargs: Any) -> None:
        super().__init__(formdata, **kwargs)
        self.answers = {key: value for key, value in formdata.items() if key not in ("csrf", LINK_PARAM, "reason")}
        self.reason = formdata.get("reason", "")


class WithdrawForm(PlcForm):
    """The reason for withdrawing a team's tracking form (the rules say when it is needed)."""

    reason = limited(MAX_REASON_CHARS, messages.FORM_PROBLEMS["too_long"])
