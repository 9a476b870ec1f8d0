"""The course's "Buddy observation, cycle N" link, opened by everyone in the course (issue 15, fix 4): every learner
in Moodle sees it, so it takes each person where they work on that cycle's observations, and explains itself to
someone who has none, never a dead end with a bare "Forbidden"."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from tests.conftest import LIS, TRAINER, ToolServer, launch
from tests.support.lti_platform import LaunchUser, TestPlatform
from tests.test_cycle_pages import SCHOOL_HEAD
from tests.test_observations_page import TEAM_A, TEAM_B, USERS, observations, observe, running_program, visit_as
from tests.test_program_pages import trainer_visit

LINK = {"resource_link_id": "rl-observe-1", "resource_link_title": "การสังเกตชั้นเรียน วงรอบที่ 1"}
NEWCOMER = LaunchUser(sub="u-teacher-9", name="กมลชนก ทองดี", given_name="กมลชนก", family_name="ทองดี",
                      email="t9@example.org", roles=[LIS + "Learner"], locale="th")  # fmt: skip


def open_link(platform: TestPlatform, user: LaunchUser, cycle: int = 1, **extra: str) -> requests.Response:
    """A launch of the course's observation link for `cycle`, as the LMS sends it to every learner."""
    custom = {"plc_activity": "observation", "plc_cycle": str(cycle)}
    return launch(requests.Session(), platform, user, custom=custom, **{**LINK, **extra})


def the_path(page: requests.Response) -> str:
    return urlsplit(page.url).path


def in_language(page: requests.Response, lang: str) -> requests.Response:
    """The page a launch landed on again, in `lang` (the language links of every page do the same)."""
    return requests.get(page.url, params={"lang": lang})


def test_the_model_teacher_lands_on_the_observations_of_their_lesson_read_only(
    tool: ToolServer, platform: TestPlatform
) -> None:
    model, (author, waiting) = running_program(tool, platform)[(TEAM_A, 1)]
    observe(visit_as(tool, platform, author))
    [observation] = observations(tool)

    page = open_link(platform, USERS[model])

    assert page.status_code == 200, page.text[:400]
    assert the_path(page) == "/program/cycles/1/observations"
    assert f"/program/observations/{observation.id}?" in page.text  # the one written so far, to read
    assert author in page.text and waiting in page.text  # and the Buddy who has not written theirs yet
    main = page.text.split("<main", 1)[-1].split("</main>", 1)[0]  # the page's own content (sign out is outside it)
    assert 'name="csrf"' not in main and "<form" not in main  # nothing to fill in
    assert "Forbidden" not in page.text
    before = tool.counts()
    assert requests.get(page.url).status_code == 200 and tool.counts() == before  # reading it changes nothing


def test_the_model_teacher_reads_the_observation_the_page_leads_to(tool: ToolServer, platform: TestPlatform) -> None:
    model, (author, _) = running_program(tool, platform)[(TEAM_A, 1)]
    observe(visit_as(tool, platform, author), lesson="เศษส่วน ป.4/2 คาบที่ 3")
    page = open_link(platform, USERS[model])
    [observation] = observations(tool)
    token = page.url.split("s=", 1)[1]

    read = requests.get(tool.url(f"/program/observations/{observation.id}"), params={"s": token})

    assert read.status_code == 200 and "เศษส่วน ป.4/2 คาบที่ 3" in read.text


def test_the_model_teacher_is_told_when_no_buddy_has_written_yet(tool: ToolServer, platform: TestPlatform) -> None:
    model, buddies = running_program(tool, platform)[(TEAM_A, 1)]

    page = in_language(open_link(platform, USERS[model]), "en")

    assert page.status_code == 200 and the_path(page) == "/program/cycles/1/observations"
    assert "Not written yet" in page.text and all(b in page.text for b in buddies)
    assert "/program/observations/" not in page.text.replace("/program/observations?", "")


def test_a_buddy_lands_on_the_observation_form(tool: ToolServer, platform: TestPlatform) -> None:
    model, (buddy, _) = running_program(tool, platform)[(TEAM_A, 1)]

    page = open_link(platform, USERS[buddy])

    assert page.status_code == 200 and the_path(page) == "/program/cycles/1/observation"
    main = page.text.split("<main", 1)[-1].split("</main>", 1)[0]
    assert 'name="csrf"' in main and model in page.text  # the Buddy's form


def test_a_buddy_in_a_later_cycle_lands_on_that_cycles_form(tool: ToolServer, platform: TestPlatform) -> None:
    the_plan = running_program(tool, platform)
    number, buddy = next((n, b[0]) for (team, n), (_, b) in sorted(the_plan.items()) if team == TEAM_B and n > 1)

    page = open_link(platform, USERS[buddy], cycle=number)

    assert page.status_code == 200 and the_path(page) == f"/program/cycles/{number}/observation"


def test_a_trainer_lands_on_the_courses_observations(tool: ToolServer, platform: TestPlatform) -> None:
    running_program(tool, platform)

    page = open_link(platform, TRAINER)

    assert page.status_code == 200 and the_path(page) == "/program/observations"


def test_a_school_administrator_lands_on_the_courses_observations(tool: ToolServer, platform: TestPlatform) -> None:
    running_program(tool, platform)
    platform.add_user(SCHOOL_HEAD)

    page = open_link(platform, SCHOOL_HEAD)

    assert page.status_code == 200 and the_path(page) == "/program/observations"


def test_a_teacher_of_no_team_is_told_why_there_is_nothing_for_them(tool: ToolServer, platform: TestPlatform) -> None:
    running_program(tool, platform)
    platform.add_user(NEWCOMER)

    landing = open_link(platform, NEWCOMER)
    page = in_language(landing, "en")

    assert landing.status_code == 200 and page.status_code == 200, page.text[:400]
    assert "Forbidden" not in page.text and "Cannot continue" not in page.text
    assert "not in a PLC team" in page.text
    assert "กลุ่ม PLC" in in_language(landing, "th").text


def test_a_teacher_in_a_course_without_a_program_is_told_why(tool: ToolServer, platform: TestPlatform) -> None:
    platform.add_user(NEWCOMER)

    page = in_language(open_link(platform, NEWCOMER), "en")

    assert page.status_code == 200 and "not in a PLC team" in page.text and "Forbidden" not in page.text


def test_a_teacher_whose_team_has_no_such_cycle_is_told_which_cycles_they_have(
    tool: ToolServer, platform: TestPlatform
) -> None:
    the_plan = running_program(tool, platform)
    model, _ = the_plan[(TEAM_A, 1)]
    planned = sorted(n for (team, n) in the_plan if team == TEAM_A)

    page = in_language(open_link(platform, USERS[model], cycle=planned[-1] + 1), "en")

    assert page.status_code == 200 and "Forbidden" not in page.text
    assert f"cycle {planned[-1] + 1}" in page.text and "no role" in page.text
    for number in planned:  # the cycles they do have, each leading to its own observations
        assert f"/program/cycles/{number}/observations?" in page.text


def test_the_cycle_page_leads_the_model_teacher_to_that_cycles_observations(
    tool: ToolServer, platform: TestPlatform
) -> None:
    model, _ = running_program(tool, platform)[(TEAM_A, 1)]
    visit = visit_as(tool, platform, model)

    assert "/program/cycles/1/observations?" in visit.get("/program/cycles/1").text


def test_a_teacher_of_another_course_sees_nothing_of_this_ones_observations(
    tool: ToolServer, platform: TestPlatform
) -> None:
    model, (author, _) = running_program(tool, platform)[(TEAM_A, 1)]
    observe(visit_as(tool, platform, author))
    [observation] = observations(tool)

    page = in_language(open_link(platform, USERS[model], context_id="course-99"), "en")

    assert page.status_code == 200 and "not in a PLC team" in page.text
    assert f"/program/observations/{observation.id}?" not in page.text


def test_the_page_works_without_a_launch_of_the_link_too(tool: ToolServer, platform: TestPlatform) -> None:
    """Reached from the tool's own pages (a link, the browser history), the route decides the same way."""
    model, (buddy, _) = running_program(tool, platform)[(TEAM_A, 1)]

    as_model = visit_as(tool, platform, model).get("/program/cycles/1/observations")
    as_buddy = visit_as(tool, platform, buddy).get("/program/cycles/1/observations")
    as_trainer = trainer_visit(tool, platform).get("/program/cycles/1/observations")

    assert as_model.status_code == 200 and the_path(as_model) == "/program/cycles/1/observations"
    assert as_buddy.status_code == 200 and the_path(as_buddy) == "/program/cycles/1/observation"
    assert as_trainer.status_code == 200 and the_path(as_trainer) == "/program/observations"
