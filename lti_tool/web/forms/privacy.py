"""Acknowledging the personal-data notice: the version the page showed, and the page the launch was going to."""

from __future__ import annotations

from wtforms import HiddenField

from lti_tool.web.forms.base import PlcForm
from models.privacy_notice import MAX_VERSION

ACKNOWLEDGE = "privacy-notice"  # the token's purpose


class AcknowledgeForm(PlcForm):
    version = HiddenField(default="")
    next = HiddenField(default="")

    def shown_version(self) -> str:
        return str(self.version.data or "")[:MAX_VERSION]
