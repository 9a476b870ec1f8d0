"""Issue 15, fix 1 (continued): a score a newer grade superseded is closed, never failed again; the site administrator
dismisses a failed score with a reason, kept, after a confirmation; and when Moodle cannot fetch the tool's keyset
(its default HTTP security blocks the tool's address or port) the admin page and the log say so and name what to set."""

from __future__ import annotations

import logging
import re

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select, update

from lti_tool.cli.main import main
from lti_tool.lti.service_tokens import ServiceClient, one_line
from lti_tool.workers.in_process import delivery_jobs
from lti_tool.workers.scores import ScoreDelivery
from models.base import utcnow
from models.errors import InvalidInput
from models.people import Person
from models.scores import ScorePost, ScoreState, dismiss_unsendable
from tests.conftest import TEACHER, TRAINER, ToolServer, launch
from tests.support.grading import Course, add_teachers, course_of, grade, reflections
from tests.support.lti_platform import TestPlatform
from tests.test_program_pages import Visit
from tests.test_role_names_page import SCHOOL_ADMIN
from tests.xapi.test_outbox_web import ADMIN


def worker(tool: ToolServer) -> ScoreDelivery:
    return ScoreDelivery(tool.database, ServiceClient(tool.database, timeout=5.0), base_backoff_seconds=0.0)


def course_with_reflections(tool: ToolServer, platform: TestPlatform, how_many: int = 1) -> tuple[Course, list[int]]:
    launch(requests.Session(), platform, TEACHER)
    launch(requests.Session(), platform, TRAINER)
    course = course_of(tool.database, "course-42", "rl-7", TRAINER.sub)
    return course, reflections(tool.database, course, add_teachers(tool.database, course, how_many, prefix="cl"))


def graded(tool: ToolServer, course: Course, reflection_id: int, total: int = 7) -> int:
    with tool.database.transaction() as db:
        return grade(db, reflection_id, course.trainer_id, total).id


def states(tool: ToolServer) -> list[str]:
    with tool.database.transaction() as db:
        return [p.state for p in db.scalars(select(ScorePost).order_by(ScorePost.id))]


def admin_visit(tool: ToolServer, platform: TestPlatform) -> Visit:
    platform.add_user(ADMIN)
    return Visit(tool, launch(requests.Session(), platform, ADMIN))


def csrf_of(page: str, action: str) -> str:
    form = page.split(f'action="{action}', 1)[1]
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', form)
    assert match, "no form token"
    return match.group(1)


# --- Superseded scores --------------------------------------------------------------------------------------------


def test_a_failed_score_is_closed_as_superseded_once_a_newer_grade_of_the_reflection_is_delivered(
    tool: ToolServer, platform: TestPlatform
) -> None:
    course, [rid] = course_with_reflections(tool, platform)
    platform.services.ags_mode = "forbidden"
    graded(tool, course, rid, total=4)
    worker(tool).run_once()
    platform.services.ags_mode = "ok"
    graded(tool, course, rid, total=8)

    report = worker(tool).run_once()

    assert (report.delivered, report.superseded) == (1, 1)
    assert states(tool) == [ScoreState.SUPERSEDED, ScoreState.DELIVERED]
    with tool.database.transaction() as db:
        older = db.scalars(select(ScorePost).order_by(ScorePost.id)).first()
        assert older is not None and older.closed_at is not None and "newer grade" in (older.close_reason or "")
    assert [s.score["scoreGiven"] for s in platform.services.received_scores] == [8]


def test_scores_resend_does_not_fail_a_superseded_score_again(
    tool: ToolServer, platform: TestPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    course, [rid] = course_with_reflections(tool, platform)
    older, newer = graded(tool, course, rid, total=4), graded(tool, course, rid, total=8)
    with tool.database.transaction() as db:  # as main left them: the older failed for ever beside the newer delivered
        db.execute(update(ScorePost).where(ScorePost.id == older).values(state=ScoreState.FAILED.value))
        db.execute(update(ScorePost).where(ScorePost.id == newer).values(state=ScoreState.DELIVERED.value))
    monkeypatch.setenv("PLC_DATABASE_URL", tool.settings.database_url)
    monkeypatch.setenv("PLC_INSTANCE_PATH", str(tool.settings.instance_path))

    resent = CliRunner().invoke(main, ["scores", "resend"])

    assert "0 failed scores queued again" in resent.output and "1 superseded" in resent.output, resent.output
    assert states(tool) == [ScoreState.SUPERSEDED, ScoreState.DELIVERED]
    assert worker(tool).run_once().handled == 0 and platform.services.received_scores == []


# --- Dismissing a failed score ------------------------------------------------------------------------------------


def failed_score(tool: ToolServer, platform: TestPlatform) -> int:
    course, [rid] = course_with_reflections(tool, platform)
    platform.services.ags_mode = "bad_request"
    post_id = graded(tool, course, rid)
    worker(tool).run_once()
    platform.services.ags_mode = "ok"
    assert states(tool) == [ScoreState.FAILED]
    return post_id


def test_the_site_administrator_dismisses_a_failed_score_with_a_reason_after_a_confirmation(
    tool: ToolServer, platform: TestPlatform
) -> None:
    post_id = failed_score(tool, platform)
    admin = admin_visit(tool, platform)
    listing = admin.get("/admin/scores", lang="en")
    assert f'href="/admin/scores/{post_id}/dismiss' in listing.text

    confirm = admin.get(f"/admin/scores/{post_id}/dismiss", lang="en")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text and states(tool) == [ScoreState.FAILED]
    reason = "ครูลาออกแล้ว คะแนนบันทึกในสมุดคะแนนด้วยมือ"
    done = admin.post(
        f"/admin/scores/{post_id}/dismiss", {"csrf": csrf_of(confirm.text, f"/admin/scores/{post_id}/dismiss"),
                                             "reason": reason},
    )  # fmt: skip

    assert done.status_code == 200 and "ปิดรายการคะแนนแล้ว" in done.text  # the message after the save, in Thai
    assert states(tool) == [ScoreState.DISMISSED]
    with tool.database.transaction() as db:
        post = db.get(ScorePost, post_id)
        assert post is not None and post.close_reason == reason and post.closed_by is not None
        assert post.closed_by.sub == ADMIN.sub
    assert reason in done.text  # kept, on the page's list of closed scores
    assert worker(tool).run_once().handled == 0 and platform.services.received_scores == []
    # Nothing left open, but not everything reached the gradebook: the page does not say it did.
    listing = admin.get("/admin/scores", lang="en").text
    assert "None waiting or failed" in listing and "every score has reached the gradebook" not in listing


def test_scores_with_nowhere_to_go_are_closed_only_when_waiting_and_only_for_the_grades_named(
    tool: ToolServer, platform: TestPlatform
) -> None:
    course, reflection_ids = course_with_reflections(tool, platform, how_many=3)
    post_ids = [graded(tool, course, reflection_id) for reflection_id in reflection_ids]
    with tool.database.transaction() as db:
        posts = [db.get(ScorePost, post_id) for post_id in post_ids]
        assert all(post is not None for post in posts)
        posts[0].state = ScoreState.DELIVERED.value  # type: ignore[union-attr]
        named = [posts[0].grade_id, posts[1].grade_id]  # type: ignore[union-attr]
        closer = db.scalars(select(Person.id).where(Person.sub == TRAINER.sub)).one()
        with pytest.raises(InvalidInput):
            dismiss_unsendable(db, named, closer, "   ", utcnow())
        closed = dismiss_unsendable(db, named, closer, " no gradebook ", utcnow())

    assert closed == 1
    assert states(tool) == [ScoreState.DELIVERED, ScoreState.DISMISSED, ScoreState.PENDING]
    with tool.database.transaction() as db:
        post = db.get(ScorePost, post_ids[1])
        assert post is not None and (post.close_reason, post.closed_by_id) == ("no gradebook", closer)


def test_a_dismissal_without_a_reason_is_refused_beside_the_field_and_changes_nothing(
    tool: ToolServer, platform: TestPlatform
) -> None:
    post_id = failed_score(tool, platform)
    admin = admin_visit(tool, platform)
    confirm = admin.get(f"/admin/scores/{post_id}/dismiss")

    refused = admin.post(
        f"/admin/scores/{post_id}/dismiss",
        {"csrf": csrf_of(confirm.text, f"/admin/scores/{post_id}/dismiss"), "reason": "   "},
    )

    assert refused.status_code == 422 and 'class="field-error"' in refused.text and "เหตุผล" in refused.text
    assert states(tool) == [ScoreState.FAILED]


def test_a_dismissal_without_the_forms_token_changes_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    post_id = failed_score(tool, platform)
    admin = admin_visit(tool, platform)

    refused = admin.post(f"/admin/scores/{post_id}/dismiss", {"csrf": "0" * 64, "reason": "ทดสอบ"})

    assert refused.status_code == 400 and states(tool) == [ScoreState.FAILED]


def test_a_waiting_or_delivered_score_cannot_be_dismissed(tool: ToolServer, platform: TestPlatform) -> None:
    course, [rid] = course_with_reflections(tool, platform)
    post_id = graded(tool, course, rid)
    admin = admin_visit(tool, platform)
    confirm = admin.get(f"/admin/scores/{post_id}/dismiss")
    assert confirm.status_code == 409

    refused = admin.post(f"/admin/scores/{post_id}/dismiss", {"csrf": "0" * 64, "reason": "ทดสอบ"})

    assert refused.status_code in (400, 409) and states(tool) == [ScoreState.PENDING]


def test_a_school_administrator_and_a_trainer_cannot_dismiss_a_score(tool: ToolServer, platform: TestPlatform) -> None:
    post_id = failed_score(tool, platform)
    platform.add_user(SCHOOL_ADMIN)
    for user in (SCHOOL_ADMIN, TRAINER):
        visit = Visit(tool, launch(requests.Session(), platform, user))
        assert visit.get(f"/admin/scores/{post_id}/dismiss").status_code == 403
        assert visit.post(f"/admin/scores/{post_id}/dismiss", {"reason": "ทดสอบ"}).status_code == 403
    assert states(tool) == [ScoreState.FAILED]


# --- Moodle cannot fetch the tool's keyset ------------------------------------------------------------------------


def test_when_moodle_cannot_fetch_the_keyset_the_admin_page_and_the_log_say_so_and_name_what_to_set(
    tool: ToolServer, platform: TestPlatform, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # import-linter (tests/test_architecture.py) configures logging with disable_existing_loggers in this process.
    monkeypatch.setattr(logging.getLogger("lti_tool.workers.scores"), "disabled", False)
    course, [rid] = course_with_reflections(tool, platform)
    platform.services.moodle_default_http_security()  # the tool is on 127.0.0.1 and an odd port
    post_id = graded(tool, course, rid)
    jobs = delivery_jobs(tool.database, tool.settings, ServiceClient(tool.database, timeout=5.0))
    [scores_job] = [job for job in jobs if isinstance(job, ScoreDelivery)]

    with caplog.at_level(logging.WARNING, logger="lti_tool.workers.scores"):
        assert scores_job.run_once().retried == 1

    with tool.database.transaction() as db:
        post = db.get(ScorePost, post_id)
        assert post is not None and post.state == ScoreState.PENDING and post.reason_code == "keyset_unreachable"
        reason = post.last_error or ""
    assert "could not verify the tool's signature" in reason and "HTTP 404" in reason
    keyset = tool.settings.public_base_url + "/lti/jwks"
    assert keyset in reason and "curlsecurityblockedhosts" in reason and "curlsecurityallowedport" in reason
    assert "\n" not in reason and "<" not in reason
    logged = [r.getMessage() for r in caplog.records if f"score {post_id} waits" in r.getMessage()]
    assert logged and keyset in logged[0] and "curlsecurityallowedport" in logged[0]
    page = admin_visit(tool, platform).get("/admin/scores", lang="th")
    assert keyset in page.text and "curlsecurityblockedhosts" in page.text
    assert "ตรวจลายเซ็น" in page.text  # the Thai explanation beside the platform's words
    platform.services.curl_blocked_hosts, platform.services.curl_allowed_ports = (), ()  # the admin fixed Moodle
    with tool.database.transaction() as db:
        db.execute(update(ScorePost).values(next_attempt_at=post.created_at))
    assert scores_job.run_once().delivered == 1


def test_a_platforms_raw_answer_is_cut_to_one_line() -> None:
    page = "<!DOCTYPE html>\n<html><head><title>x</title><style>p{}</style></head>\n<body><p>Error:\n  not\tfound</p>"
    assert one_line(page) == "Error: not found"
    assert one_line("a\n" * 300).count("\n") == 0 and len(one_line("a\n" * 300)) == 200
