"""The notice list in the tool over real HTTP after real launches: a Buddy's observation gives the Model Teacher a
notice, counted unread on the landing page, listed with a link that opens the observations of their lesson and marks
it read; the same link in a browser with no session of theirs shows nothing of it and says to open the tool from the
course; the notice settings keep what the person chose."""

from __future__ import annotations

import re

import requests

from tests.conftest import ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_observations_page import TEAM_A, observe, running_program, visit_as


def csrf_of(page: requests.Response, action: str) -> str:
    form = page.text.split(f'action="{action}', 1)[1]
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', form)
    assert match, "no form token"
    return match.group(1)


def test_the_model_teacher_finds_the_buddys_observation_in_the_notice_list(
    tool: ToolServer, platform: TestPlatform
) -> None:
    model, buddies = running_program(tool, platform)[(TEAM_A, 1)]
    assert observe(visit_as(tool, platform, buddies[0])).status_code == 200
    teacher = visit_as(tool, platform, model)

    landing = teacher.get("/home")
    assert 'id="unread-notices"' in landing.text and "1 ใหม่" in landing.text

    listed = teacher.get("/notices")
    assert listed.status_code == 200
    assert "มีผลการสังเกตชั้นเรียนของคุณเข้ามา" in listed.text and 'data-unread="yes"' in listed.text
    assert "วงรอบที่ 1" in listed.text
    link = re.search(r'href="(/notices/\d+)\?s=', listed.text)
    assert link

    opened = teacher.get(link.group(1))
    assert opened.status_code == 200 and "/program/cycles/1/observations" in opened.url
    assert 'data-unread="no"' in teacher.get("/notices").text
    assert 'id="unread-notices"' not in teacher.get("/home").text

    stranger = requests.get(tool.url(link.group(1)))  # the link as a LINE message carries it, no session
    assert stranger.status_code == 200 and 'id="open-from-lms"' in stranger.text
    assert "วงรอบที่ 1" not in stranger.text and "observations" not in stranger.url
    assert platform.issuer not in stranger.text  # no lookup without a session: numbers cannot be probed
    no_such = requests.get(tool.url("/notices/99999999"))
    assert no_such.status_code == 200 and 'id="open-from-lms"' in no_such.text


def test_a_teacher_switches_a_kind_off_and_the_page_keeps_it(tool: ToolServer, platform: TestPlatform) -> None:
    running_program(tool, platform)
    teacher = visit_as(tool, platform, "สมศรี ใจดี")
    page = teacher.get("/notices/settings")
    assert page.status_code == 200 and 'value="reflection_graded" checked' in page.text
    kept = ["observation_submitted", "certificate_issued"]
    data = [("csrf", csrf_of(page, "/notices/settings")), *(("kind", k) for k in kept)]

    saved = teacher.browser.post(tool.url("/notices/settings"), params={"s": teacher.token}, data=data)

    assert saved.status_code == 200 and 'id="saved"' in saved.text
    assert 'value="reflection_graded" checked' not in saved.text
    assert 'value="observation_submitted" checked' in saved.text


def test_the_empty_list_says_what_will_come(tool: ToolServer, platform: TestPlatform) -> None:
    running_program(tool, platform)
    page = visit_as(tool, platform, "สมศรี ใจดี").get("/notices")
    assert page.status_code == 200 and 'id="no-notices"' in page.text
