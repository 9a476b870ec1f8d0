"""What every form of ours shares: WTForms with the session-bound form token, and errors as one message per field.

Flask-WTF's CSRF keeps its secret in Flask's cookie session, which a browser drops inside a cross-site LMS iframe.
Our token is an HMAC of the app session and the form's purpose (`web/session.py`), carried in the form itself, so
it works with or without cookies; `SessionCSRF` plugs it into WTForms.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from flask_babel import gettext as _
from sqlalchemy.orm import InstrumentedAttribute
from wtforms import Form
from wtforms.csrf.core import CSRF
from wtforms.fields import Field
from wtforms.validators import ValidationError

from lti_tool.web.session import FormExpired, csrf_token, csrf_valid
from models.sessions import AppSession

F = TypeVar("F", bound="PlcForm")


class SessionCSRF(CSRF):
    """The form token of `web/session.py`: bound to the app session and the form's purpose."""

    def setup_form(self, form: Form) -> Any:
        self.app_session, self.purpose = form.meta.csrf_context
        return super().setup_form(form)

    def generate_csrf_token(self, csrf_token_field: Field) -> str:
        return csrf_token(self.app_session, self.purpose)

    def validate_csrf_token(self, form: Form, field: Field) -> None:
        if not csrf_valid(self.app_session, self.purpose, field.data):
            raise ValidationError(_("This form has expired. Reload the page and try again."))


class PlcForm(Form):
    """A form posted to one of our pages; `csrf` is the field that carries the token."""

    class Meta:
        csrf = True
        csrf_class = SessionCSRF
        csrf_field_name = "csrf"

    @classmethod
    def posted(cls: type[F], app_session: AppSession, purpose: str, **kwargs: Any) -> F:
        """The request's form, read only if it carries this session's token for `purpose`; else 400 and no change."""
        form = cls(request.form, meta={"csrf_context": (app_session, purpose)}, **kwargs)
        csrf_field = form._fields["csrf"]
        if not csrf_valid(app_session, purpose, csrf_field.data):
            raise FormExpired(description=_("This form has expired. Reload the page and try again."))
        return form

    def problems(self) -> dict[str, str]:
        """The first message of every field that did not validate (the token was checked before)."""
        return {name: str(messages[0]) for name, messages in self.errors.items() if messages and name != "csrf"}


def column_length(column: InstrumentedAttribute[Any]) -> int:
    """The most characters a String column holds, so a form's limit is the column's, written once."""
    length = getattr(column.property.columns[0].type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{column} has no length")
    return length
