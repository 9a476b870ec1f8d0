"""The header's sign-out button: a form with nothing but this session's token."""

from __future__ import annotations

from lti_tool.web.forms.base import PlcForm

SIGN_OUT = "sign-out"  # the token's purpose


class SignOutForm(PlcForm):
    """Posted from any page of a session; the token is the whole form."""
