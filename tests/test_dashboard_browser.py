"""The district dashboard in a real Chromium: the SVG charts draw, and the page fits Moodle's 800 px iframe."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_dashboard import LEADER, lead, seed_small

pytestmark = pytest.mark.browser


@pytest.fixture
def dashboard_url(tool: ToolServer, platform: TestPlatform) -> str:
    platform.add_user(LEADER)
    seed_small(tool, platform)
    lead(tool, platform)
    landing = launch(requests.Session(), platform, LEADER, context_id="district-office")
    return tool.url("/dashboard?s=" + landing.url.split("s=", 1)[1])


def test_the_dashboards_charts_draw_and_the_page_fits_800_px(dashboard_url: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 800, "height": 900}, locale="th-TH")  # type: ignore[attr-defined]
    page.goto(dashboard_url)

    charts = page.locator("svg.chart")
    # Coverage, results, goals, hours linked to each competency, and the assessed growth of the target competencies.
    assert charts.count() == 5 and page.locator("#c-growth-t").count() == 1
    for i in range(5):
        box = charts.nth(i).bounding_box()
        assert box is not None and 600 <= box["width"] <= 800 and box["height"] > 40
    drawn = page.evaluate(
        "[...document.querySelectorAll('svg.chart rect.chart-part, svg.chart circle.dot-result')]"
        ".filter(e => e.getBBox().width > 0).length"
    )
    assert drawn > 10
    # The bars take their colour from the stylesheet (no inline style): a filled bar is not black.
    fill = page.evaluate("getComputedStyle(document.querySelector('rect.chart-part')).fill")
    assert fill not in ("", "rgb(0, 0, 0)", "none")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert (
        page.get_by_label("ปี (พ.ศ.)", exact=True).count() == 1 and page.get_by_label("เครือข่าย", exact=True).count() == 1
    )
    page.close()


def test_choosing_a_network_with_the_keyboard_shows_its_schools(dashboard_url: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1024, "height": 900}, locale="en-US")  # type: ignore[attr-defined]
    page.goto(dashboard_url + "&lang=en")

    network = page.get_by_label("Network", exact=True)
    network.focus()
    page.keyboard.press("ArrowDown")
    assert network.input_value() != ""
    page.get_by_role("button", name="Show").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert "network=" in page.url
    assert page.get_by_role("heading", name="Teachers eligible for a certificate, by school").count() == 1
    page.close()


def test_the_public_summary_fits_800_px_and_draws_its_chart(
    tool: ToolServer, platform: TestPlatform, browser: object
) -> None:
    from models.district import District

    district_id = seed_small(tool, platform)
    with tool.database.transaction() as db:
        district = db.get(District, district_id)
        assert district is not None
        district.public_summary = True
    page = browser.new_page(viewport={"width": 800, "height": 900}, locale="th-TH")  # type: ignore[attr-defined]
    page.goto(tool.url(f"/public/districts/{district_id}"))

    assert page.locator("svg.chart circle.dot-result").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    page.close()
