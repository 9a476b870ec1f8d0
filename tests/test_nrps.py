"""The course roster from the LMS (LTI NRPS) on the teams page: paging, roles, Inactive members (from a platform that
lists them; Moodle leaves them out, tests/test_roster_leavers.py), a looping or broken roster that changes nothing,
and a course of 2,000."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests
from sqlalchemy import Connection, event, func, insert, select

from lti_tool.lti.nrps import refresh
from lti_tool.lti.service_tokens import ServiceClient
from models.people import Context, Membership, Person
from models.teams import TeamMember
from tests.conftest import LIS, TEACHER, TRAINER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_program_pages import Visit, create, trainer_visit
from tests.test_program_teams import form_team, teams_csrf

INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"


def member(user_id: str, name: str, role: str = "Learner", status: str = "Active", **extra: Any) -> dict[str, Any]:
    return {"user_id": user_id, "name": name, "roles": [LIS + role], "status": status, **extra}


def roster_of(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """The trainer and the teacher of the fixtures, and more."""
    return [
        member(TRAINER.sub, TRAINER.name, "Instructor"),
        member(TEACHER.sub, TEACHER.name, email=TEACHER.email),
        *extra,
    ]


def people(tool: ToolServer) -> dict[str, tuple[str, str]]:
    """sub → (app role, status) of everyone with a membership in course-42."""
    with tool.database.transaction() as db:
        rows = db.execute(
            select(Person.sub, Membership.app_role, Membership.status)
            .join(Membership, Membership.person_id == Person.id)
            .join(Context, Context.id == Membership.context_id)
            .where(Context.context_id == "course-42")
        ).all()
    return {sub: (role, status) for sub, role, status in rows}


def teams_page(visit: Visit) -> str:
    return visit.get("/program/teams", lang="en").text


def test_the_launch_keeps_the_courses_memberships_url(tool: ToolServer, platform: TestPlatform) -> None:
    launch(requests.Session(), platform, TEACHER)
    with tool.database.transaction() as db:
        context = db.scalars(select(Context).where(Context.context_id == "course-42")).one()
    assert context.nrps_memberships_url == platform.services.memberships_url("course-42")


def test_the_teams_page_offers_teachers_from_the_lms_roster_who_never_opened_the_tool(
    tool: ToolServer, platform: TestPlatform
) -> None:
    platform.services.rosters["course-42"] = roster_of(
        member("u-nrps-1", "ประยุทธ แก้วมณี", given_name="ประยุทธ", family_name="แก้วมณี"),
        member("u-nrps-2", "วิไลวรรณ ศรีสุข"),
    )
    trainer = trainer_visit(tool, platform)
    create(trainer)

    page = teams_page(trainer)

    assert "ประยุทธ แก้วมณี" in page and "วิไลวรรณ ศรีสุข" in page and TEACHER.name in page
    assert "the course&#39;s roster from the LMS" in page or "the course's roster from the LMS" in page
    assert people(tool)["u-nrps-1"] == ("teacher", "Active")
    assert form_team(trainer, tool, "ทีมใหม่", ["ประยุทธ แก้วมณี", "วิไลวรรณ ศรีสุข", TEACHER.name]).status_code == 200
    with tool.database.transaction() as db:
        assert db.scalar(select(func.count()).select_from(TeamMember)) == 3


def test_roles_map_to_app_roles_and_people_with_no_known_role_are_left_out(
    tool: ToolServer, platform: TestPlatform
) -> None:
    platform.services.rosters["course-42"] = roster_of(
        {
            "user_id": "u-ta",
            "name": "ผู้ช่วยสอน",
            "status": "Active",
            "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"],
        },
        {"user_id": "u-admin", "name": "ผู้บริหาร", "roles": [INSTITUTION + "Administrator"], "status": "Active"},
        member("u-mentor", "ผู้ปกครอง", "Mentor"),
        {"user_id": "u-no-status", "name": "ไม่มีสถานะ", "roles": [LIS + "Learner"]},
    )
    trainer = trainer_visit(tool, platform)

    teams_page(trainer)

    found = people(tool)
    assert found["u-ta"] == ("trainer", "Active") and found["u-admin"] == ("admin", "Active")
    assert found["u-no-status"] == ("teacher", "Active")
    assert "u-mentor" not in found


def test_every_page_is_read_by_following_the_next_links(tool: ToolServer, platform: TestPlatform) -> None:
    platform.services.page_size = 3
    platform.services.rosters["course-42"] = roster_of(*[member(f"u-page-{n}", f"ครู {n}") for n in range(9)])
    trainer = trainer_visit(tool, platform)
    before = platform.services.service_requests

    teams_page(trainer)

    assert platform.services.service_requests - before == 4  # 11 members, 3 a page
    assert sum(1 for sub in people(tool) if sub.startswith("u-page-")) == 9


def test_the_roster_is_not_read_again_on_every_visit_but_the_trainer_can_ask_for_it(
    tool: ToolServer, platform: TestPlatform
) -> None:
    platform.services.rosters["course-42"] = roster_of()
    trainer = trainer_visit(tool, platform)
    create(trainer)
    teams_page(trainer)
    read = platform.services.service_requests
    trainer.get("/program/teams")
    assert platform.services.service_requests == read

    platform.services.rosters["course-42"] = roster_of(member("u-late", "ครูมาทีหลัง"))
    refreshed = trainer.post("/program/teams/roster", {"csrf": teams_csrf(trainer)})

    assert refreshed.status_code == 200 and "ครูมาทีหลัง" in refreshed.text
    assert platform.services.service_requests == read + 1


def test_asking_for_the_roster_needs_the_forms_token_and_a_trainer(tool: ToolServer, platform: TestPlatform) -> None:
    platform.services.rosters["course-42"] = roster_of(member("u-x", "ครูเอ็กซ์"))
    trainer = trainer_visit(tool, platform)
    create(trainer)
    assert trainer.post("/program/teams/roster", {"csrf": "0" * 64}).status_code == 400
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    assert teacher.post("/program/teams/roster", {"csrf": "0" * 64}).status_code == 403
    assert "u-x" not in people(tool)


def test_an_inactive_member_is_marked_and_cannot_be_put_in_a_new_team(tool: ToolServer, platform: TestPlatform) -> None:
    platform.services.lists_suspended = True  # a platform that lists them as Inactive (NRPS §2.3), unlike Moodle
    platform.services.rosters["course-42"] = roster_of(
        member("u-away", "สมชาย ลาพัก", status="Inactive"), member("u-here", "สมหญิง อยู่ดี")
    )
    trainer = trainer_visit(tool, platform)
    create(trainer)

    page = teams_page(trainer)

    assert people(tool)["u-away"] == ("teacher", "Inactive")
    away = page.split("สมชาย ลาพัก", 1)[0].rsplit("<input", 1)[1]
    assert "disabled" in away and "left the course on" in page
    refused = form_team(trainer, tool, "ทีมลาพัก", ["สมชาย ลาพัก", "สมหญิง อยู่ดี"], teams_csrf(trainer))
    assert refused.status_code == 409 and "inactive" in refused.text
    with tool.database.transaction() as db:
        assert db.scalar(select(func.count()).select_from(TeamMember)) == 0


def test_a_member_made_inactive_later_is_marked_inactive_at_the_next_read(
    tool: ToolServer, platform: TestPlatform
) -> None:
    platform.services.lists_suspended = True
    platform.services.rosters["course-42"] = roster_of()
    trainer = trainer_visit(tool, platform)
    create(trainer)
    teams_page(trainer)
    assert people(tool)[TEACHER.sub] == ("teacher", "Active")
    platform.services.rosters["course-42"] = [
        member(TRAINER.sub, TRAINER.name, "Instructor"),
        member(TEACHER.sub, TEACHER.name, status="Inactive"),
    ]
    trainer.post("/program/teams/roster", {"csrf": teams_csrf(trainer)})
    assert people(tool)[TEACHER.sub] == ("teacher", "Inactive")


def _refused_read(tool: ToolServer, platform: TestPlatform, mode: str, reason: str) -> None:
    platform.services.page_size = 2
    platform.services.rosters["course-42"] = roster_of(member("u-first", "ครูคนแรก"))
    trainer = trainer_visit(tool, platform)
    create(trainer)
    teams_page(trainer)
    before = people(tool)
    platform.services.rosters["course-42"] = roster_of(*[member(f"u-new-{n}", f"ครูใหม่ {n}") for n in range(5)])
    platform.services.nrps_mode = mode

    after = trainer.post("/program/teams/roster", {"csrf": teams_csrf(trainer)})

    assert after.status_code == 200 and "could not be read from the LMS" in after.text and reason in after.text
    assert "ครูคนแรก" in after.text and "ครูใหม่ 0" not in after.text
    assert people(tool) == before  # not one member of the pages read before the fault


def test_a_roster_whose_next_link_loops_back_changes_nothing_and_says_why(
    tool: ToolServer, platform: TestPlatform
) -> None:
    _refused_read(tool, platform, "loop", "paging loops")


def test_a_roster_page_that_points_to_itself_changes_nothing_and_says_why(
    tool: ToolServer, platform: TestPlatform
) -> None:
    _refused_read(tool, platform, "self_loop", "paging loops")


def test_a_roster_that_is_not_json_changes_nothing_and_says_why(tool: ToolServer, platform: TestPlatform) -> None:
    _refused_read(tool, platform, "garbage", "not an NRPS membership container")


def test_a_roster_service_that_is_down_changes_nothing_and_says_why(tool: ToolServer, platform: TestPlatform) -> None:
    _refused_read(tool, platform, "down", "HTTP 503")


def test_the_error_goes_away_when_the_roster_is_read_again(tool: ToolServer, platform: TestPlatform) -> None:
    platform.services.rosters["course-42"] = roster_of()
    platform.services.nrps_mode = "down"
    trainer = trainer_visit(tool, platform)
    create(trainer)
    page = teams_page(trainer)
    assert "could not be read from the LMS" in page
    platform.services.nrps_mode = "ok"
    page = trainer.post("/program/teams/roster", {"csrf": teams_csrf(trainer)})
    assert "could not be read" not in page.text and "Read from the LMS on" in page.text


def test_a_course_without_the_nrps_claim_keeps_the_people_who_launched(
    tool: ToolServer, platform: TestPlatform
) -> None:
    platform.services.offer_nrps = False
    launch(requests.Session(), platform, TEACHER)
    trainer = trainer_visit(tool, platform)
    create(trainer)

    page = teams_page(trainer)

    assert platform.services.service_requests == 0 and "Course roster" not in page and TEACHER.name in page


def test_a_roster_of_2000_members_is_read_and_stored_quickly_and_the_page_shows_them(
    tool: ToolServer, platform: TestPlatform
) -> None:
    platform.services.page_size = 100
    platform.services.lists_suspended = True
    platform.services.rosters["course-42"] = roster_of(
        *[member(f"u-big-{n:04d}", f"ครู ลำดับ{n:04d}", status="Inactive" if n % 50 == 0 else "Active")
          for n in range(2000)]
    )  # fmt: skip
    trainer = trainer_visit(tool, platform)
    create(trainer)
    with tool.database.transaction() as db:
        context_id = db.scalars(select(Context.id).where(Context.context_id == "course-42")).one()

    started = time.perf_counter()
    result = refresh(tool.database, ServiceClient(tool.database), context_id, force=True)
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    page = trainer.get("/program/teams")
    page_seconds = time.perf_counter() - started

    assert (
        result.change is not None and result.change.people_added == 2001
    )  # and the fixtures' teacher, who never launched here
    print(f"\nNRPS roster of 2,002 in 21 pages read and stored in {read_seconds:.2f} s; page in {page_seconds:.2f} s")
    assert read_seconds < 15 and page_seconds < 15
    assert page.text.count('name="member"') == 2001 and "ครู ลำดับ1999" in page.text
    statuses = people(tool)
    assert sum(1 for sub, (_, status) in statuses.items() if status == "Inactive") == 40
    again = time.perf_counter()
    assert refresh(tool.database, ServiceClient(tool.database), context_id, force=True).change.memberships_updated == 0  # type: ignore[union-attr]
    assert time.perf_counter() - again < 15


def test_a_team_member_who_becomes_inactive_is_marked_in_the_teams_plan(
    tool: ToolServer, platform: TestPlatform
) -> None:
    platform.services.lists_suspended = True
    platform.services.rosters["course-42"] = roster_of(member("u-b", "ครูบี"), member("u-c", "ครูซี"))
    trainer = trainer_visit(tool, platform)
    create(trainer)
    teams_page(trainer)
    form_team(trainer, tool, "ทีมเอ", [TEACHER.name, "ครูบี", "ครูซี"], teams_csrf(trainer))
    platform.services.rosters["course-42"] = roster_of(member("u-b", "ครูบี", status="Inactive"), member("u-c", "ครูซี"))

    page = trainer.post("/program/teams/roster", {"csrf": teams_csrf(trainer)})

    plan = page.text.split("ทีมเอ", 1)[1].split("</table>", 1)[0]
    assert 'ครูบี <span class="muted">(' in plan and 'ครูซี <span class="muted">(' not in plan


# --- Races and ids a sub cannot be --------------------------------------------------------------------------


@contextmanager
def meanwhile(tool: ToolServer, table: str, competing: Callable[[Connection], None]) -> Iterator[list[str]]:
    """Just before the tool's first INSERT INTO `table`, another writer (a second trainer's roster read, the person's
    own first launch) commits `competing` on its own connection: the race, on the real database, every time."""
    fired: list[str] = []

    def before(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        if fired or not statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()}"):
            return
        fired.append(statement)
        with tool.database.engine.begin() as other:
            competing(other)

    event.listen(tool.database.engine, "before_cursor_execute", before)
    try:
        yield fired
    finally:
        event.remove(tool.database.engine, "before_cursor_execute", before)


def course_row(tool: ToolServer) -> Context:
    with tool.database.transaction() as db:
        return db.scalars(select(Context).where(Context.context_id == "course-42")).one()


def test_a_person_added_by_someone_else_while_the_roster_is_read_is_used_not_added_twice(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)
    context = course_row(tool)
    platform.services.rosters["course-42"] = roster_of(member("u-race", "ครูแข่งกัน"), member("u-calm", "ครูสบาย"))

    def first_launch(other: Connection) -> None:
        other.execute(insert(Person).values(platform_id=context.platform_id, sub="u-race", name="ครูแข่งกัน (เปิดเอง)"))

    with meanwhile(tool, "people", first_launch) as fired:
        page = trainer.post("/program/teams/roster", {"csrf": teams_csrf(trainer)})

    assert fired and page.status_code == 200 and "ครูสบาย" in page.text
    with tool.database.transaction() as db:
        rows = db.execute(select(Person.name).where(Person.sub == "u-race")).all()
    assert [r.name for r in rows] == ["ครูแข่งกัน (เปิดเอง)"]  # one row: theirs
    assert people(tool)["u-race"] == ("teacher", "Active") and people(tool)["u-calm"] == ("teacher", "Active")


def test_a_membership_added_by_someone_else_while_the_roster_is_read_is_kept_not_added_twice(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)
    context = course_row(tool)
    with tool.database.transaction() as db:
        person = Person(platform_id=context.platform_id, sub="u-race-m", name="ครูสองแท็บ")
        db.add(person)
        db.flush()
        person_id = person.id
    # Only people the tool knows: no person is added first (on SQLite that write would hold the one writer's lock
    # and the other writer would wait for this read to commit: the race cannot happen there).
    platform.services.rosters["course-42"] = [
        member(TRAINER.sub, TRAINER.name, "Instructor"),
        member("u-race-m", "ครูสองแท็บ"),
    ]

    def other_trainers_read(other: Connection) -> None:
        other.execute(
            insert(Membership).values(
                context_id=context.id, person_id=person_id, app_role="teacher", status="Active", lti_roles=[]
            )
        )

    with meanwhile(tool, "memberships", other_trainers_read) as fired:
        page = trainer.post("/program/teams/roster", {"csrf": teams_csrf(trainer)})

    assert fired and page.status_code == 200 and "ครูสองแท็บ" in page.text
    with tool.database.transaction() as db:
        count = db.scalar(select(func.count()).select_from(Membership).where(Membership.person_id == person_id))
    assert count == 1


def test_two_trainers_reading_the_roster_at_once_both_get_the_page_and_everyone_once(
    tool: ToolServer, platform: TestPlatform
) -> None:
    trainer = trainer_visit(tool, platform)
    create(trainer)
    other = trainer_visit(tool, platform)
    platform.services.rosters["course-42"] = roster_of(*[member(f"u-both-{n}", f"ครู {n}") for n in range(200)])
    tokens = [teams_csrf(trainer), teams_csrf(other)]
    pages: list[int] = []

    def read(visit: Visit, token: str) -> None:
        pages.append(visit.post("/program/teams/roster", {"csrf": token}).status_code)

    threads = [threading.Thread(target=read, args=pair) for pair in zip([trainer, other], tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert pages == [200, 200]
    assert sum(1 for sub in people(tool) if sub.startswith("u-both-")) == 200
    with tool.database.transaction() as db:
        subs = db.scalars(select(Person.sub).where(Person.sub.like("u-both-%"))).all()
    assert len(subs) == len(set(subs)) == 200


def test_members_whose_user_id_is_longer_than_a_sub_may_be_are_left_out_and_the_rest_are_read(
    tool: ToolServer, platform: TestPlatform
) -> None:
    longest = "s" * 255
    too_long = ["x" * 255 + "a", "x" * 255 + "b", "y" * 4000]  # the first two would be one person if cut short
    platform.services.rosters["course-42"] = roster_of(
        member(longest, "ครูรหัสยาวพอดี"), *[member(sub, f"ครูรหัสยาวเกิน {n}") for n, sub in enumerate(too_long)]
    )
    trainer = trainer_visit(tool, platform)
    create(trainer)

    page = trainer.post("/program/teams/roster", {"csrf": teams_csrf(trainer)})

    assert page.status_code == 200 and "ครูรหัสยาวพอดี" in page.text and "ครูรหัสยาวเกิน" not in page.text
    found = people(tool)
    assert found[longest] == ("teacher", "Active") and found[TEACHER.sub] == ("teacher", "Active")
    with tool.database.transaction() as db:
        assert db.scalars(select(Person).where(func.length(Person.sub) > 255)).all() == []
        assert db.scalars(select(Person).where(Person.sub.like("x%"))).all() == []


def test_the_roster_change_counts_the_left_out_ids(tool: ToolServer, platform: TestPlatform) -> None:
    platform.services.rosters["course-42"] = roster_of(member("z" * 256, "ยาวเกิน"), member("u-fine", "ครูปกติ"))
    launch(requests.Session(), platform, TRAINER)

    result = refresh(tool.database, ServiceClient(tool.database), course_row(tool).id, force=True)

    assert result.read and result.change is not None
    assert (result.change.skipped_ids, result.change.people_added) == (1, 2)  # the teacher and u-fine
