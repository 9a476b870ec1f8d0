"""The dashboard counts the cycles whose goal was met, not met or not reported (the results report's choice), per
network or school, within the leader's reach and filters, on the page and in its CSV; synthetic district."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.dashboard_stats import ProgramStats
from models.district import Network
from tests.conftest import ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_dashboard import LEADER, lead, leader_visit, read_csv, seed_small

HEADER = ["วงรอบที่ครบหรือรายงานผลแล้ว", "บรรลุเป้าหมาย", "ไม่บรรลุเป้าหมาย", "ยังไม่รายงาน"]


@pytest.fixture
def leaders(platform: TestPlatform) -> TestPlatform:
    platform.add_user(LEADER)
    return platform


def sums(tool: ToolServer, network_code: str | None = None) -> tuple[int, int, int]:
    with tool.database.transaction() as db:
        query = select(
            func.sum(ProgramStats.goals_met),
            func.sum(ProgramStats.goals_not_met),
            func.sum(ProgramStats.goals_not_reported),
        )
        if network_code:
            query = query.join(Network, Network.id == ProgramStats.network_id).where(Network.code == network_code)
        met, not_met, not_reported = db.execute(query).one()
        return int(met), int(not_met), int(not_reported)


def test_a_district_leader_sees_the_cycles_goals_by_network_with_a_total_and_its_csv(
    tool: ToolServer, leaders: TestPlatform
) -> None:
    seed_small(tool, leaders)
    lead(tool, leaders)
    visit = leader_visit(tool, leaders)
    met, not_met, not_reported = sums(tool)

    page = visit.get("/dashboard")
    exported = read_csv(visit.get("/dashboard/goals.csv"))

    assert page.status_code == 200 and 'id="t-goals"' in page.text and "วงรอบบรรลุเป้าหมายหรือไม่" in page.text
    assert met > 0 and not_met > 0 and not_reported > 0  # the synthetic district has all three
    assert exported[0][1:] == HEADER and exported[-1] == ["รวม", str(met + not_met + not_reported), str(met),
                                                             str(not_met), str(not_reported)]  # fmt: skip
    by_network = exported[1:-1]
    assert [sum(int(row[i]) for row in by_network) for i in (2, 3, 4)] == [met, not_met, not_reported]
    assert f'<span class="tile-number">{met:,}</span> วงรอบบรรลุเป้าหมาย' in page.text


def test_a_network_leader_counts_only_their_networks_cycles_by_school(tool: ToolServer, leaders: TestPlatform) -> None:
    seed_small(tool, leaders)
    lead(tool, leaders, "N01")
    visit = leader_visit(tool, leaders)

    exported = read_csv(visit.get("/dashboard/goals.csv"))

    assert exported[-1][0] == "รวม" and tuple(int(cell) for cell in exported[-1][2:]) == sums(tool, "N01")
    assert sums(tool, "N01") != sums(tool)


def test_the_goals_csv_follows_the_filters(tool: ToolServer, leaders: TestPlatform) -> None:
    seed_small(tool, leaders)
    lead(tool, leaders)
    visit = leader_visit(tool, leaders)

    nothing = read_csv(visit.get("/dashboard/goals.csv", year="1999"))

    assert nothing[1:] == [["รวม", "0", "0", "0", "0"]]
