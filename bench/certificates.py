"""Bulk certificate issue: certificates per second for a program of N eligible teachers (synthetic data).

A program of N teachers (teams of 4, 4 cycles; every session, observation and reflection recorded through models/'s
domain functions) is ended; then its certificates are issued three ways, each on a fresh copy of the program:
  (a) one call of lti_tool.services.certificates.issue_certificates: the certificates and their `earned` learning records
      (outbox rows for one LRS) in one transaction;
  (b) the bulk job as the trainer's button runs it (lti_tool.workers.certificates.run_job): batches of 25, one transaction
      each, progress counted on the job row;
  (c) the PDFs of those certificates rendered by WeasyPrint (on download; not part of issuing), on a sample.
On SQLite (a temporary file) and on PostgreSQL when it is reachable on 127.0.0.1:5432. Target: ≥ 20 issued/s.

    python bench/certificates.py [--teachers 100] [--pdf-sample 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from lti_tool.documents import pdf as documents  # noqa: E402
from lti_tool.services import certificates as service  # noqa: E402
from lti_tool.settings import Settings  # noqa: E402
from lti_tool.workers import certificates as certificate_jobs  # noqa: E402
from models import certificates as certs  # noqa: E402
from models.base import utcnow  # noqa: E402
from models.calendar import THAI_TIME, program_day  # noqa: E402
from models.cycles import ELEMENT_NUMBERS, record_session  # noqa: E402
from models.database import Database  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.observations import ObservationForm, submit_observation  # noqa: E402
from models.people import Context, Membership, Person  # noqa: E402
from models.plan import team_plan  # noqa: E402
from models.platform import Deployment, Platform  # noqa: E402
from models.programs import Program, ProgramDetails, approve, end, new_program, start, submit  # noqa: E402
from models.reflections import submit_reflection  # noqa: E402
from models.roles import AppRole  # noqa: E402
from models.rotation import plan_rotation  # noqa: E402
from models.scope import CourseScope  # noqa: E402
from models.teams import add_team, add_team_member, apply_rotation  # noqa: E402
from tests.support.pg import postgres_available, throwaway_database  # noqa: E402
from xapi.lrs_client import LrsDestination  # noqa: E402

APPROVED_ON = date(2026, 6, 1)
# Once the program's 30 days lie in the past (APPROVED_ON is fixed), issuing takes a reason (models/certificates.py).
LATE = "ออกหลังครบกำหนดเพื่อวัดความเร็ว (ข้อมูลสังเคราะห์)"
TEAM_SIZE, CYCLES = 4, 4
GIVEN = ["สมศรี", "ประยุทธ", "วิไลวรรณ", "ณัฐพล", "กาญจนา", "สุดารัตน์", "อนุชา", "พิมพ์ใจ"]
FAMILY = ["ใจดี", "แก้วมณี", "ศรีสุข", "บุญมา", "ทองคำ", "สุขสวัสดิ์", "มั่นคง", "รักไทย"]


def ended_program(database: Database, course: str, teachers: int) -> int:
    """A course with `teachers` teachers in teams of 4 who completed 4 cycles, its program ended. Synthetic."""
    today = APPROVED_ON + timedelta(days=200)
    with database.transaction() as db:
        platform = db.scalars(select(Platform)).first()
        if platform is None:
            platform = Platform(
                issuer="https://lms.example.org/bench",
                client_id="bench",
                auth_login_url="https://lms.example.org/auth",
                auth_token_url="https://lms.example.org/token",
                key_set_url="https://lms.example.org/certs",
            )
            db.add(platform)
        context = Context(
            platform=platform, deployment=Deployment(platform=platform, deployment_id=course), context_id=course
        )
        people = [
            Membership(
                context=context,
                person=Person(platform=platform, sub=f"{course}-t{n}", name=f"{GIVEN[n % 8]} {FAMILY[n // 8 % 8]}"),
                app_role=AppRole.TEACHER.value,
            )
            for n in range(teachers)
        ]
        trainer = Membership(
            context=context,
            person=Person(platform=platform, sub=f"{course}-trainer", name="วิทยากร"),
            app_role="trainer",
        )
        db.add_all([*people, trainer])
        db.flush()
        scope = CourseScope(platform.id, context.id)
        details = ProgramDetails(
            name=f"PLC {course} (ข้อมูลสังเคราะห์)",
            agency="สพป. ตัวอย่าง เขต 1",
            planned_cycles=CYCLES,
            min_hours=Decimal(20),
        )
        program = new_program(db, scope, details)
        teams = []
        for t in range(0, teachers, TEAM_SIZE):
            team = add_team(db, program, f"ทีม {t // TEAM_SIZE + 1}")
            for member in people[t : t + TEAM_SIZE]:
                add_team_member(db, team, member.id)
            apply_rotation(team, plan_rotation(team.member_ids, CYCLES))
            teams.append(team)
        submit(program)
        approve(program, APPROVED_ON, today=APPROVED_ON)
        start(program, APPROVED_ON)
        now = datetime.combine(today, datetime.min.time(), tzinfo=THAI_TIME)
        form = ObservationForm(lesson="บทเรียน", students_did="ทำกิจกรรม", students_learned="เข้าใจ")
        for team in teams:
            for cycle in range(1, CYCLES + 1):
                for element in ELEMENT_NUMBERS:
                    record_session(
                        db, team, cycle_number=cycle, element=element, held_on=APPROVED_ON + timedelta(days=cycle * 7),
                        hours=Decimal(2), attendee_ids=team.member_ids, recorded_by_id=team.member_ids[0], today=today,
                    )  # fmt: skip
                for buddy in team_plan(team)[cycle][1]:
                    submit_observation(db, team, cycle, buddy, form, now)
                for member in team.member_ids:
                    submit_reflection(db, team, cycle, member, "สะท้อนผล", now)
        end(program, min(today, program_day(utcnow())))  # an end to come would hold the certificates back
        return program.id


def issue_once(database: Database, settings: Settings, program_id: int) -> tuple[int, float]:
    with database.transaction() as db:
        program = db.get(Program, program_id)
        assert program is not None
        started = time.perf_counter()
        issued = service.issue_certificates(db, settings, program, issued_by_id=None, late_reason=LATE)
        db.flush()
    return len(issued), time.perf_counter() - started  # the commit is counted


def issue_by_job(database: Database, settings: Settings, program_id: int) -> tuple[int, float]:
    with database.transaction() as db:
        program = db.get(Program, program_id)
        assert program is not None
        job_id = certs.request_bulk_issue(db, program, None, today=program_day(utcnow()), late_reason=LATE).id
    started = time.perf_counter()
    certificate_jobs.run_job(database, settings, job_id)
    elapsed = time.perf_counter() - started
    with database.transaction() as db:
        job = db.get(certs.CertificateJob, job_id)
        assert job is not None and job.state is certs.JobState.DONE, job and job.error
        return job.issued, elapsed


def render_sample(database: Database, settings: Settings, program_id: int, sample: int) -> tuple[int, float]:
    with database.transaction() as db:
        rows = list(
            db.scalars(select(certs.Certificate).where(certs.Certificate.program_id == program_id).limit(sample))
        )
    documents.render_pdf(settings, "certificate.html", c=rows[0], verify_url="https://x/verify/1", lang="th")  # fonts
    started = time.perf_counter()
    for row in rows:
        documents.render_pdf(settings, "certificate.html", c=row, verify_url=f"https://x/verify/{row.code}", lang="th")
    return len(rows), time.perf_counter() - started


def run(label: str, url: str, teachers: int, pdf_sample: int, instance: Path) -> None:
    database = Database(url)
    upgrade(database.engine)
    settings = Settings(
        instance_path=instance,
        database_url=url,
        public_base_url="https://plc.example.go.th",
        secret_key="bench-" + "x" * 32,
        worker_thread=False,
        lrs=[LrsDestination(name="district", endpoint="https://lrs.example.go.th/xAPI/", username="u", password="p")],
    ).resolved()
    stamp = str(int(time.time() * 1000))
    once = ended_program(database, f"bench-a-{stamp}", teachers)
    job = ended_program(database, f"bench-b-{stamp}", teachers)
    n1, t1 = issue_once(database, settings, once)
    n2, t2 = issue_by_job(database, settings, job)
    again, t3 = issue_once(database, settings, once)
    n4, t4 = render_sample(database, settings, once, pdf_sample)
    with database.transaction() as db:
        earned = db.scalar(
            select(func.count()).select_from(certs.Certificate).where(certs.Certificate.program_id == once)
        )
    database.dispose()
    print(f"{label}: {teachers} eligible teachers")
    print(f"  (a) one transaction : {n1} issued in {t1:.2f} s = {n1 / t1:.0f} certificates/s  (target ≥ 20/s)")
    print(f"  (b) bulk job, 25/tx : {n2} issued in {t2:.2f} s = {n2 / t2:.0f} certificates/s")
    print(f"  issuing again       : {again} more in {t3:.2f} s (idempotent; {earned} certificates stay)")
    print(f"  (c) PDF on download : {n4} rendered in {t4:.2f} s = {n4 / t4:.1f} PDFs/s (WeasyPrint, not part of issue)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teachers", type=int, default=100)
    parser.add_argument("--pdf-sample", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{tmp}/bench.sqlite3", args.teachers, args.pdf_sample, Path(tmp))
        if postgres_available():
            with throwaway_database() as url:
                run("PostgreSQL", url, args.teachers, args.pdf_sample, Path(tmp))
        else:
            print("PostgreSQL: not reachable on 127.0.0.1:5432, skipped")


if __name__ == "__main__":
    main()
