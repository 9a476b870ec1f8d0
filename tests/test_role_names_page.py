"""A school administrator and the LMS's site administrator hold the same LTI Administrator role but are two people:
the landing page names each for what they are, in Thai and in English (over real HTTP launches)."""

from __future__ import annotations

import re

import requests

from tests.conftest import LIS, ToolServer, launch
from tests.support.lti_platform import LaunchUser, TestPlatform
from tests.test_cycle_pages import SCHOOL_HEAD
from tests.test_program_pages import trainer_visit

INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"
SCHOOL_ADMIN = LaunchUser(
    sub="u-director-1", name="สุนทร ผู้อำนวยการ", given_name="สุนทร", family_name="ผู้อำนวยการ",
    email="director@example.org", roles=[INSTITUTION + "Administrator", LIS + "Instructor"], locale="th",
)  # fmt: skip
SITE_ADMIN = LaunchUser(
    sub="u-moodle-admin", name="ผู้ดูแล มูเดิล", given_name="ผู้ดูแล", family_name="มูเดิล",
    email="admin@example.org", locale="th",
    roles=[INSTITUTION + "Administrator", LIS + "Instructor", SYSTEM + "Administrator"],  # as Moodle sends a site admin
)  # fmt: skip


def badge(page: requests.Response) -> str:
    match = re.search(r'<span class="badge" data-role="(\w+)">([^<]*)</span>', page.text)
    assert match, "no role badge on the landing page"
    return f"{match.group(1)}: {match.group(2).strip()}"


def test_a_school_administrator_is_named_as_one(tool: ToolServer, platform: TestPlatform) -> None:
    platform.add_user(SCHOOL_ADMIN)

    landing = launch(requests.Session(), platform, SCHOOL_ADMIN)

    assert badge(landing) == "admin: ผู้บริหารสถานศึกษา"


def test_a_course_administrator_role_is_a_school_administrator_too(tool: ToolServer, platform: TestPlatform) -> None:
    platform.add_user(SCHOOL_HEAD)  # membership#Administrator

    assert badge(launch(requests.Session(), platform, SCHOOL_HEAD)) == "admin: ผู้บริหารสถานศึกษา"


def test_the_lms_site_administrator_is_named_as_one_in_thai_and_english(
    tool: ToolServer, platform: TestPlatform
) -> None:
    platform.add_user(SITE_ADMIN)
    session = requests.Session()

    landing = launch(session, platform, SITE_ADMIN)
    english = session.get(landing.url + "&lang=en")

    assert badge(landing) == "admin: ผู้ดูแลระบบ"
    assert badge(english) == "admin: Site administrator"


def test_the_course_roster_names_the_two_administrators_apart(tool: ToolServer, platform: TestPlatform) -> None:
    for user in (SCHOOL_ADMIN, SITE_ADMIN):
        platform.add_user(user)
        launch(requests.Session(), platform, user)

    roster = trainer_visit(tool, platform).get("/home", lang="th").text

    assert re.search(r"สุนทร ผู้อำนวยการ</td>\s*<td>ผู้บริหารสถานศึกษา</td>", roster)
    assert re.search(r"ผู้ดูแล มูเดิล</td>\s*<td>ผู้ดูแลระบบ</td>", roster)
