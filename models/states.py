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


# The plan (teams, members, roles per cycle, the program's details) may change only before the program starts.
PLAN_EDITABLE = frozenset({ProgramState.DRAFT, ProgramState.SUBMITTED, ProgramState.APPROVED})
NOT_YET_APPROVED = frozenset({ProgramState.DRAFT, ProgramState.SUBMITTED})
CANCELLABLE = PLAN_EDITABLE | {ProgramState.RUNNING}
# The Council's approval date may be corrected once recorded, until certificates are requested.
APPROVAL_CORRECTABLE = frozenset({ProgramState.APPROVED, ProgramState.RUNNING, ProgramState.ENDED})
