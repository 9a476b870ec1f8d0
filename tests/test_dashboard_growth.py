"""The dashboard's competency sections: hours linked to each competency, labelled as the tool's own mapping, beside
the assessed growth, which a leader sees as aggregates of their schools or network only (no person named)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from models.assessments import Assessment, Phase, RaterKind
from models.dashboard_stats import ProgramStats
from models.district import Network
from models.people import Person
from tests.conftest import ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_dashboard import lead, leader_platform, leader_visit, read_csv, seed_small

__all__ = ["leader_platform"]  # the fixture, used by name


def test_the_hours_chart_is_the_tools_mapping_and_growth_stands_beside_it(
    tool: ToolServer, leader_platform: TestPlatform
) -> None:
    seed_small(tool, leader_platform)
    lead(tool, leader_platform)
    page = leader_visit(tool, leader_platform).get("/dashboard").text

    assert "ชั่วโมงที่เชื่อมโยงกับแต่ละสมรรถนะ (ตามการจับคู่ของระบบ)" in page
    assert "การพัฒนาสมรรถนะครู" not in page
    hours, growth = page.index('id="h-competencies"'), page.index('id="h-growth"')
    assert hours < growth and 'id="c-growth-t"' in page


def test_a_network_leader_sees_the_growth_of_their_network_alone_and_no_names(
    tool: ToolServer, leader_platform: TestPlatform
) -> None:
    seed_small(tool, leader_platform)
    lead(tool, leader_platform, "N01")
    visit = leader_visit(tool, leader_platform)

    exported = read_csv(visit.get("/dashboard/growth.csv"))
    section = visit.get("/dashboard").text.split('id="h-growth"', 1)[1].split("</section>", 1)[0]

    with tool.database.transaction() as db:
        n01 = db.scalars(select(Network).where(Network.code == "N01")).one()
        mean_end = db.scalar(
            select(func.avg(Assessment.level))
            .join(ProgramStats, ProgramStats.program_id == Assessment.program_id)
            .where(
                ProgramStats.network_id == n01.id,
                Assessment.competency == "C4",
                Assessment.phase == Phase.END,
                Assessment.rater_kind == RaterKind.SELF,
            )
        )
        names = list(db.scalars(select(Person.name).where(Person.name.is_not(None))))
    c4 = next(row for row in exported[1:] if row[0].startswith("C4"))
    assert Decimal(c4[4]) == Decimal(str(mean_end)).quantize(Decimal("0.01"))
    assert [row[0][:2] for row in exported[1:]] == ["C3", "C4", "F5"]
    assert not any(name and name in section for name in names)
