"""Competency growth in a real browser (Debian's Chromium, Thai, 800 px): a teacher assesses themself at the start,
the program runs and ends, they assess again and their profile shows both; the trainer's view of the team and a
district leader's dashboard (per school, no names) show the figures; Ralph holds the assessment statements."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from models.assessments import Assessment, Phase, RaterKind
from models.dashboard_stats import ProgramStats, refresh_district
from models.district import District, School, find_unit, place_program
from models.outbox import OutboxStatement
from models.people import Context
from models.platform import Platform
from models.programs import Program, end
from tests.conftest import TEACHER, TRAINER, ToolServer
from tests.support.lrs import RalphServer
from tests.support.lti_platform import TestPlatform
from tests.support.waiting import wait_until
from tests.test_browser_plc import fits, open_as
from tests.test_browser_session_corrections import go
from tests.test_dashboard import LEADER, lead, seed_small
from tests.test_sessions_page import running_program_with_a_team
from xapi import outbox
from xapi.delivery import OutboxDelivery
from xapi.vocabulary import Verb

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

pytestmark = pytest.mark.browser


def choose(page: Any, levels: dict[str, int]) -> None:
    for code, level in levels.items():
        page.locator(f"#level-{code}-{level}").check()


def _our_program(db: Any) -> Program:
    return db.scalars(select(Program).join(Context).where(Context.context_id == "course-42")).one()


def _place_in_a_school(tool: ToolServer, platform: TestPlatform) -> int:
    """The course's program belongs to the synthetic district's first school; the dashboard's figures refreshed."""
    with tool.database.transaction() as db:
        row = db.scalars(select(Platform).where(Platform.issuer == platform.issuer)).one()
        school = db.scalars(select(School).order_by(School.code)).first()
        assert school is not None
        place_program(db, _our_program(db), find_unit(db, row, "SYN-SMALL", school.code))
        refresh_district(db, db.scalars(select(District)).one())
        return school.id


def test_a_teachers_competencies_before_and_after_reach_the_trainer_the_leader_and_ralph(
    tool: ToolServer, platform: TestPlatform, browser: Any, ralph: RalphServer
) -> None:
    platform.add_user(LEADER)
    seed_small(tool, platform)
    running_program_with_a_team(tool, platform)
    school_id = _place_in_a_school(tool, platform)

    page = open_as(browser, platform, TEACHER)
    page.get_by_role("link", name="สมรรถนะของฉัน").click()
    page.get_by_role("heading", name="การประเมินเมื่อเริ่มโครงการ").wait_for()
    page.get_by_role("button", name="บันทึกการประเมินของฉัน").click()  # nothing chosen: refused beside each field
    assert page.locator(".field-error").count() == 3
    page.get_by_role("link", name="ไทย").click()  # the form afresh
    choose(page, {"C3": 2, "C4": 3, "F5": 1})
    assert fits(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "competency-assessment-th.png"), full_page=True)
    page.get_by_role("button", name="บันทึกการประเมินของฉัน").click()
    page.get_by_text("บันทึกการประเมินของท่านและส่งเป็นข้อมูลการเรียนรู้แล้ว").wait_for()

    with tool.database.transaction() as db:  # the program runs its year: shortened here to its end
        end(_our_program(db), date(2026, 12, 1))
    page.reload()
    page.get_by_role("heading", name="การประเมินเมื่อสิ้นสุดโครงการ").wait_for()
    choose(page, {"C3": 4, "C4": 4, "F5": 3})
    page.get_by_role("button", name="บันทึกการประเมินของฉัน").click()
    page.get_by_text("บันทึกการประเมินของท่านและส่งเป็นข้อมูลการเรียนรู้แล้ว").wait_for()
    profile = page.locator("table.competency-profile")
    rows = [profile.locator("tbody tr").nth(n).inner_text() for n in range(3)]
    assert "C3 การพัฒนาตนเอง" in rows[0] and "2" in rows[0] and "4" in rows[0] and "+2" in rows[0]
    assert "+1" in rows[1] and "+2" in rows[2]
    assert fits(page)
    page.screenshot(path=str(SCREENSHOTS / "competency-profile-th.png"), full_page=True)
    page.get_by_role("link", name="สมรรถนะทั้ง 11 ด้านและความหมาย").click()
    assert page.locator("dl.competency-list dt").count() == 11 and fits(page)
    page.screenshot(path=str(SCREENSHOTS / "competency-framework-th.png"), full_page=True)
    page.close()

    trainer = open_as(browser, platform, TRAINER)
    go(trainer, "/program/competencies/team")
    trainer.get_by_role("link", name="ไทย").click()  # this trainer's LMS language is English
    trainer.get_by_role("heading", name="สมรรถนะของกลุ่ม PLC: กลุ่มคณิตศาสตร์").wait_for()
    table = trainer.locator("table.team-competencies")
    assert "2 → 4" in table.inner_text() and "1 → 3" in table.inner_text()
    assert fits(trainer)
    trainer.close()

    lead(tool, platform)
    with tool.database.transaction() as db:  # the dashboard's figures as the timer or a leader's button refreshes them
        refresh_district(db, db.scalars(select(District)).one())
    leader = browser.new_page(viewport={"width": 800, "height": 900}, locale="th-TH")
    leader.goto(
        platform.initiation_url(
            sub=LEADER.sub, context_id="district-office", resource_link_id="rl-d", resource_link_title="แดชบอร์ด"
        )  # fmt: skip
    )
    leader.wait_for_url("**/home?**", timeout=15_000)
    go(leader, "/dashboard")
    hours, growth = leader.locator("section:has(#h-competencies)"), leader.locator("section:has(#h-growth)")
    assert "ตามการจับคู่ของระบบ" in hours.inner_text()
    first, last = hours.bounding_box(), growth.bounding_box()
    leader.screenshot(
        path=str(SCREENSHOTS / "dashboard-competencies-th.png"),
        full_page=True,
        clip={"x": 0, "y": first["y"] - 8, "width": 800, "height": last["y"] + last["height"] - first["y"] + 16},
    )
    leader.goto(f"{leader.url}&school={school_id}")  # the leader picks the program's school
    row = leader.locator("section:has(#h-growth) tbody tr").filter(has_text="C3").inner_text()
    with tool.database.transaction() as db:
        start_count, start_mean = db.execute(
            select(func.count(), func.avg(Assessment.level))
            .join(ProgramStats, ProgramStats.program_id == Assessment.program_id)
            .where(ProgramStats.school_id == school_id, Assessment.competency == "C3",
                   Assessment.phase == Phase.START, Assessment.rater_kind == RaterKind.SELF)
        ).one()  # fmt: skip
    assert f"{start_count}" in row and f"{Decimal(str(start_mean)).quantize(Decimal('0.01'))}" in row
    assert TEACHER.name not in leader.locator("section:has(#h-growth)").inner_text()
    leader.close()

    with tool.database.transaction() as db:
        outbox.resend(db, "ralph")
        assessed = set(db.scalars(select(OutboxStatement.id).where(OutboxStatement.verb == Verb.ASSESSED)))
    worker = OutboxDelivery(tool.database, [ralph.destination()])
    wait_until(lambda: worker.run_once().handled == 0, 60, 0, "the outbox did not drain into Ralph")
    assert len(assessed) == 6 and assessed <= {s["id"] for s in ralph.statements()}
