"""The Deep Linking picker: what to add (an activity kind, its cycle and element) and the link's title."""

from __future__ import annotations

from flask_babel import gettext as _
from wtforms.fields import Field, StringField
from wtforms.validators import ValidationError

from lti_tool.lti import deep_linking as dl
from lti_tool.lti.activities import KINDS, NEEDS_CYCLE, Activity
from lti_tool.web import messages
from lti_tool.web.activities import default_title
from lti_tool.web.forms.base import PlcForm
from lti_tool.web.forms.fields import Text, limited
from models.catalog import elements

TITLE_CHARS = 255  # what an LMS keeps of an activity's name (Moodle: lti.name is 255 characters)


def _number(raw: str | None) -> int | None:
    try:
        return int(raw or "")
    except ValueError:
        return None


class DeepLinkPost(PlcForm):
    """Set `planned_cycles` (the course program's) before validating."""

    activity = Text()
    cycle = StringField()
    element = StringField()
    title = limited(TITLE_CHARS, messages.FORM_PROBLEMS["too_long"])
    planned_cycles: int

    def validate_activity(self, field: Field) -> None:
        if field.data not in KINDS:
            raise ValidationError(_("Choose what to add."))

    def validate_cycle(self, field: Field) -> None:
        if self.activity.data in NEEDS_CYCLE:
            number = _number(field.data)
            if number is None or not 1 <= number <= self.planned_cycles:
                raise ValidationError(_("Choose a cycle from 1 to %(cycles)s.", cycles=self.planned_cycles))

    def validate_element(self, field: Field) -> None:
        if self.activity.data == "session" and _number(field.data) not in {e.number for e in elements()}:
            raise ValidationError(_("Choose one of the five PLC elements."))

    def problems(self) -> dict[str, str]:
        """An unknown kind is the one problem shown: its cycle and element mean nothing yet."""
        found = super().problems()
        return {"activity": found["activity"]} if "activity" in found else found

    def choice(self, lang: str) -> dl.Choice:
        """The valid form's activity, under its title (the activity's own name in `lang` when none was typed)."""
        kind = self.activity.data
        cycle = _number(self.cycle.data) if kind in NEEDS_CYCLE else None
        element = _number(self.element.data) if kind == "session" else None
        activity = Activity(kind, cycle, element)
        return dl.Choice(activity, self.title.data or default_title(activity, lang))
