"""The program page refuses an approval dated in the future beside its field, and nothing changes (real HTTP)."""

from __future__ import annotations

import re
from datetime import timedelta

from models.base import utcnow
from models.calendar import program_day
from models.states import ProgramState
from tests.conftest import ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_program_pages import create, programs, trainer_visit
from tests.test_program_teams import step


def test_an_approval_dated_tomorrow_is_refused_beside_the_date_and_the_program_stays_submitted(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)
    step(trainer, "submit")
    tomorrow = program_day(utcnow()) + timedelta(days=1)

    page = step(trainer, "approve", approved_on=tomorrow.isoformat())

    assert page.status_code == 422
    assert re.search(r'<span id="approved_on-error" class="field-error">The date is in the future', page.text)
    assert [(p.state, p.approved_on) for p in programs(tool)] == [(ProgramState.SUBMITTED, None)]


def test_an_approval_dated_today_is_recorded(tool: ToolServer, platform: TestPlatform) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)
    step(trainer, "submit")
    today = program_day(utcnow())

    assert step(trainer, "approve", approved_on=today.isoformat()).status_code == 200

    assert [(p.state, p.approved_on) for p in programs(tool)] == [(ProgramState.APPROVED, today)]
