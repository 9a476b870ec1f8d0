"""Certificates, hours logbooks and the results report over real HTTP launches, on SQLite and PostgreSQL: a program
reaches eligibility through the domain functions (synthetic data), a trainer issues in bulk and watches progress,
teachers download their own, anyone checks a code at /verify; nothing is changed or shown to the wrong person."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from pypdf import PdfReader
from sqlalchemy import func, select

from lti_tool.web.csv_export import safe_cell
from models import certificates as certs
from models.base import utcnow
from models.calendar import program_day
from models.cycles import (
    ELEMENT_NUMBERS,
    CycleTarget,
    open_cycle,
    record_cycle_result,
    record_session,
    set_cycle_target,
)
from models.forms import save_form
from models.observations import ObservationForm, submit_observation
from models.outbox import OutboxStatement
from models.people import Membership
from models.plan import team_plan
from models.programs import Program
from models.reflections import submit_reflection
from models.rotation import plan_rotation
from models.teams import Team, add_team, add_team_member, apply_rotation
from tests.conftest import TEACHER, TRAINER, ToolServer, launch, start_tool
from tests.support.lti_platform import LaunchUser, TestPlatform
from tests.support.waiting import wait_until
from tests.test_program_pages import Visit, create, trainer_visit
from tests.test_program_teams import COLLEAGUES, members_by_name, step, teachers_launch
from xapi.profile import check_statement
from xapi.vocabulary import Verb

PROGRAM_NAME = "PLC คณิตศาสตร์ ม.1 เศษส่วน (ข้อมูลสังเคราะห์)"
AGENCY = "สำนักงานเขตพื้นที่การศึกษาประถมศึกษานครปฐม เขต 2"
APPROVED_ON = "2026-11-01"
FIRST_DAY = date(2026, 11, 2)
ABSENT = COLLEAGUES[1].name  # วิไลวรรณ ศรีสุข misses one element of cycle 1: not eligible


@dataclass
class Finished:
    trainer: Visit
    ids: dict[str, int]  # teacher's name → membership id

    @property
    def eligible(self) -> list[int]:
        return sorted(i for name, i in self.ids.items() if name != ABSENT)


def run_the_cycles(tool: ToolServer, absent_once: int | None, notes: str = "ตกลงบรรทัดฐานของกลุ่ม") -> None:
    """Every member attends every element of 3 cycles (2 hours each), Buddies observe, everyone reflects; the one
    `absent_once` misses element 3 of cycle 1. Through the domain functions in models/, as the pages would."""
    today = program_day(utcnow())
    with tool.database.transaction() as db:
        program = db.scalars(select(Program)).one()
        team = program.teams[0]
        members = team.member_ids
        day = FIRST_DAY
        for cycle in (1, 2, 3):
            target = CycleTarget(
                problem=f"นักเรียนเปรียบเทียบเศษส่วนไม่ได้ วงรอบ {cycle}",
                baseline="ผ่านเกณฑ์ 40%",
                baseline_value=Decimal(40),
                measure_kind="percent_reaching",
            )
            set_cycle_target(open_cycle(db, team, cycle, today), target, today)
            for element in ELEMENT_NUMBERS:
                present = [m for m in members if not (m == absent_once and (cycle, element) == (1, 3))]
                record_session(
                    db, team, cycle_number=cycle, element=element, held_on=day, hours=Decimal(2),
                    attendee_ids=present, recorded_by_id=members[0], today=today, notes=notes,
                )  # fmt: skip
                day += timedelta(days=1)
            model_id, buddy_ids = team_plan(team)[cycle]
            for buddy in buddy_ids:
                form = ObservationForm(
                    lesson="เศษส่วนด้วยแถบกระดาษ", students_did="จับคู่พับกระดาษ", students_learned="เทียบ 1/2 กับ 1/4 ได้"
                )
                submit_observation(db, team, cycle, buddy, form, utcnow())
            for member in members:
                submit_reflection(db, team, cycle, member, f"สะท้อนผลวงรอบ {cycle}: นักเรียนเข้าใจมากขึ้น", utcnow())
            record_cycle_result(open_cycle(db, team, cycle, today), "ผ่านเกณฑ์ 75%", Decimal(75), today)
        save_form(
            db, team, 1, "problem-reflection",
            {"problem": "นักเรียนเทียบเศษส่วนไม่ได้", "approaches": "ใช้สื่อแถบกระดาษ", "plan": "สอนด้วยปัญหาแบ่งพิซซ่า",
             "lesson_date": "2026-11-16"},
            db.get(Membership, members[0]), today,
        )  # fmt: skip


def form_team(tool: ToolServer, name: str, people: list[str]) -> None:
    """The team and its rotation, as the teams page makes them (models.teams and models.rotation)."""
    ids = members_by_name(tool)
    with tool.database.transaction() as db:
        program = db.scalars(select(Program)).one()
        team = add_team(db, program, name)
        for person in people:
            add_team_member(db, team, ids[person])
        apply_rotation(team, plan_rotation(team.member_ids, program.planned_cycles))


def finished_program(tool: ToolServer, platform: TestPlatform, end: bool = True) -> Finished:
    names = teachers_launch(platform, 3)
    trainer = trainer_visit(tool, platform)
    create(trainer, name=PROGRAM_NAME, agency=AGENCY, min_hours="20")
    form_team(tool, "กลุ่มคณิตศาสตร์", names)
    step(trainer, "submit")
    step(trainer, "approve", approved_on=APPROVED_ON)
    assert step(trainer, "start").status_code == 200
    ids = {name: i for name, i in members_by_name(tool).items() if name in names}
    run_the_cycles(tool, absent_once=ids[ABSENT])
    if end:
        assert step(trainer, "end").status_code == 200
    return Finished(trainer, ids)


def csrf_of(page: requests.Response, action: str) -> str:
    form = page.text.split(f'action="{action}', 1)[1]
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', form)
    assert match, f"no form posting to {action}"
    return match.group(1)


def issue(visit: Visit) -> requests.Response:
    page = visit.get("/program/certificates/issue/confirm")  # a weighty step: its confirmation page takes it
    action = "/program/certificates/issue/confirm"
    return visit.post(action, {"csrf": csrf_of(page, action)})


def wait_for_job(visit: Visit, page: requests.Response) -> requests.Response:
    """Follow the progress page as a browser does (it reloads itself) until the job is done."""

    def finished(response: requests.Response) -> bool:
        return 'data-state="done"' in response.text or 'data-state="failed"' in response.text

    def reloaded() -> requests.Response | None:
        again = visit.browser.get(page.url)
        return again if finished(again) else None

    if finished(page):
        return page
    return wait_until(reloaded, timeout=20, interval=0.1, message="the certificate job did not finish")


def issued(tool: ToolServer) -> list[certs.Certificate]:
    with tool.database.transaction() as db:
        return list(db.scalars(select(certs.Certificate).order_by(certs.Certificate.membership_id)))


def earned_statements(tool: ToolServer) -> list[dict]:
    with tool.database.transaction() as db:
        return [r.payload for r in db.scalars(select(OutboxStatement).where(OutboxStatement.verb == Verb.EARNED))]


def teacher_visit(tool: ToolServer, platform: TestPlatform, user: LaunchUser = TEACHER) -> Visit:
    return Visit(tool, launch(requests.Session(), platform, user))


def pdf_text(body: bytes) -> str:
    """The PDF's text on one line, with sara am read as sara aa. WeasyPrint gives each glyph one text in the PDF's
    ToUnicode map; Thai shaping draws sara am (ำ) as nikhahit + the sara aa glyph, so once a page holds ำ, its
    every า extracts as ำ. The page shows the right letters (see docs/screenshots); only copying text is affected."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    return comparable(text.replace("\n", " "))


def comparable(text: str) -> str:
    """ำ is drawn as its two parts (ํ and า) and reads back as those; a tone mark may read before the vowel below it,
    the same letters in Unicode's canonical order (NFC)."""
    return unicodedata.normalize("NFC", text.replace("\u0e4d\u0e32", "ำ"))


# --- Issue ------------------------------------------------------------------------------------------------------


def test_bulk_issue_gives_a_certificate_to_each_eligible_teacher_only_and_shows_progress(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = finished_program(tool, platform)

    started = issue(done.trainer)
    page = wait_for_job(done.trainer, started)

    assert "/program/certificates/jobs/" in started.url
    assert "<progress" in page.text and 'data-state="done"' in page.text
    assert "ออกแล้ว 2 จาก 2" in page.text or "Issued 2 of 2" in page.text
    assert [c.membership_id for c in issued(tool)] == done.eligible
    assert {c.hours for c in issued(tool)} == {Decimal(30)} and {c.cycles for c in issued(tool)} == {3}
    statements = earned_statements(tool)
    assert len(statements) == 2 and [check_statement(s) for s in statements] == [[], []]


def test_issuing_twice_makes_no_second_certificate_or_learning_record(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    codes = [c.code for c in issued(tool)]

    again = wait_for_job(done.trainer, issue(done.trainer))

    assert 'data-state="done"' in again.text
    assert [c.code for c in issued(tool)] == codes
    assert len(earned_statements(tool)) == 2


def test_certificates_are_refused_while_the_program_runs(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform, end=False)

    page = issue(done.trainer)

    assert page.status_code == 409
    assert issued(tool) == [] and earned_statements(tool) == []


def test_a_teacher_cannot_issue_certificates(tool: ToolServer, platform: TestPlatform) -> None:
    finished_program(tool, platform)
    teacher = teacher_visit(tool, platform)
    assert "/program/certificates/issue" not in teacher.get("/program/certificates").text
    before = tool.counts()

    page = teacher.post("/program/certificates/issue", {"csrf": "0" * 64})

    assert page.status_code == 403
    assert tool.counts() == before


def test_a_teacher_cannot_revoke_a_certificate(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    teacher = teacher_visit(tool, platform)
    target = issued(tool)[0]

    page = teacher.post(f"/program/certificates/{target.id}/revoke", {"reason": "ปลอม", "csrf": "0" * 64})

    assert page.status_code == 403
    assert not issued(tool)[0].revoked


# --- Revoke and verify ------------------------------------------------------------------------------------------


def revoke(visit: Visit, certificate_id: int, reason: str) -> requests.Response:
    action = f"/program/certificates/{certificate_id}/revoke/confirm"  # a weighty step: its confirmation page takes it
    page = visit.get(action)
    return visit.post(action, {"reason": reason, "csrf": csrf_of(page, action)})


def test_a_revoked_certificate_verifies_as_revoked(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    target = issued(tool)[0]
    assert 'data-status="valid"' in requests.get(tool.url(f"/verify/{target.code}")).text

    page = revoke(done.trainer, target.id, "ชั่วโมงที่บันทึกไม่ตรงกับใบลงเวลา")
    verified = requests.get(tool.url(f"/verify/{target.code}"), headers={"Accept-Language": "en"})

    assert page.status_code == 200
    assert verified.status_code == 200 and 'data-status="revoked"' in verified.text
    assert "revoked" in verified.text and "ใบลงเวลา" not in verified.text  # the reason stays with the agency
    assert issued(tool)[0].revoked_reason == "ชั่วโมงที่บันทึกไม่ตรงกับใบลงเวลา"


def test_revoking_voids_the_certificates_earned_learning_record(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    target = issued(tool)[0]
    earned = {s["object"]["id"].rsplit("/", 1)[1]: s["id"] for s in earned_statements(tool)}

    revoke(done.trainer, target.id, "ออกผิดคน")

    with tool.database.transaction() as db:
        [voiding] = [r.payload for r in db.scalars(select(OutboxStatement).where(OutboxStatement.verb == Verb.VOIDED))]
    assert voiding["object"] == {"objectType": "StatementRef", "id": earned[str(target.id)]}
    assert voiding["actor"]["account"]["name"] == TRAINER.sub


def test_revoking_without_a_reason_is_refused_and_changes_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    target = issued(tool)[0]

    page = revoke(done.trainer, target.id, "   ")

    assert page.status_code == 422 and f'id="reason-{target.id}-error"' in page.text
    assert not issued(tool)[0].revoked


def test_verify_shows_only_what_the_certificate_shows(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    target = issued(tool)[0]

    page = requests.get(tool.url(f"/verify/{target.code.lower().replace('-', ' ')}"))  # typed loosely

    assert page.status_code == 200 and 'data-status="valid"' in page.text
    for shown in (target.holder_name, PROGRAM_NAME, AGENCY, target.code, "30"):
        assert shown in page.text
    assert "@example.org" not in page.text and "u-teacher" not in page.text


@pytest.mark.parametrize("code", ["7KQ2M-9XH4T", "ZZZZZ-ZZZZZ", "not-a-code", "<script>x</script>"])
def test_a_forged_or_unknown_code_says_so_plainly(tool: ToolServer, platform: TestPlatform, code: str) -> None:
    page = requests.get(tool.url("/verify/" + requests.utils.quote(code, safe="")))

    assert page.status_code == 404 and 'data-status="unknown"' in page.text
    assert "<script>x" not in page.text


def test_the_verify_form_takes_a_typed_code(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    target = issued(tool)[0]

    page = requests.get(tool.url("/verify"), params={"code": target.code.lower()})

    assert page.url.endswith(f"/verify/{target.code}") and 'data-status="valid"' in page.text


def test_verify_is_rate_limited(tmp_path: Path, database_url: str) -> None:
    limited = start_tool(tmp_path, database_url, rate_limit_verify="3 per minute")
    try:
        answers = [
            requests.get(limited.url("/verify/ABCDE-FGHJK"), headers={"Accept-Language": "en"}) for _ in range(4)
        ]
    finally:
        limited.server.shutdown()
        limited.server.server_close()

    assert [a.status_code for a in answers] == [404, 404, 404, 429]
    assert "Too many certificate checks" in answers[-1].text


# --- Who sees what ----------------------------------------------------------------------------------------------


def test_a_teacher_downloads_their_own_certificate_but_not_a_colleagues(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    teacher = teacher_visit(tool, platform)
    by_member = {c.membership_id: c for c in issued(tool)}
    own, other = by_member[done.ids[TEACHER.name]], by_member[done.ids[COLLEAGUES[0].name]]

    mine = teacher.get(f"/program/certificates/{own.id}.pdf")
    theirs = teacher.get(f"/program/certificates/{other.id}.pdf")

    assert mine.status_code == 200 and mine.headers["Content-Type"] == "application/pdf"
    assert theirs.status_code == 403


def test_a_trainer_of_another_course_sees_none_of_it(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    target = issued(tool)[0]
    stranger = trainer_visit(tool, platform, course="course-99")

    assert stranger.get(f"/program/certificates/{target.id}.pdf").status_code == 404
    assert stranger.get(f"/program/logbook/{target.membership_id}").status_code == 404
    assert stranger.get("/program/report.pdf").status_code == 404
    assert stranger.get("/program/certificates").status_code == 404
    create(stranger, name="โครงการอื่น")  # even with a program of its own
    assert stranger.get(f"/program/logbook/{target.membership_id}").status_code == 404
    assert stranger.get(f"/program/certificates/{target.id}.pdf").status_code == 404


def test_a_teacher_reads_their_own_logbook_but_not_a_colleagues(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    teacher = teacher_visit(tool, platform)

    own = teacher.get(f"/program/logbook/{done.ids[TEACHER.name]}")
    other = teacher.get(f"/program/logbook/{done.ids[COLLEAGUES[0].name]}")
    other_csv = teacher.get(f"/program/logbook/{done.ids[COLLEAGUES[0].name]}.csv")

    assert own.status_code == 200 and "30" in own.text and "2 พฤศจิกายน 2569" in own.text
    assert other.status_code == 403 and other_csv.status_code == 403


def test_a_trainer_reads_any_members_logbook(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)

    page = done.trainer.get(f"/program/logbook/{done.ids[ABSENT]}", lang="en")

    assert page.status_code == 200 and ABSENT in page.text
    assert ">28</strong>" in page.text  # one 2-hour session missed


def test_the_logbook_page_names_the_role_played_in_each_session(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)

    thai = done.trainer.get(f"/program/logbook/{done.ids[TEACHER.name]}", lang="th")
    english = done.trainer.get(f"/program/logbook/{done.ids[TEACHER.name]}", lang="en")

    assert "ครูผู้สอน" in thai.text and "ครูร่วมการเรียนรู้" in thai.text
    assert "Model Teacher" in english.text and "Buddy Teacher" in english.text


def test_a_teacher_cannot_download_the_results_report(tool: ToolServer, platform: TestPlatform) -> None:
    finished_program(tool, platform)

    assert teacher_visit(tool, platform).get("/program/report.pdf").status_code == 403


# --- Documents --------------------------------------------------------------------------------------------------


def test_the_logbook_csv_lists_every_session_with_totals(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)

    response = done.trainer.get(f"/program/logbook/{done.ids[TEACHER.name]}.csv")

    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 15 + 1
    assert rows[0][1:3] == ["วันที่ ค.ศ. ปี-เดือน-วัน (Date, ISO 8601)", "วันที่ พ.ศ. (Date, Buddhist Era)"]
    assert rows[1][1:5] == ["2026-11-02", "2 พฤศจิกายน 2569", "1", "1"]
    assert rows[-1][7] == "30"


def test_logbook_cells_that_look_like_formulas_are_neutralised(tool: ToolServer, platform: TestPlatform) -> None:
    names = teachers_launch(platform, 2)
    trainer = trainer_visit(tool, platform)
    create(trainer, name='=HYPERLINK("http://evil.example","x")', min_hours="0")
    form_team(tool, "กลุ่ม", names)
    step(trainer, "submit")
    step(trainer, "approve", approved_on=APPROVED_ON)
    step(trainer, "start")
    today = program_day(utcnow())
    with tool.database.transaction() as db:
        team = db.scalars(select(Team)).one()
        for element, notes in enumerate(["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB"], start=1):
            record_session(
                db, team, cycle_number=1, element=element, held_on=FIRST_DAY, hours=Decimal(1),
                attendee_ids=team.member_ids, recorded_by_id=team.member_ids[0], today=today, notes=notes,
            )  # fmt: skip
    member = members_by_name(tool)[TEACHER.name]

    rows = list(csv.reader(io.StringIO(trainer.get(f"/program/logbook/{member}.csv").content.decode("utf-8-sig"))))

    assert [row[8] for row in rows[1:6]] == ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "'\tTAB"]
    assert rows[1][10].startswith("'=HYPERLINK")


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_cell_a_spreadsheet_would_run_is_prefixed(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["สมศรี", "1.5", "", "a=b", " =x"])
def test_an_ordinary_cell_is_left_as_it_is(cell: str) -> None:
    assert safe_cell(cell) == cell


def test_the_certificate_pdf_holds_the_thai_name_program_and_buddhist_era_date(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    target = next(c for c in issued(tool) if c.membership_id == done.ids[TEACHER.name])

    text = pdf_text(done.trainer.get(f"/program/certificates/{target.id}.pdf").content)

    months = ["มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม", "กันยายน",
              "ตุลาคม", "พฤศจิกายน", "ธันวาคม"]  # fmt: skip
    thai_date = f"{target.issued_on.day} {months[target.issued_on.month - 1]} {target.issued_on.year + 543}"
    assert TEACHER.name in text and "เกียรติบัตร" in text and comparable(thai_date) in text
    assert comparable(PROGRAM_NAME) in text and target.code in text


def test_the_english_certificate_is_given_on_request(tool: ToolServer, platform: TestPlatform) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    target = issued(tool)[0]

    text = pdf_text(done.trainer.get(f"/program/certificates/{target.id}.pdf", lang="en").content)

    assert "Certificate" in text and "This is to certify that" in text
    assert f"{target.issued_on.year}" in text and f"{target.issued_on.year + 543}" not in text


def test_the_certificate_qr_code_opens_the_verify_page(
    tool: ToolServer, platform: TestPlatform, tmp_path: Path
) -> None:
    """Rasterised with poppler's pdftoppm and read back with zxing-cpp: the QR as printed, not as generated."""
    import zxingcpp
    from PIL import Image

    assert shutil.which("pdftoppm"), "poppler-utils is missing; scripts/test.sh installs it"
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    target = issued(tool)[0]
    (tmp_path / "c.pdf").write_bytes(done.trainer.get(f"/program/certificates/{target.id}.pdf").content)

    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(tmp_path / "c.pdf"), str(tmp_path / "c")],
                   check=True)  # fmt: skip
    [barcode] = zxingcpp.read_barcodes(Image.open(tmp_path / "c.png"))

    assert barcode.text == tool.url(f"/verify/{target.code}")
    assert 'data-status="valid"' in requests.get(barcode.text).text


def test_the_results_report_holds_the_program_teams_cycles_and_eligible_teachers(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))

    response = done.trainer.get("/program/report.pdf")

    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    flat = pdf_text(response.content)
    for expected in ("รายงานผลการดำเนินงาน", "กลุ่มคณิตศาสตร์", TEACHER.name, ABSENT, "วงรอบ 3",
                     "ผ่านเกณฑ์ 75%", "ใช้สื่อแถบกระดาษ", "สะท้อนผลวงรอบ 2", "เทียบ 1/2 กับ 1/4 ได้",
                     "16 พฤศจิกายน 2569"):  # fmt: skip
        assert comparable(expected) in flat, expected
    assert "2026-11-16" not in flat  # the typed date answer, in the Buddhist Era
    assert all(c.code in flat for c in issued(tool))


def test_the_program_page_counts_down_the_30_days_and_links_the_documents(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = finished_program(tool, platform)

    page = done.trainer.get("/program", lang="en")

    assert "Days left: 30." in page.text
    for link in ("/program/report.pdf", "/program/certificates"):
        assert link in page.text
    assert "/program/logbook" in teacher_visit(tool, platform).get("/program").text


def test_certificates_are_counted_once_per_teacher_in_the_database(tool: ToolServer, platform: TestPlatform) -> None:
    """The unique (program, teacher) index holds even if two jobs race."""
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    with tool.database.transaction() as db:
        program = db.scalars(select(Program)).one()
        assert certs.issue_certificates(db, program, issued_by_id=None, today=program_day(utcnow())) == []
        counted = db.scalar(select(func.count()).select_from(certs.Certificate))
    assert counted == 2


# --- In a real browser ------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_a_trainer_issues_by_keyboard_alone_and_the_progress_page_updates_without_script(
    tool: ToolServer, platform: TestPlatform, browser: object
) -> None:
    done = finished_program(tool, platform)
    page = browser.new_page(viewport={"width": 800, "height": 900}, java_script_enabled=False)  # type: ignore[attr-defined]
    page.goto(tool.url(f"/program/certificates?s={done.trainer.token}&lang=en"))
    button = page.get_by_role("button", name="Issue certificates to every eligible teacher")
    for _ in range(30):
        page.keyboard.press("Tab")
        if button.evaluate("el => el === document.activeElement"):
            break
    page.keyboard.press("Enter")
    confirm = page.get_by_role("button", name="Issue the certificates")  # a weighty step: its page asks first
    for _ in range(30):
        page.keyboard.press("Tab")
        if confirm.evaluate("el => el === document.activeElement"):
            break
    page.keyboard.press("Enter")

    page.locator('[data-state="done"]').wait_for(timeout=15_000)  # the page reloaded itself until the job finished

    assert "Issued 2 of 2" in page.content()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, "the progress page scrolls sideways in an 800 px frame"
    page.close()


def test_a_job_whose_worker_went_away_is_taken_up_when_its_page_is_opened(
    tool: ToolServer, platform: TestPlatform
) -> None:
    done = finished_program(tool, platform)
    with tool.database.transaction() as db:
        program = db.scalars(select(Program)).one()
        job = certs.request_bulk_issue(db, program, members_by_name(tool)[TRAINER.name], today=program_day(utcnow()))
        job.created_at = utcnow() - timedelta(minutes=5)  # queued, and no worker ever touched it
        job_id = job.id

    page = wait_for_job(done.trainer, done.trainer.get(f"/program/certificates/jobs/{job_id}"))

    assert 'data-state="done"' in page.text
    assert [c.membership_id for c in issued(tool)] == done.eligible
