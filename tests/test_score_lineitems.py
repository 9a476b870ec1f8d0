"""Issue 15, fix 1: a grade finds the line item that Deep Linking made, through the course's line-items service, by the
`resourceId` and `tag` the tool itself put in the content item; no launch of the new activity is needed. Against the
Moodle-like platform, which keeps a Deep Linking line item's resourceId and tag as Moodle 4.5 does."""

from __future__ import annotations

import requests
from sqlalchemy import select

from lti_tool.lti.activities import Activity
from lti_tool.lti.ags import REFLECTION_TAG
from lti_tool.lti.deep_linking import Choice, content_item
from lti_tool.lti.service_tokens import ServiceClient
from lti_tool.workers.scores import ScoreDelivery
from models.people import Context
from models.reflections import Reflection
from models.scores import ScorePost, ScoreState
from tests.conftest import TEACHER, TRAINER, ToolServer, launch
from tests.support.grading import Course, add_teachers, course_of, grade, reflections
from tests.support.lti_platform import TestPlatform
from tests.test_ags import teacher_reflection
from tests.test_program_pages import Visit, trainer_visit
from tests.test_reflections_page import ALL_THREES, reflection_id, write
from tests.test_reflections_page import grade as grade_on_page
from tests.test_sessions_page import running_program_with_a_team

REFLECTION_ONE = {"plc_activity": "reflection", "plc_cycle": "1"}


def worker(tool: ToolServer) -> ScoreDelivery:
    return ScoreDelivery(tool.database, ServiceClient(tool.database, timeout=5.0), base_backoff_seconds=0.0)


def deep_link_reflection(tool: ToolServer, platform: TestPlatform, cycle: int, resource_link_id: str) -> str:
    """The trainer adds cycle `cycle`'s reflection with Select content: the content item the tool returns, saved by the
    platform as Moodle saves it (its line item keeps the tool's resourceId and tag). Nobody launches it."""
    item = content_item(Choice(Activity("reflection", cycle), f"Reflection, cycle {cycle}"), tool.settings).to_dict()
    lineitem = platform.services.add_deep_linked_activity("course-42", resource_link_id, item)
    assert lineitem is not None
    return lineitem


def unlinked_reflection(tool: ToolServer, course: Course) -> int:
    """A reflection on cycle 1 written from a plain link, before the cycle's reflection activity existed."""
    rid = teacher_reflection(tool, course)
    with tool.database.transaction() as db:
        db.get(Reflection, rid).resource_link_id = None  # type: ignore[union-attr]
    return rid


def course_from_a_plain_link(tool: ToolServer, platform: TestPlatform) -> Course:
    launch(requests.Session(), platform, TEACHER)
    launch(requests.Session(), platform, TRAINER)
    return course_of(tool.database, "course-42", "rl-7", TRAINER.sub)


def test_a_grade_reaches_the_line_item_deep_linking_made_without_a_launch_of_the_new_activity(
    tool: ToolServer, platform: TestPlatform
) -> None:
    course = course_from_a_plain_link(tool, platform)
    lineitem = deep_link_reflection(tool, platform, 1, "rl-refl-1")
    rid = unlinked_reflection(tool, course)
    with tool.database.transaction() as db:
        post_id = grade(db, rid, course.trainer_id, total=6).id

    report = worker(tool).run_once()

    assert report.delivered == 1, report.errors
    assert platform.services.lineitem_creations == 0
    [received] = platform.services.received_scores
    assert received.lineitem_id == lineitem and received.score["userId"] == TEACHER.sub
    with tool.database.transaction() as db:
        post = db.get(ScorePost, post_id)
        assert post is not None and (post.state, post.lineitem_url) == (ScoreState.DELIVERED, lineitem)


def test_the_issue_case_graded_before_the_activity_existed_then_added_by_deep_linking_and_graded_again(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    write(Visit(tool, launch(requests.Session(), platform, TEACHER)), 1)  # from a plain link: no column yet
    trainer = trainer_visit(tool, platform)
    grade_on_page(trainer, reflection_id(tool), ALL_THREES)
    worker(tool).run_once()
    assert platform.services.received_scores == []

    lineitem = deep_link_reflection(tool, platform, 1, "rl-refl-1")  # added since; nobody has launched it
    grade_on_page(trainer, reflection_id(tool), {**ALL_THREES, "evidence": "4"}, "ปรับแล้ว")
    worker(tool).run_once()

    assert [s.lineitem_id for s in platform.services.received_scores][-1:] == [lineitem]
    assert platform.services.received_scores[-1].score["comment"] == "ปรับแล้ว"
    assert platform.services.lineitem_creations == 0
    with tool.database.transaction() as db:
        states = [p.state for p in db.scalars(select(ScorePost).order_by(ScorePost.id))]
    assert ScoreState.FAILED not in states and states[-1] == ScoreState.DELIVERED


def test_the_line_items_are_asked_for_by_the_resource_id_and_tag_of_the_content_item(
    tool: ToolServer, platform: TestPlatform
) -> None:
    course = course_from_a_plain_link(tool, platform)
    deep_link_reflection(tool, platform, 2, "rl-refl-2")  # another cycle's column: not this grade's
    other = platform.services.add_lineitem(
        "course-42", label="Quiz", scoreMaximum=10, resourceId="plc-reflection-cycle-1", tag="quiz"
    )
    mine = deep_link_reflection(tool, platform, 1, "rl-refl-1")
    with tool.database.transaction() as db:
        grade(db, unlinked_reflection(tool, course), course.trainer_id)

    worker(tool).run_once()

    assert [s.lineitem_id for s in platform.services.received_scores] == [mine]
    assert other != mine and platform.services.lineitems[mine]["resourceId"] == "plc-reflection-cycle-1"
    assert platform.services.lineitems[mine]["tag"] == REFLECTION_TAG


def test_the_courses_line_items_url_is_kept_from_any_launch_in_the_course(
    tool: ToolServer, platform: TestPlatform
) -> None:
    course_from_a_plain_link(tool, platform)
    with tool.database.transaction() as db:
        context = db.scalars(select(Context).where(Context.context_id == "course-42")).one()
        assert context.ags_lineitems == platform.services.lineitems_url("course-42")
        assert context.ags_scopes and any(s.endswith("/score") for s in context.ags_scopes)


def test_a_grade_whose_cycle_has_no_activity_yet_waits_for_it_and_goes_once_deep_linking_adds_it(
    tool: ToolServer, platform: TestPlatform
) -> None:
    course = course_from_a_plain_link(tool, platform)
    with tool.database.transaction() as db:
        post_id = grade(db, unlinked_reflection(tool, course), course.trainer_id).id

    first = worker(tool).run_once()

    assert (first.retried, first.failed) == (1, 0) and platform.services.lineitem_creations == 0
    with tool.database.transaction() as db:
        waiting = db.get(ScorePost, post_id)
        assert waiting is not None and waiting.state == ScoreState.PENDING
        assert waiting.reason_code == "no_activity" and "Deep Linking" in (waiting.last_error or "")
    lineitem = deep_link_reflection(tool, platform, 1, "rl-refl-1")
    assert worker(tool).run_once().delivered == 1
    assert [s.lineitem_id for s in platform.services.received_scores] == [lineitem]


def test_a_course_with_a_reflection_activity_but_no_line_item_gets_one_made_once(
    tool: ToolServer, platform: TestPlatform
) -> None:
    launch(requests.Session(), platform, TEACHER, resource_link_id="rl-refl-1", custom=REFLECTION_ONE)
    launch(requests.Session(), platform, TRAINER)
    course = course_of(tool.database, "course-42", "rl-refl-1", TRAINER.sub)
    ids = reflections(tool.database, course, add_teachers(tool.database, course, 2, prefix="made"))
    with tool.database.transaction() as db:
        for rid in ids:
            grade(db, rid, course.trainer_id)

    assert worker(tool).run_once().delivered == 2

    [item] = platform.services.lineitems.values()
    assert (item["resourceId"], item["tag"], item["resourceLinkId"]) == ("plc-reflection-cycle-1", REFLECTION_TAG,
                                                                         "rl-refl-1")  # fmt: skip
    assert platform.services.lineitem_creations == 1


# --- What the trainer who grades sees ----------------------------------------------------------------------------


def test_the_trainer_sees_that_the_grade_waits_for_the_cycles_activity_then_that_it_reached_the_lms(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    write(Visit(tool, launch(requests.Session(), platform, TEACHER)), 1)  # from a plain link: no column yet
    trainer = trainer_visit(tool, platform)

    saved = grade_on_page(trainer, reflection_id(tool), ALL_THREES)

    assert saved.status_code == 200 and 'data-delivery="pending"' in saved.text
    assert "The grade waits to go to the LMS gradebook" in saved.text  # not only "the grade is saved"
    worker(tool).run_once()
    in_thai = trainer.get(f"/program/reflections/{reflection_id(tool)}", lang="th")
    assert "คะแนนกำลังรอส่งไปยังสมุดคะแนนของ LMS" in in_thai.text
    assert "ยังไม่มีกิจกรรมการสะท้อนผลของวงรอบที่ 1" in in_thai.text and "Deep Linking" in in_thai.text
    listing = trainer.get("/program/reflections", lang="en")
    assert 'data-delivery="pending"' in listing.text and "no reflection activity for cycle 1 yet" in listing.text

    deep_link_reflection(tool, platform, 1, "rl-refl-1")
    worker(tool).run_once()

    listing = trainer.get("/program/reflections", lang="en")
    assert 'data-delivery="delivered"' in listing.text and "in the LMS gradebook" in listing.text
    review = trainer.get(f"/program/reflections/{reflection_id(tool)}", lang="th")
    assert 'data-delivery="delivered"' in review.text and "คะแนนถึงสมุดคะแนนของ LMS แล้ว เมื่อ" in review.text
    assert "พ.ศ. 25" in review.text  # the day it arrived, in the Buddhist Era


def test_the_trainer_sees_a_grade_the_lms_refused_and_why(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    write(
        Visit(tool, launch(requests.Session(), platform, TEACHER, resource_link_id="rl-r1", custom=REFLECTION_ONE)), 1
    )
    trainer = trainer_visit(tool, platform)
    grade_on_page(trainer, reflection_id(tool), ALL_THREES)
    platform.services.ags_mode = "forbidden"
    worker(tool).run_once()

    review = trainer.get(f"/program/reflections/{reflection_id(tool)}", lang="en")

    assert 'data-delivery="failed"' in review.text and "The LMS refused the score." in review.text
    assert "site administrator can send it again" in review.text
