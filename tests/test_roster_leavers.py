"""People who leave the course, as Moodle's NRPS shows it: suspended and unenrolled members are left out of the roster
(never sent as Inactive). A member missing from a complete read has left the course: marked with the day, kept in
their team's history, out of new teams and out of the eligibility counts; active again when a later read lists them.
A read that fails or stops half-way changes nothing. Real launches from the Moodle-like platform."""

from __future__ import annotations

from datetime import timedelta

import requests
from sqlalchemy import select

from lti_tool.demo_lms.lti_platform import member
from models.base import utcnow
from models.calendar import program_day
from models.people import Context, Membership, Person
from tests.conftest import TEACHER, TRAINER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_program_pages import Visit, create, trainer_visit
from tests.test_program_teams import COLLEAGUES, form_team, teachers_launch, teams_csrf
from tests.test_progress_page import observe_every_cycle
from tests.test_reflections_page import write
from tests.test_sessions_page import record, running_program_with_a_team

COURSE = "course-42"
TODAY_EN = f"{program_day(utcnow()):%-d %B %Y}"


def status_of(tool: ToolServer, sub: str) -> tuple[str, bool]:
    """(status, whether the day it became inactive is kept) of the person's membership in course-42."""
    with tool.database.transaction() as db:
        status, since = db.execute(
            select(Membership.status, Membership.inactive_since)
            .join(Person, Person.id == Membership.person_id)
            .join(Context, Context.id == Membership.context_id)
            .where(Context.context_id == COURSE, Person.sub == sub)
        ).one()
    return status, since is not None


def read_again(trainer: Visit) -> requests.Response:
    return trainer.post("/program/teams/roster", {"csrf": teams_csrf(trainer)})


def a_team_of_three(tool: ToolServer, platform: TestPlatform) -> Visit:
    names = teachers_launch(platform, 3)
    trainer = trainer_visit(tool, platform)
    create(trainer)
    assert form_team(trainer, tool, "ทีมวิทย์", names).status_code == 200
    return trainer


def three_eligible_teachers(tool: ToolServer, platform: TestPlatform) -> Visit:
    """A running program whose team of three has done three complete cycles (52.5 hours each); the trainer's visit."""
    running_program_with_a_team(tool, platform)
    teachers = [Visit(tool, launch(requests.Session(), platform, user)) for user in (TEACHER, *COLLEAGUES[:2])]
    observe_every_cycle(tool)
    for number in (1, 2, 3):
        for element in (1, 2, 3, 4, 5):
            assert record(teachers[0], cycle=str(number), element=str(element), held_on="2026-11-20", hours="3.5").ok
        for teacher in teachers:
            assert write(teacher, number).status_code == 200
    return trainer_visit(tool, platform)


def test_a_member_moodle_suspends_is_marked_as_having_left_at_the_next_read(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = a_team_of_three(tool, platform)
    assert status_of(tool, COLLEAGUES[0].sub) == ("Active", False)
    platform.services.suspend(COURSE, COLLEAGUES[0].sub)

    page = read_again(trainer)

    assert status_of(tool, COLLEAGUES[0].sub) == ("Inactive", True)
    plan = page.text.split("ทีมวิทย์", 1)[1].split("</table>", 1)[0]
    assert COLLEAGUES[0].name in plan  # kept in the team's history
    assert "left the course on" in plan or "ออกจากรายวิชา" in plan
    assert status_of(tool, TEACHER.sub) == ("Active", False)


def test_a_member_unenrolled_in_moodle_is_out_of_new_teams(tool: ToolServer, platform: TestPlatform) -> None:
    teachers_launch(platform, 3)
    trainer = trainer_visit(tool, platform)
    create(trainer)
    platform.services.unenrol(COURSE, COLLEAGUES[1].sub)

    page = trainer.get("/program/teams", lang="en")

    assert status_of(tool, COLLEAGUES[1].sub) == ("Inactive", True)
    gone = page.text.split(COLLEAGUES[1].name, 1)[0].rsplit("<input", 1)[1]
    assert "disabled" in gone and f"left the course on {TODAY_EN}" in page.text
    refused = form_team(trainer, tool, "ทีมใหม่", [TEACHER.name, COLLEAGUES[1].name], teams_csrf(trainer))
    assert refused.status_code == 409


def test_a_member_who_comes_back_is_active_again_at_the_next_read(tool: ToolServer, platform: TestPlatform) -> None:
    trainer = a_team_of_three(tool, platform)
    platform.services.suspend(COURSE, COLLEAGUES[0].sub)
    read_again(trainer)
    assert status_of(tool, COLLEAGUES[0].sub) == ("Inactive", True)
    platform.services.reenrol(COURSE, COLLEAGUES[0].sub)

    page = read_again(trainer)

    assert status_of(tool, COLLEAGUES[0].sub) == ("Active", False)
    assert "left the course" not in page.text and "ออกจากรายวิชา" not in page.text


def test_a_read_that_fails_half_way_marks_no_one_as_having_left(tool: ToolServer, platform: TestPlatform) -> None:
    trainer = a_team_of_three(tool, platform)
    platform.services.page_size = 2
    platform.services.unenrol(COURSE, COLLEAGUES[0].sub)
    platform.services.nrps_mode = "loop"  # every page read, then the last one's next link goes back to the first

    page = read_again(trainer)

    assert "could not be read from the LMS" in page.text
    assert status_of(tool, COLLEAGUES[0].sub) == ("Active", False)
    platform.services.nrps_mode = "down"
    read_again(trainer)
    assert status_of(tool, COLLEAGUES[0].sub) == ("Active", False)


def test_a_roster_that_lists_no_one_is_not_believed(tool: ToolServer, platform: TestPlatform) -> None:
    trainer = a_team_of_three(tool, platform)
    platform.services.rosters[COURSE] = []

    page = read_again(trainer)

    assert "could not be read from the LMS" in page.text and "lists no one" in page.text
    assert status_of(tool, TEACHER.sub) == ("Active", False)


def test_the_teams_sentence_says_where_the_list_of_teachers_came_from(tool: ToolServer, platform: TestPlatform) -> None:
    platform.services.rosters[COURSE] = [  # the course of these three teachers alone
        member(user.sub, user.name, user.given_name, user.family_name, user.email, user.roles)
        for user in (TRAINER, TEACHER, *COLLEAGUES[:2])
    ]
    trainer = a_team_of_three(tool, platform)

    page = trainer.get("/program/teams", lang="en").text

    assert "Every teacher on the course's roster from the LMS is already in a team." in page.replace("&#39;", "'")
    assert "Every teacher who has opened PLC Bridge" not in page

    platform.services.offer_nrps = False
    other = Visit(tool, launch(requests.Session(), platform, TRAINER, context_id="course-no-nrps"))
    create(other)
    assert "Every teacher who has opened PLC Bridge in this course is already in a team." in other.get(
        "/program/teams", lang="en"
    ).text.replace("&#39;", "'")


def test_a_teacher_who_left_keeps_what_they_did_and_is_out_of_the_eligible_count(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = three_eligible_teachers(tool, platform)
    assert "3 of 3 teachers are eligible" in trainer.get("/program/progress", lang="en").text
    platform.services.suspend(COURSE, COLLEAGUES[1].sub)

    read_again(trainer)
    program_view = trainer.get("/program/progress", lang="en").text

    assert "2 of 2 teachers are eligible for the certificate." in program_view
    assert "Teachers who left the course, not counted: 1." in program_view
    row = program_view.split(COLLEAGUES[1].name, 1)[1].split("</tr>", 1)[0]
    assert "3 / 3" in row and "52.5" in row and f"Left the course on {TODAY_EN}" in row
    certificates = trainer.get("/program/certificates", lang="en").text
    listed = certificates.split(COLLEAGUES[1].name, 1)[1].split("</tr>", 1)[0]
    assert f"left the course on {TODAY_EN}" in listed
    with tool.database.transaction() as db:
        left_id = db.scalars(
            select(Membership.id).join(Person, Person.id == Membership.person_id).where(Person.sub == COLLEAGUES[1].sub)
        ).one()
    own = trainer.get("/program/progress", lang="en", member=str(left_id)).text
    assert "Not eligible yet" in own and f"Left the course on {TODAY_EN}" in own and "52.5" in own


def test_the_progress_page_reads_a_roster_older_than_a_few_minutes_before_it_counts(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = a_team_of_three(tool, platform)
    platform.services.unenrol(COURSE, COLLEAGUES[0].sub)
    assert "0 of 3 teachers" in trainer.get("/program/progress", lang="en").text  # read a moment ago: not again
    with tool.database.transaction() as db:
        context = db.scalars(select(Context).where(Context.context_id == COURSE)).one()
        context.roster_synced_at = utcnow() - timedelta(minutes=10)

    page = trainer.get("/program/progress", lang="en").text

    assert "0 of 2 teachers" in page and "Teachers who left the course, not counted: 1." in page
    assert status_of(tool, COLLEAGUES[0].sub) == ("Inactive", True)
