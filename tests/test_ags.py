"""Grades to the LMS gradebook (LTI AGS) through the score outbox, against the test platform's real AGS endpoints."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from sqlalchemy import delete, select, update

from lti_tool.lti.ags import REFLECTION_TAG, scores_url
from lti_tool.lti.claims import SCOPE_LINEITEM, SCOPE_SCORE
from lti_tool.lti.service_tokens import ServiceClient
from lti_tool.workers.scores import ScoreDelivery
from models import scores as score_outbox
from models.base import utcnow
from models.people import Context, Membership, Person, ResourceLink
from models.platform import Platform
from models.programs import Program
from models.reflections import Reflection
from models.scores import ScorePost, ScoreState
from models.teams import TeamMember
from tests.conftest import LIS, TEACHER, TRAINER, ToolServer, launch, register
from tests.support.grading import Course, add_teachers, course_of, grade, reflections
from tests.support.lti_platform import LaunchUser, TestPlatform
from tests.support.waiting import wait_until
from tests.test_program_pages import Visit, trainer_visit
from tests.test_reflections_page import ALL_THREES, reflection_id, write
from tests.test_reflections_page import grade as grade_on_page
from tests.test_sessions_page import running_program_with_a_team

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SECOND_TEACHER = LaunchUser(
    sub="u-teacher-ags-2",
    name="ประยุทธ แก้วมณี",
    given_name="ประยุทธ",
    family_name="แก้วมณี",
    email="prayut@example.org",
    roles=[LIS + "Learner"],
)


@pytest.fixture
def course(tool: ToolServer, platform: TestPlatform) -> Course:
    """A teacher and the trainer launched from activity rl-7 of course-42; the platform offers AGS on it."""
    launch(requests.Session(), platform, TEACHER)
    launch(requests.Session(), platform, TRAINER)
    return course_of(tool.database, "course-42", "rl-7", TRAINER.sub)


def worker(tool: ToolServer, timeout: float = 5.0) -> ScoreDelivery:
    """A worker with no backoff, so a test drives its passes one by one."""
    return ScoreDelivery(tool.database, ServiceClient(tool.database, timeout=timeout), base_backoff_seconds=0.0)


def teacher_reflection(tool: ToolServer, course: Course) -> int:
    with tool.database.transaction() as db:
        teacher_id = db.scalars(
            select(Membership.id)
            .join(Person)
            .where(Person.sub == TEACHER.sub, Membership.context_id == course.context_id)
        ).one()
    return reflections(tool.database, course, [teacher_id])[0]


def graded(tool: ToolServer, course: Course, reflection_id: int, total: int = 7, comment: str = "ดีมาก") -> int:
    with tool.database.transaction() as db:
        return grade(db, reflection_id, course.trainer_id, total, comment).id


def post_of(tool: ToolServer, post_id: int) -> ScorePost:
    with tool.database.transaction() as db:
        post = db.get(ScorePost, post_id)
        assert post is not None
        return post


# --- The claim ----------------------------------------------------------------------------------------------


def test_a_launch_keeps_the_activitys_ags_claim_on_its_resource_link(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    with tool.database.transaction() as db:
        link = db.get(ResourceLink, course.resource_link_id)
        assert link is not None
        assert link.ags_lineitems == platform.services.lineitems_url("course-42")
        assert link.ags_lineitem is None
        assert SCOPE_SCORE in (link.ags_scopes or []) and SCOPE_LINEITEM in (link.ags_scopes or [])


def test_a_launch_without_the_ags_claim_leaves_the_link_without_a_gradebook_column_and_the_score_parks(
    tool: ToolServer, platform: TestPlatform
) -> None:
    platform.services.offer_ags = False
    launch(requests.Session(), platform, TEACHER)
    launch(requests.Session(), platform, TRAINER)
    course = course_of(tool.database, "course-42", "rl-7", TRAINER.sub)
    with tool.database.transaction() as db:
        link = db.get(ResourceLink, course.resource_link_id)
        assert link is not None and (link.ags_lineitems, link.ags_lineitem, link.ags_scopes) == (None, None, None)
    post_id = graded(tool, course, teacher_reflection(tool, course))

    assert worker(tool).run_once().failed == 1
    assert "no score scope" in (post_of(tool, post_id).last_error or "")
    assert platform.services.service_requests == 0


# --- Delivery -----------------------------------------------------------------------------------------------


def test_a_graded_reflection_arrives_as_one_score_on_a_line_item_made_by_resource_id_and_tag(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    post_id = graded(tool, course, teacher_reflection(tool, course), total=7, comment="ละเอียดดี")

    report = worker(tool).run_once()

    assert (report.delivered, report.lineitems_created) == (1, 1)
    [item] = platform.services.lineitems.values()
    assert (item["resourceId"], item["tag"], item["resourceLinkId"]) == (
        "plc-reflection-cycle-1",
        REFLECTION_TAG,
        "rl-7",
    )
    [received] = platform.services.received_scores
    score = received.score
    assert received.lineitem_id == item["id"] and received.applied
    assert score["userId"] == TEACHER.sub
    assert (score["scoreGiven"], score["scoreMaximum"], score["comment"]) == (7, 8, "ละเอียดดี")
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")
    assert score["timestamp"].endswith("+00:00") and "." in score["timestamp"]
    post = post_of(tool, post_id)
    assert (post.state, post.lineitem_url, post.last_error) == (ScoreState.DELIVERED, item["id"], None)


def test_the_results_service_then_shows_the_grade_for_the_teacher(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    graded(tool, course, teacher_reflection(tool, course), total=6)
    worker(tool).run_once()
    client = ServiceClient(tool.database)
    [item_id] = platform.services.lineitems
    with tool.database.transaction() as db:
        platform_id = db.get(ResourceLink, course.resource_link_id).context.platform_id  # type: ignore[union-attr]
    answer = client.request(
        platform_id, ["https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"], "GET", item_id + "/results",
        accept="application/vnd.ims.lis.v2.resultcontainer+json",
    )  # fmt: skip
    assert answer.status_code == 200
    assert [(r["userId"], r["resultScore"], r["resultMaximum"]) for r in answer.json()] == [(TEACHER.sub, 6, 8)]


def test_the_issue_case_the_ags_endpoint_is_down_a_grade_waits_and_exactly_one_score_arrives_when_it_is_back(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    platform.services.ags_mode = "down"
    post_id = graded(tool, course, teacher_reflection(tool, course))
    score_worker = worker(tool)

    first, second = score_worker.run_once(), score_worker.run_once()

    assert (first.retried, second.retried, platform.services.received_scores) == (1, 1, [])
    waiting = post_of(tool, post_id)
    assert waiting.state == ScoreState.PENDING and "HTTP 503" in (waiting.last_error or "")
    platform.services.ags_mode = "ok"
    assert score_worker.run_once().delivered == 1
    assert score_worker.run_once().handled == 0
    assert len(platform.services.received_scores) == 1
    assert post_of(tool, post_id).state == ScoreState.DELIVERED


def test_a_score_that_fails_waits_longer_after_each_failure_with_jitter(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    platform.services.ags_mode = "error"
    post_id = graded(tool, course, teacher_reflection(tool, course))
    score_worker = ScoreDelivery(tool.database, ServiceClient(tool.database), base_backoff_seconds=10.0)
    delays = []
    for _ in range(3):
        before = utcnow()
        score_worker.run_once()
        delays.append((post_of(tool, post_id).next_attempt_at - before).total_seconds())
        with tool.database.transaction() as db:
            db.execute(update(ScorePost).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert 5 <= delays[0] <= 10.5 and 10 <= delays[1] <= 20.5 and 20 <= delays[2] <= 40.5
    assert platform.services.received_scores == []


def test_a_grade_whose_transaction_rolls_back_sends_no_score(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    reflection_id = teacher_reflection(tool, course)
    with pytest.raises(RuntimeError), tool.database.transaction() as db:
        grade(db, reflection_id, course.trainer_id)
        raise RuntimeError("the request failed after grading")
    assert worker(tool).run_once().handled == 0
    with tool.database.transaction() as db:
        assert db.scalars(select(ScorePost)).all() == []
    assert platform.services.received_scores == []


def test_a_link_with_its_own_line_item_gets_the_score_there_and_no_line_item_is_made(
    tool: ToolServer, platform: TestPlatform
) -> None:
    own = platform.services.add_lineitem("course-42", label="Reflection (Moodle)", scoreMaximum=8)
    platform.services.link_lineitems["rl-7"] = own
    launch(requests.Session(), platform, TEACHER)
    launch(requests.Session(), platform, TRAINER)
    course = course_of(tool.database, "course-42", "rl-7", TRAINER.sub)
    graded(tool, course, teacher_reflection(tool, course))

    worker(tool).run_once()

    assert platform.services.lineitem_creations == 0
    assert [s.lineitem_id for s in platform.services.received_scores] == [own]


def test_a_line_item_already_on_the_platform_for_the_resource_id_is_found_not_made_again(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    # A worker that made the line item and died before it could note it: the next one finds it by resourceId.
    earlier = platform.services.add_lineitem(
        "course-42", label="PLC", scoreMaximum=8, resourceId="reflection:rl-7", tag=REFLECTION_TAG
    )
    platform.services.add_lineitem("course-42", label="Other", scoreMaximum=10, resourceId="quiz-1", tag="quiz")
    graded(tool, course, teacher_reflection(tool, course))

    worker(tool).run_once()

    assert platform.services.lineitem_creations == 0
    assert [s.lineitem_id for s in platform.services.received_scores] == [earlier]


def test_the_second_teachers_grade_goes_to_the_line_item_made_for_the_first(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    first = teacher_reflection(tool, course)
    graded(tool, course, first)
    worker(tool).run_once()
    [second_teacher] = add_teachers(tool.database, course, 1, prefix="second")
    with tool.database.transaction() as db:
        reflection = db.get(Reflection, first)
        assert reflection is not None
        reflection.cycle.team.members.append(TeamMember(membership_id=second_teacher))
        other = Reflection(cycle=reflection.cycle, membership_id=second_teacher, text="ครั้งที่สอง",
                           resource_link_id=course.resource_link_id)  # fmt: skip
        db.add(other)
        db.flush()
        other_id = other.id
    graded(tool, course, other_id, total=5)

    worker(tool).run_once()

    assert platform.services.lineitem_creations == 1
    assert len({s.lineitem_id for s in platform.services.received_scores}) == 1
    assert sorted(s.score["userId"] for s in platform.services.received_scores) == ["second-0", TEACHER.sub]


def test_a_regrade_sends_a_newer_score_and_the_platform_keeps_the_newest(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    reflection_id = teacher_reflection(tool, course)
    graded(tool, course, reflection_id, total=4)
    graded(tool, course, reflection_id, total=8, comment="แก้ไขแล้ว")

    worker(tool).run_once()

    assert [s.score["scoreGiven"] for s in platform.services.received_scores] == [4, 8]
    assert [r["scoreGiven"] for r in platform.services.results.values()] == [8]


def test_a_resent_score_is_the_same_score_and_the_platform_keeps_one_grade(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    post_id = graded(tool, course, teacher_reflection(tool, course))
    worker(tool).run_once()
    with tool.database.transaction() as db:  # as if a worker died after posting, before it could commit
        db.execute(update(ScorePost).where(ScorePost.id == post_id).values(state=ScoreState.PENDING.value))

    worker(tool).run_once()

    first, again = platform.services.received_scores
    assert first.score == again.score and (first.applied, again.applied) == (True, False)
    assert len(platform.services.results) == 1 and platform.services.lineitem_creations == 1


@pytest.mark.postgres
def test_two_workers_at_once_make_one_line_item_and_send_each_score_once(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    if not tool.settings.database_url.startswith("postgresql"):
        pytest.skip("several workers at once need PostgreSQL's SKIP LOCKED; SQLite runs one")
    teachers = add_teachers(tool.database, course, 40, prefix="many")
    ids = reflections(tool.database, course, teachers)
    with tool.database.transaction() as db:
        for reflection_id in ids:
            grade(db, reflection_id, course.trainer_id)
    platform.services.slow_seconds = 0.0
    workers = [
        ScoreDelivery(tool.database, ServiceClient(tool.database), batch_size=5, base_backoff_seconds=0.0)
        for _ in range(4)
    ]
    barrier = threading.Barrier(len(workers))

    def drain(w: ScoreDelivery) -> None:
        barrier.wait()
        wait_until(lambda: not w.run_once().handled, timeout=60, interval=0, message="the worker never drained")

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert platform.services.lineitem_creations == 1
    assert len(platform.services.received_scores) == 40
    assert len({s.score["userId"] for s in platform.services.received_scores}) == 40


# --- What the platform answers ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["error", "garbage", "down"])
def test_an_ags_endpoint_answering_5xx_or_garbage_keeps_the_score_waiting_with_the_reason(
    tool: ToolServer, platform: TestPlatform, course: Course, mode: str
) -> None:
    platform.services.ags_mode = mode
    post_id = graded(tool, course, teacher_reflection(tool, course))

    assert worker(tool).run_once().retried == 1

    post = post_of(tool, post_id)
    assert post.state == ScoreState.PENDING and post.attempts == 1
    assert "line items container" in (post.last_error or "")
    with tool.database.transaction() as db:
        assert db.get(ResourceLink, course.resource_link_id).tool_lineitem is None  # type: ignore[union-attr]
    platform.services.ags_mode = "ok"
    assert worker(tool).run_once().delivered == 1
    assert len(platform.services.received_scores) == 1


@pytest.mark.parametrize("mode", ["forbidden", "bad_request"])
def test_an_ags_endpoint_answering_a_lasting_4xx_parks_the_score_as_failed_and_an_admin_can_resend_it(
    tool: ToolServer, platform: TestPlatform, course: Course, mode: str
) -> None:
    platform.services.ags_mode = mode
    post_id = graded(tool, course, teacher_reflection(tool, course))

    assert worker(tool).run_once().failed == 1
    assert worker(tool).run_once().handled == 0  # parked: not tried again by itself

    post = post_of(tool, post_id)
    assert post.state == ScoreState.FAILED and (
        "HTTP 403" in (post.last_error or "") or "HTTP 400" in (post.last_error or "")
    )
    platform.services.ags_mode = "ok"
    with tool.database.transaction() as db:
        assert score_outbox.resend(db, post.platform_id) == 1
    assert worker(tool).run_once().delivered == 1
    assert len(platform.services.received_scores) == 1


def test_a_slow_platform_delays_the_score_and_does_not_lose_it(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    platform.services.ags_mode, platform.services.slow_seconds = "slow", 1.5
    post_id = graded(tool, course, teacher_reflection(tool, course))

    assert worker(tool, timeout=0.5).run_once().retried == 1

    assert "cannot be reached" in (post_of(tool, post_id).last_error or "")
    platform.services.ags_mode = "ok"
    assert worker(tool).run_once().delivered == 1


def test_a_reflection_from_no_lms_activity_waits_for_its_cycles_activity_with_the_reason(
    tool: ToolServer, platform: TestPlatform, course: Course
) -> None:
    reflection_id = teacher_reflection(tool, course)
    with tool.database.transaction() as db:
        db.get(Reflection, reflection_id).resource_link_id = None  # type: ignore[union-attr]
    post_id = graded(tool, course, reflection_id)

    report = worker(tool).run_once()

    assert (report.retried, report.failed) == (1, 0)
    waiting = post_of(tool, post_id)
    assert waiting.state == ScoreState.PENDING and "no reflection activity for cycle 1" in (waiting.last_error or "")
    assert platform.services.lineitem_creations == 0 and platform.services.received_scores == []


def test_an_activity_whose_platform_grants_no_score_scope_is_parked_without_calling_it(
    tool: ToolServer, platform: TestPlatform
) -> None:
    platform.services.ags_scopes = ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"]
    launch(requests.Session(), platform, TEACHER)
    launch(requests.Session(), platform, TRAINER)
    course = course_of(tool.database, "course-42", "rl-7", TRAINER.sub)
    post_id = graded(tool, course, teacher_reflection(tool, course))

    assert worker(tool).run_once().failed == 1

    assert "no score scope" in (post_of(tool, post_id).last_error or "")
    assert platform.services.service_requests == 0


def test_scores_url_appends_to_the_path_and_keeps_the_query() -> None:
    assert scores_url("https://lms.example.org/mod/lti/services.php/2/lineitems/7/lineitem?type_id=3") == (
        "https://lms.example.org/mod/lti/services.php/2/lineitems/7/lineitem/scores?type_id=3"
    )


# --- Through the trainer's grading page -----------------------------------------------------------------------


def test_a_trainer_grading_on_the_page_sends_the_score_to_the_lms_once_the_platform_is_back(
    tool: ToolServer, platform: TestPlatform
) -> None:

    running_program_with_a_team(tool, platform)
    # The course's reflection activity of cycle 1 (as Deep Linking makes it): its column receives the grade.
    reflection_activity = {"plc_activity": "reflection", "plc_cycle": "1"}
    write(Visit(tool, launch(requests.Session(), platform, TEACHER, custom=reflection_activity)), 1)
    platform.services.ags_mode = "down"

    page = grade_on_page(trainer_visit(tool, platform), reflection_id(tool), {**ALL_THREES, "evidence": "4"}, "ชัดเจน")

    assert page.status_code == 200
    score_worker = worker(tool)
    assert score_worker.run_once().retried == 1 and platform.services.received_scores == []
    platform.services.ags_mode = "ok"
    assert score_worker.run_once().delivered == 1
    assert score_worker.run_once().handled == 0
    [received] = platform.services.received_scores
    assert received.score["userId"] == TEACHER.sub
    assert (received.score["scoreGiven"], received.score["scoreMaximum"], received.score["comment"]) == (
        16,
        20,
        "ชัดเจน",
    )
    assert platform.services.lineitems[received.lineitem_id]["resourceLinkId"] == "rl-7"


def test_a_grade_the_page_refuses_sends_no_score(tool: ToolServer, platform: TestPlatform) -> None:

    running_program_with_a_team(tool, platform)
    write(Visit(tool, launch(requests.Session(), platform, TEACHER)), 1)

    page = grade_on_page(trainer_visit(tool, platform), reflection_id(tool), {**ALL_THREES, "evidence": "9"})

    assert page.status_code == 422
    with tool.database.transaction() as db:
        assert db.scalars(select(ScorePost)).all() == []
    assert worker(tool).run_once().handled == 0


# --- One platform's garbage does not hold up the others -------------------------------------------------------


@pytest.fixture
def elsewhere(tool: ToolServer) -> Iterator[TestPlatform]:
    """A second Moodle registered with the tool, with the same teacher and trainer; removed afterwards."""
    other = TestPlatform(client_id="client-ags-elsewhere", deployment_id="dep-ags-elsewhere").start()
    other.configure_tool(tool.url("/lti/login"), tool.url("/lti/launch"), tool.url("/lti/jwks"))
    other.add_user(TEACHER)
    other.add_user(TRAINER)
    register(tool, other)
    yield other
    other.stop()
    with tool.database.transaction() as db:
        gone = db.scalars(select(Platform.id).where(Platform.issuer == other.issuer)).one()
        db.execute(delete(Program).where(Program.platform_id == gone))  # its grades name its memberships
        db.execute(delete(Platform).where(Platform.id == gone))


def course_on(tool: ToolServer, platform: TestPlatform) -> Course:
    launch(requests.Session(), platform, TEACHER)
    launch(requests.Session(), platform, TRAINER)
    with tool.database.transaction() as db:
        context = db.scalars(
            select(Context).join(Platform).where(Platform.issuer == platform.issuer, Context.context_id == "course-42")
        ).one()
        trainer = db.scalars(
            select(Membership).join(Person).where(Membership.context_id == context.id, Person.sub == TRAINER.sub)
        ).one()
        link = db.scalars(select(ResourceLink).where(ResourceLink.context_id == context.id)).one()
        return Course(context.id, trainer.id, link.id)


def scores_in_turn(tool: ToolServer, good: Course, bad: Course) -> list[int]:
    """Scores graded good, bad, good: the bad platform's score sits in the middle of the batch."""
    good_ids = reflections(tool.database, good, add_teachers(tool.database, good, 2, prefix="good"))
    [bad_id] = reflections(tool.database, bad, add_teachers(tool.database, bad, 1, prefix="bad"))
    return [graded(tool, course, rid) for course, rid in ((good, good_ids[0]), (bad, bad_id), (good, good_ids[1]))]


def test_a_platform_whose_line_item_url_is_garbage_leaves_its_score_waiting_and_the_others_go_exactly_once(
    tool: ToolServer, platform: TestPlatform, elsewhere: TestPlatform
) -> None:
    elsewhere.services.link_lineitems["rl-7"] = "http://[not-a-host/lineitem"  # urlsplit raises ValueError on it
    good, bad = course_on(tool, platform), course_on(tool, elsewhere)
    first, middle, last = scores_in_turn(tool, good, bad)

    report = worker(tool).run_once()

    assert (report.delivered, report.retried, report.failed) == (2, 1, 0)
    assert post_of(tool, first).state == post_of(tool, last).state == ScoreState.DELIVERED
    waiting = post_of(tool, middle)
    assert waiting.state == ScoreState.PENDING and waiting.attempts == 1
    assert "unexpected error while sending (ValueError)" in (waiting.last_error or "")
    assert worker(tool).run_once().delivered == 0  # the next pass sends nothing twice
    assert len(platform.services.received_scores) == 2
    assert elsewhere.services.received_scores == []


def test_a_platform_answering_a_token_lifetime_of_millennia_gets_its_score_like_the_others(
    tool: ToolServer, platform: TestPlatform, elsewhere: TestPlatform
) -> None:
    elsewhere.services.token_lifetime = 10**13  # overflowed a datetime and rolled the whole pass back
    good, bad = course_on(tool, platform), course_on(tool, elsewhere)
    scores_in_turn(tool, good, bad)

    report = worker(tool).run_once()

    assert (report.delivered, report.retried, report.failed) == (3, 0, 0)
    assert worker(tool).run_once().handled == 0
    assert len(platform.services.received_scores) == 2 and len(elsewhere.services.received_scores) == 1


def test_a_platform_with_a_malformed_token_answer_keeps_its_score_waiting_and_the_others_go_exactly_once(
    tool: ToolServer, platform: TestPlatform, elsewhere: TestPlatform
) -> None:
    elsewhere.services.token_lifetime = -1
    good, bad = course_on(tool, platform), course_on(tool, elsewhere)
    first, middle, last = scores_in_turn(tool, good, bad)

    report = worker(tool).run_once()

    assert (report.delivered, report.retried) == (2, 1)
    assert post_of(tool, first).state == post_of(tool, last).state == ScoreState.DELIVERED
    assert "malformed token" in (post_of(tool, middle).last_error or "")
    elsewhere.services.token_lifetime = 3600
    assert worker(tool).run_once().delivered == 1
    assert len(platform.services.received_scores) == 2 and len(elsewhere.services.received_scores) == 1
