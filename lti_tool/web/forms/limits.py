"""How much every text field of our forms holds, by form and field, read from the forms' own `AtMost` checks so that
a page's `maxlength` and printed limit are the number the form refuses above."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _
from markupsafe import Markup, escape

from lti_tool.web.forms.cycles import TargetForm
from lti_tool.web.forms.deep_linking import DeepLinkPost
from lti_tool.web.forms.fields import text_limits
from lti_tool.web.forms.observations import MAX_STUDENT_NAME
from lti_tool.web.forms.program import ProgramForm, TeamForm
from lti_tool.web.forms.reflections import GradePost, ReflectionPost
from lti_tool.web.forms.sessions import CorrectionForm, SessionForm
from models.certificates import MAX_REASON_CHARS
from models.forms import MAX_ANSWER_CHARS

LIMITS: dict[str, dict[str, int]] = {
    "program": text_limits(ProgramForm),
    "team": text_limits(TeamForm),
    "session": text_limits(SessionForm),
    "target": text_limits(TargetForm),
    "deep_link": text_limits(DeepLinkPost),
    "reflection": text_limits(ReflectionPost),
    "grade": text_limits(GradePost),
    # The tracking and observation forms are built from config/forms: every answer holds the template's most.
    "answer": {"any": MAX_ANSWER_CHARS},
    "observation_note": {"student": MAX_STUDENT_NAME, "note": MAX_ANSWER_CHARS},
    "revoke": {"reason": MAX_REASON_CHARS},  # the certificate's own rule checks it (models/certificates.py)
    "correction": text_limits(CorrectionForm),  # a correction's reason (models/corrections.py MAX_REASON_CHARS)
}


def limit_note(field_id: str, most: int) -> Markup:
    """The limit printed beside a field (so that it shows without script), named `<field_id>-limit` for the field's
    aria-describedby."""
    text = _("At most %(most)s characters", most=f"{most:,}")
    return Markup('<small id="{}-limit" class="field-limit">{}</small>').format(escape(field_id), text)


def init_app(app: Flask) -> None:
    """`limits` and `limit_note` in every template: `limits.session.notes` is 4000."""
    app.jinja_env.globals.update(limits=LIMITS, limit_note=limit_note)
