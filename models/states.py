"""The states a PLC program goes through, and which of them allow changing the plan or cancelling."""

from __future__ import annotations

import enum


class ProgramState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RUNNING = "running"
    ENDED = "ended"
    CERTIFICATES_REQUESTED = "certificates_requested"
    CANCELLED = "cancelled"


# The plan (teams, members, roles per cycle, the program's details) changes only in a draft: submitting freezes it as
# a numbered version (a change means withdrawing the submission), and what the Council approved is what runs (§2.6).
PLAN_EDITABLE = frozenset({ProgramState.DRAFT})
NOT_YET_APPROVED = frozenset({ProgramState.DRAFT, ProgramState.SUBMITTED})
CANCELLABLE = frozenset({ProgramState.DRAFT, ProgramState.SUBMITTED, ProgramState.APPROVED, ProgramState.RUNNING})
# The Council's approval date may be corrected once recorded, until certificates are requested.
APPROVAL_CORRECTABLE = frozenset({ProgramState.APPROVED, ProgramState.RUNNING, ProgramState.ENDED})
