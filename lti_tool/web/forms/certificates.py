"""The certificate forms: revoking one takes a reason, and so does issuing after the Council's 30 days (whose rules
are the certificate's, models/certificates.py)."""

from __future__ import annotations

from wtforms.fields import StringField

from lti_tool.web.forms.base import PlcForm


class RevokePost(PlcForm):
    reason = StringField(filters=[lambda value: value or ""])


class IssuePost(PlcForm):
    reason = StringField(filters=[lambda value: value or ""])  # asked for only after the Council's 30 days
