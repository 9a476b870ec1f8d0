"""A competency assessment (one level per target competency, radio buttons named level-<code>) and a program's chosen
target competencies (checkboxes named targets). Which levels and targets are allowed is the domain's rule
(models/assessments.py): the form only reads what was posted."""

from __future__ import annotations

from flask import request

from lti_tool.web.forms.base import PlcForm

LEVEL = "level-"  # a competency's field is named level-<code>


class AssessmentPost(PlcForm):
    """The posted levels; a missing or non-numeric level is left out for the rule to name."""

    def levels(self, codes: tuple[str, ...]) -> dict[str, int]:
        chosen: dict[str, int] = {}
        for code in codes:
            value = request.form.get(LEVEL + code, "")
            if value.isdigit():
                chosen[code] = int(value)
        return chosen


class TargetsPost(PlcForm):
    """The competencies ticked."""

    def codes(self) -> list[str]:
        return request.form.getlist("targets")
