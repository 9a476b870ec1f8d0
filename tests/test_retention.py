"""The retention run (PDPA) on SQLite and PostgreSQL, through `plc-bridge retention run` and the worker's job: the free
text and evidence files of a program ended longer ago than PLC_RETENTION_DAYS_AFTER_END are removed; a running or
recently ended program's are not; certificates, /verify, the logbook's hours and the results report still work
after; a dry run changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import func, select, update

from lti_tool.cli.main import main
from lti_tool.lti.service_tokens import ServiceClient
from lti_tool.workers.in_process import delivery_jobs, start_loops
from lti_tool.workers.retention import RetentionJob
from models import certificates as certs
from models.base import utcnow
from models.cycles import ElementSession
from models.drafts import Draft
from models.evidence import Evidence, Upload, store_evidence
from models.forms import FormEntry
from models.observations import Observation
from models.people import Membership
from models.programs import Program
from models.read_log import ReadLogEntry
from models.reflections import Grade, Reflection
from models.retention import RetentionRun
from tests.conftest import ToolServer
from tests.support.lti_platform import TestPlatform
from tests.support.waiting import wait_until
from tests.test_certificates import finished_program, issue, issued, pdf_text, wait_for_job
from tests.test_observations_page import png
from tests.test_program_teams import step


@pytest.fixture
def cli_env(tool: ToolServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """`plc-bridge` commands on the test tool's database and evidence folder."""
    monkeypatch.setenv("PLC_DATABASE_URL", tool.settings.database_url)
    monkeypatch.setenv("PLC_INSTANCE_PATH", str(tool.settings.instance_path))
    monkeypatch.setenv("PLC_EVIDENCE_PATH", str(tool.settings.evidence_path))
    monkeypatch.delenv("PLC_RETENTION_DAYS_AFTER_END", raising=False)
    monkeypatch.delenv("PLC_READ_LOG_DAYS", raising=False)


def attach_evidence(tool: ToolServer) -> Path:
    """A photo on the first session of the program, stored as the sessions page stores it; its path on disk."""
    folder = tool.settings.evidence_path
    assert folder is not None
    with tool.database.transaction() as db:
        session = db.scalars(select(ElementSession).order_by(ElementSession.id)).first()
        assert session is not None
        [stored] = store_evidence(
            db, folder, session.cycle, [Upload("ภาพกิจกรรม.png", png())], session.created_by_id, session=session
        )
        return folder / stored.stored_name


def grade_everything(tool: ToolServer) -> None:
    with tool.database.transaction() as db:
        for reflection in db.scalars(select(Reflection)):
            db.add(Grade(reflection=reflection, grader_id=reflection.membership_id, rubric_id="reflection",
                         scores={"evidence": 3}, total=Decimal(15), max_score=Decimal(20), comment="ดีมาก"))  # fmt: skip


def ended_days_ago(tool: ToolServer, days: int) -> None:
    """Time passes: the program's last day was `days` days ago."""
    with tool.database.transaction() as db:
        db.execute(update(Program).values(ended_on=utcnow().date() - timedelta(days=days)))


def texts(tool: ToolServer) -> dict[str, Any]:
    """What the run may remove, and what it must keep."""
    with tool.database.transaction() as db:
        return {
            "reflections": sorted(db.scalars(select(Reflection.text))),
            "comments": sorted(db.scalars(select(Grade.comment))),
            "observations": sorted((o.lesson, o.students_learned, len(o.student_notes)) for o in db.scalars(select(Observation))),
            "forms": [e.answers for e in db.scalars(select(FormEntry))],
            "notes": sorted(set(db.scalars(select(ElementSession.notes)))),
            "evidence": db.scalar(select(func.count()).select_from(Evidence)),
            "hours": sorted(db.scalars(select(ElementSession.hours))),
            "totals": sorted(db.scalars(select(Grade.total))),
            "certificates": sorted((c.code, c.hours, c.cycles) for c in db.scalars(select(certs.Certificate))),
        }  # fmt: skip


def a_program_with_certificates(tool: ToolServer, platform: TestPlatform) -> tuple[Any, Path]:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    grade_everything(tool)
    return done, attach_evidence(tool)


def test_a_dry_run_counts_what_has_expired_and_changes_nothing(
    tool: ToolServer, platform: TestPlatform, cli_env: None
) -> None:
    a_program_with_certificates(tool, platform)
    ended_days_ago(tool, 400)
    before = texts(tool)

    result = CliRunner().invoke(main, ["retention", "run", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "dry run: nothing changed" in result.output and "reflections=9" in result.output
    assert "evidence=1" in result.output and "programs=1" in result.output
    assert texts(tool) == before
    with tool.database.transaction() as db:
        assert db.scalar(select(func.count()).select_from(RetentionRun)) == 0


def test_expired_free_text_and_files_go_and_certificates_verify_and_the_report_still_work(
    tool: ToolServer, platform: TestPlatform, cli_env: None
) -> None:
    done, photo = a_program_with_certificates(tool, platform)
    ended_days_ago(tool, 400)
    before = texts(tool)
    assert photo.is_file() and before["reflections"][0] and before["notes"] != [""]

    result = CliRunner().invoke(main, ["retention", "run"])

    assert result.exit_code == 0, result.output
    assert "reflections=9" in result.output and "evidence=1" in result.output
    after = texts(tool)
    assert set(after["reflections"]) == {""} and set(after["comments"]) == {""}
    assert {(lesson, learned, notes) for lesson, learned, notes in after["observations"]} == {("", "", 0)}
    assert after["notes"] == [""] and after["evidence"] == 0 and not photo.exists()
    [answers] = after["forms"]
    assert answers.pop("lesson_date") == "2026-11-16" and set(answers.values()) == {""}  # a date is not free text
    for kept in ("hours", "totals", "certificates"):
        assert after[kept] == before[kept], kept
    for certificate in issued(tool):
        verified = tool.url(f"/verify/{certificate.code}")
        assert 'data-status="valid"' in requests.get(verified, timeout=10).text
    report = done.trainer.get("/program/report.pdf")
    assert report.status_code == 200 and report.headers["Content-Type"] == "application/pdf"
    assert "เศษส่วนด้วยแถบกระดาษ" not in pdf_text(report.content)  # the observation's lesson is gone
    member = done.eligible[0]
    assert done.trainer.get(f"/program/logbook/{member}.pdf").status_code == 200
    with tool.database.transaction() as db:
        [run] = db.scalars(select(RetentionRun))
        assert run.trigger == "command" and run.counts["evidence"] == 1 and run.counts["reflections"] == 9

    again = CliRunner().invoke(main, ["retention", "run"])
    assert "reflections=0" in again.output and "evidence=0" in again.output


def test_a_running_and_a_recently_ended_programs_text_and_files_are_kept(
    tool: ToolServer, platform: TestPlatform, cli_env: None
) -> None:
    done = finished_program(tool, platform, end=False)
    photo = attach_evidence(tool)
    running = texts(tool)

    assert "programs=0" in CliRunner().invoke(main, ["retention", "run"]).output
    assert texts(tool) == running and photo.is_file()

    assert step(done.trainer, "end").status_code == 200
    ended_days_ago(tool, 364)  # within the default 365 days
    ended = texts(tool)
    assert "programs=0" in CliRunner().invoke(main, ["retention", "run"]).output
    assert texts(tool) == ended and photo.is_file()


def test_read_log_entries_older_than_their_setting_are_deleted(
    tool: ToolServer, platform: TestPlatform, cli_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished_program(tool, platform, end=False)
    with tool.database.transaction() as db:
        program = db.scalars(select(Program)).one()
        reader, subject = program.teams[0].member_ids[:2]
        reader_m, subject_m = db.get(Membership, reader), db.get(Membership, subject)
        assert reader_m is not None and subject_m is not None
        for days in (40, 10):
            db.add(ReadLogEntry(platform_id=reader_m.context.platform_id, context_id=reader_m.context_id,
                                reader_membership_id=reader, reader_person_id=reader_m.person_id,
                                subject_membership_id=subject, subject_person_id=subject_m.person_id,
                                kind="reflection", record_id=days, read_at=datetime.now(UTC) - timedelta(days=days)))  # fmt: skip
    monkeypatch.setenv("PLC_READ_LOG_DAYS", "30")

    result = CliRunner().invoke(main, ["retention", "run"])

    assert "read_log=1" in result.output
    with tool.database.transaction() as db:
        assert list(db.scalars(select(ReadLogEntry.record_id))) == [10]


def test_the_worker_loop_runs_the_retention_job_once_a_day(tool: ToolServer, platform: TestPlatform) -> None:
    a_program_with_certificates(tool, platform)
    ended_days_ago(tool, 400)
    [job] = [
        j for j in delivery_jobs(tool.database, tool.settings, ServiceClient(tool.database)) if j.name == "retention"
    ]
    assert isinstance(job, RetentionJob)

    workers = start_loops([job], poll_seconds=0.05)
    try:

        def ran() -> RetentionRun | None:
            with tool.database.transaction() as db:
                return db.scalars(select(RetentionRun)).first()

        run = wait_until(ran, timeout=20, interval=0.1, message="the retention job did not run")
    finally:
        workers.stop()
    assert run.trigger == "worker" and run.counts["reflections"] == 9
    assert set(texts(tool)["reflections"]) == {""}
    assert not RetentionJob(tool.database, tool.settings).run_once().ran  # a run is recorded today: not due
    with tool.database.transaction() as db:
        assert db.scalar(select(func.count()).select_from(RetentionRun)) == 1


def test_drafts_past_their_week_are_deleted_by_the_daily_run_even_when_nobody_reads_them(
    tool: ToolServer, platform: TestPlatform, cli_env: None
) -> None:
    """A page reads drafts only for a person who has one, so a week-old draft nobody comes back for is deleted by the
    retention run, not left until someone else keeps one."""
    finished_program(tool, platform, end=False)
    with tool.database.transaction() as db:
        member = db.get(Membership, db.scalars(select(Program)).one().teams[0].member_ids[0])
        assert member is not None
        for path, age in (("/program/cycles/1/reflection", 8), ("/program/cycles/2/reflection", 2)):
            db.add(Draft(person_id=member.person_id, context_id=member.context_id, path=path,
                         fields={"text": ["ข้อความ"]}, files_dropped=False,
                         saved_at=utcnow() - timedelta(days=age), expires_at=utcnow() - timedelta(days=age - 7)))  # fmt: skip

    dry = CliRunner().invoke(main, ["retention", "run", "--dry-run"])
    assert "drafts=1" in dry.output
    result = CliRunner().invoke(main, ["retention", "run"])

    assert "drafts=1" in result.output
    with tool.database.transaction() as db:
        assert list(db.scalars(select(Draft.path))) == ["/program/cycles/2/reflection"]
