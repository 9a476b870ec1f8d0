"""The Council's windows over real HTTP launches (seed 004 §2.5, §3.3): the program page counts down the program year
and the 30 days after the end; issuing after the 30 days asks for a reason on its confirmation page (refused beside the
field, the text kept, nothing issued), and the certificate, its /verify page and the results report then say it was
issued late. A program "ended 31 days ago" is the finished program of tests/test_certificates.py with its end moved
back in the database (synthetic data)."""

from __future__ import annotations

from datetime import date, timedelta

import requests
from sqlalchemy import select

from models import certificates as certs
from models.base import utcnow
from models.calendar import program_day
from models.programs import Program
from tests.conftest import ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_certificates import (
    Finished,
    comparable,
    csrf_of,
    finished_program,
    issued,
    pdf_text,
    wait_for_job,
)
from tests.test_program_pages import Visit, create, take_step, trainer_visit

ISSUE = "/program/certificates/issue/confirm"
LATE = "ครูสองคนส่งหลักฐานชั่วโมงครบหลังครบกำหนด (ข้อมูลสังเคราะห์)"


def today() -> date:
    return program_day(utcnow())


def move_end(tool: ToolServer, days_ago: int) -> None:
    """The program ended `days_ago` days before today (its end moved back; nothing else changes)."""
    with tool.database.transaction() as db:
        db.scalars(select(Program)).one().ended_on = today() - timedelta(days=days_ago)


def ended_days_ago(tool: ToolServer, platform: TestPlatform, days_ago: int) -> Finished:
    done = finished_program(tool, platform)
    move_end(tool, days_ago)
    return done


def issue_with(visit: Visit, **fields: str) -> requests.Response:
    page = visit.get(ISSUE)
    return visit.post(ISSUE, {"csrf": csrf_of(page, ISSUE), **fields})


def jobs(tool: ToolServer) -> list[certs.CertificateJob]:
    with tool.database.transaction() as db:
        return list(db.scalars(select(certs.CertificateJob)))


# --- Issuing within the 30 days ----------------------------------------------------------------------------------


def test_on_day_30_the_confirmation_asks_no_reason_and_the_certificates_are_on_time(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = ended_days_ago(tool, platform, 30)

    page = done.trainer.get(ISSUE, lang="en")
    finished = wait_for_job(done.trainer, issue_with(done.trainer))

    assert 'name="reason"' not in page.text and "are within the Council" in page.text
    assert 'data-state="done"' in finished.text
    assert [c.issued_late for c in issued(tool)] == [False, False]


# --- Issuing after them --------------------------------------------------------------------------------------------


def test_on_day_31_the_confirmation_says_the_certificates_will_be_late_and_asks_the_reason(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = ended_days_ago(tool, platform, 31)

    page = done.trainer.get(ISSUE, lang="th")

    assert page.status_code == 200 and '<textarea id="reason" name="reason"' in page.text
    last_day = today() - timedelta(days=1)
    assert f"{last_day.year + 543}" in page.text and "30 วัน" in page.text
    assert issued(tool) == [] and jobs(tool) == []  # reading it changes nothing


def test_on_day_31_issuing_without_a_reason_is_refused_beside_the_field_and_issues_nothing(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = ended_days_ago(tool, platform, 31)

    answer = issue_with(done.trainer, reason="   ")

    assert answer.status_code == 422 and 'id="reason-error"' in answer.text and 'aria-invalid="true"' in answer.text
    assert issued(tool) == [] and jobs(tool) == []


def test_a_late_reason_over_its_limit_is_refused_and_kept_in_the_field(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = ended_days_ago(tool, platform, 40)
    long = "ก" * (certs.MAX_REASON_CHARS + 1)

    answer = issue_with(done.trainer, reason=long)

    assert answer.status_code == 422 and 'id="reason-error"' in answer.text and long in answer.text
    assert issued(tool) == [] and jobs(tool) == []


def test_on_day_31_the_reason_travels_with_the_job_to_every_certificate(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = ended_days_ago(tool, platform, 31)

    finished = wait_for_job(done.trainer, issue_with(done.trainer, reason=LATE))

    assert 'data-state="done"' in finished.text
    assert [j.late_reason for j in jobs(tool)] == [LATE]
    last_day = today() - timedelta(days=1)
    assert {(c.issued_on, c.late_after, c.late_reason) for c in issued(tool)} == {(today(), last_day, LATE)}
    listing = done.trainer.get("/program/certificates", lang="en")
    assert listing.text.count('data-late="true"') == 2 and 'id="issue-late"' in listing.text


def test_the_verify_page_says_a_late_certificate_was_issued_late_but_not_why(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = ended_days_ago(tool, platform, 31)
    wait_for_job(done.trainer, issue_with(done.trainer, reason=LATE))
    target = issued(tool)[0]

    thai = requests.get(tool.url(f"/verify/{target.code}"), headers={"Accept-Language": "th"})
    english = requests.get(tool.url(f"/verify/{target.code}"), headers={"Accept-Language": "en"})

    assert 'data-status="valid"' in thai.text and 'id="issued-late"' in thai.text
    last_day = target.late_after
    assert last_day is not None and f"{last_day.day}" in thai.text and f"{last_day.year + 543}" in thai.text
    assert "Issued late" in english.text and "30 days" in english.text
    assert LATE not in thai.text  # the reason stays with the agency and the Council's report


def test_an_on_time_certificate_says_nothing_of_lateness(tool: ToolServer, platform: TestPlatform) -> None:
    done = ended_days_ago(tool, platform, 0)
    wait_for_job(done.trainer, issue_with(done.trainer))
    target = issued(tool)[0]

    page = requests.get(tool.url(f"/verify/{target.code}"))
    text = pdf_text(done.trainer.get(f"/program/certificates/{target.id}.pdf").content)

    assert 'id="issued-late"' not in page.text and comparable("ล่าช้า") not in text


def test_the_late_certificate_pdf_says_it_was_issued_after_the_councils_30_days(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = ended_days_ago(tool, platform, 31)
    wait_for_job(done.trainer, issue_with(done.trainer, reason=LATE))
    target = issued(tool)[0]

    thai = pdf_text(done.trainer.get(f"/program/certificates/{target.id}.pdf", lang="th").content)
    english = pdf_text(done.trainer.get(f"/program/certificates/{target.id}.pdf", lang="en").content)

    assert comparable("ออกเกียรติบัตรล่าช้า") in thai and comparable("หลังพ้นกำหนด 30 วัน") in thai
    assert target.late_after is not None and f"{target.late_after.year + 543}" in thai
    assert "Issued late" in english and f"{target.late_after.year}" in english


def test_the_results_report_lists_late_certificates_with_the_day_and_the_reason(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = ended_days_ago(tool, platform, 31)
    wait_for_job(done.trainer, issue_with(done.trainer, reason=LATE))

    text = pdf_text(done.trainer.get("/program/report.pdf", lang="th").content)

    assert comparable("ออกหลังพ้นกำหนด 30 วัน") in text and comparable("(ออกล่าช้า)") in text
    assert comparable("ส่งหลักฐานชั่วโมงครบ") in text
    assert all(c.code in text for c in issued(tool))


def test_when_the_30_days_end_while_a_job_waits_it_stops_with_a_clear_message(
    tool: ToolServer, platform: TestPlatform
) -> None:
    """A job asked for on day 30 that a worker takes up on day 31 issues nothing without a reason."""
    done = ended_days_ago(tool, platform, 30)
    with tool.database.transaction() as db:
        program = db.scalars(select(Program)).one()
        job = certs.request_bulk_issue(db, program, None, today=today())
        job.created_at = utcnow() - timedelta(minutes=5)  # queued, and no worker ever touched it
        job_id = job.id
    move_end(tool, 31)

    page = wait_for_job(done.trainer, done.trainer.get(f"/program/certificates/jobs/{job_id}", lang="en"))

    assert 'data-state="failed"' in page.text and 'id="job-stopped"' in page.text and "give the reason" in page.text
    assert issued(tool) == []


# --- The program page counts both windows down -------------------------------------------------------------------


def test_the_program_page_counts_down_the_program_year_while_it_runs(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform, end=False)  # approved on 1 November 2026
    with tool.database.transaction() as db:
        last_day = db.scalars(select(Program)).one().last_day
    assert last_day is not None

    page = done.trainer.get("/program", lang="en")

    assert 'id="program-year"' in page.text
    assert f'data-days-left="{(last_day - today()).days}"' in page.text and "Days left" in page.text


def test_the_program_page_says_when_the_program_year_has_passed(tool: ToolServer, platform: TestPlatform) -> None:
    visit = trainer_visit(tool, platform)
    create(visit)
    take_step(visit, "submit", submitted_on="")
    approved_on = today() - timedelta(days=400)
    take_step(visit, "approve", approved_on=approved_on.isoformat())

    page = visit.get("/program", lang="en")

    assert 'id="program-year"' in page.text and 'data-passed="true"' in page.text
    assert "can no longer start" in page.text


def test_the_program_page_counts_down_the_30_days_after_the_end(tool: ToolServer, platform: TestPlatform) -> None:
    done = ended_days_ago(tool, platform, 10)

    page = done.trainer.get("/program", lang="en")

    assert 'id="certificates-countdown"' in page.text and "Days left: 20." in page.text
    assert 'id="certificates-on-time"' in page.text and "The program's year: from" in page.text


def test_the_program_page_says_when_the_30_days_have_passed(tool: ToolServer, platform: TestPlatform) -> None:
    done = ended_days_ago(tool, platform, 33)

    page = done.trainer.get("/program", lang="th")
    english = done.trainer.get("/program", lang="en")

    assert 'data-passed="true"' in page.text and 'id="certificates-late"' in page.text
    assert "3 days ago" in english.text and "can no longer be requested" in english.text
