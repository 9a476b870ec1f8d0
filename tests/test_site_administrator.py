"""The platform's queues (/admin) hold every course's records: only the LMS's site administrator (Administrator at the
system scope, ผู้ดูแลระบบ) reads and repairs them. A school administrator (an institution Administrator,
ผู้บริหารสถานศึกษา) reads the PLC pages of their course, not the platform's queues."""

from __future__ import annotations

import requests

from tests.conftest import ToolServer, launch
from tests.support.lti_platform import LaunchUser, TestPlatform
from tests.test_program_pages import Visit
from tests.xapi.test_outbox_web import ADMIN as SITE_ADMIN

INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
SCHOOL_ADMIN = LaunchUser(
    sub="u-school-admin-1",
    name="มาลี วงศ์ดี",
    given_name="มาลี",
    family_name="วงศ์ดี",
    email="malee@example.org",
    roles=[INSTITUTION + "Administrator", "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
)


def visit(tool: ToolServer, platform: TestPlatform, user: LaunchUser) -> Visit:
    platform.add_user(user)
    return Visit(tool, launch(requests.Session(), platform, user))


def test_a_school_administrator_is_refused_the_platforms_queues_and_is_not_offered_them(
    tool: ToolServer, platform: TestPlatform
) -> None:
    school = visit(tool, platform, SCHOOL_ADMIN)
    before = tool.snapshot()

    landing = school.get("/home", lang="en")
    outbox = school.get("/admin/outbox", lang="en")
    scores = school.get("/admin/scores", lang="en")
    for path in ("/admin/outbox/retry", "/admin/scores/resend"):
        posted = school.browser.post(tool.url(path), params={"s": school.token}, data={"csrf": "0" * 64})
        assert posted.status_code == 403, path

    assert landing.status_code == 200 and "School administrator" in landing.text
    assert "Learning records (xAPI)" not in landing.text and "/admin/outbox" not in landing.text
    assert outbox.status_code == 403 and "administrators may see this page." in outbox.text
    assert scores.status_code == 403
    assert tool.snapshot() == before  # nothing retried, nothing resent


def test_the_site_administrator_is_offered_and_reads_the_platforms_queues(
    tool: ToolServer, platform: TestPlatform
) -> None:
    site = visit(tool, platform, SITE_ADMIN)

    landing = site.get("/home", lang="en")

    assert "Site administrator" in landing.text and "Learning records (xAPI)" in landing.text
    assert site.get("/admin/outbox", lang="en").status_code == 200
    assert site.get("/admin/scores", lang="en").status_code == 200
