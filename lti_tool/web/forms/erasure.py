"""The confirmation of a person's erasure: the district's pseudonym and the reason (the request's reference, say);
their rules are `models/erasure.py`'s, refused beside each field."""

from __future__ import annotations

from lti_tool.web.forms.base import PlcForm
from lti_tool.web.forms.fields import Text


class ErasurePost(PlcForm):
    pseudonym = Text()
    reason = Text()
