"""A site administrator erases a teacher at her request in a real browser (Debian's Chromium): she finished a program
with a certificate; afterwards the results report and /verify show the district's pseudonym, her free text, files and
e-mail are gone, her teammates' data is untouched, and Ralph holds a voiding statement for each of her records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from models.erasure import PersonErasure
from models.evidence import Evidence, Upload, evidence_path, store_evidence
from models.outbox import OutboxStatement
from models.people import Membership, Person
from models.reflections import Reflection
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lrs import RalphServer
from tests.support.lti_platform import TestPlatform
from tests.support.waiting import wait_until
from tests.test_browser_plc import fits, open_as
from tests.test_browser_session_corrections import go
from tests.test_certificates import finished_program, issue, issued, pdf_text, wait_for_job
from tests.test_observations_page import png
from tests.test_program_teams import COLLEAGUES
from tests.xapi.test_outbox_web import ADMIN
from xapi import outbox
from xapi.delivery import OutboxDelivery
from xapi.vocabulary import Verb

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PSEUDONYM = "ครูผู้เข้าร่วม ก-017"

pytestmark = pytest.mark.browser


def attach_files(tool: ToolServer, ids: dict[str, int]) -> dict[str, Path]:
    """One evidence file each for the teacher and a teammate, on their first cycle."""
    folder = tool.settings.evidence_path
    assert folder is not None
    paths = {}
    with tool.database.transaction() as db:
        for name in (TEACHER.name, COLLEAGUES[0].name):
            member = db.get(Membership, ids[name])
            assert member is not None
            reflection = db.scalars(select(Reflection).where(Reflection.membership_id == member.id)).first()
            assert reflection is not None
            (stored,) = store_evidence(db, folder, reflection.cycle, [Upload("แผนการสอน.png", png())], member.id)
            paths[name] = evidence_path(folder, stored)
    return paths


def test_an_administrator_erases_a_teacher_and_the_councils_record_keeps_only_the_pseudonym(
    tool: ToolServer, platform: TestPlatform, browser: Any, ralph: RalphServer
) -> None:
    done = finished_program(tool, platform)
    wait_for_job(done.trainer, issue(done.trainer))
    certificate = next(c for c in issued(tool) if c.membership_id == done.ids[TEACHER.name])
    assert certificate.holder_name == TEACHER.name
    files = attach_files(tool, done.ids)
    teammate = COLLEAGUES[0]
    with tool.database.transaction() as db:
        hers = [
            r.id
            for r in db.scalars(select(OutboxStatement))
            if r.payload["actor"].get("account", {}).get("name") == TEACHER.sub
        ]
        theirs_before = {
            r.membership_id: r.text for r in db.scalars(select(Reflection)) if r.membership_id != done.ids[TEACHER.name]
        }
    assert hers
    platform.add_user(ADMIN)

    page = open_as(browser, platform, ADMIN)
    page.get_by_role("link", name="ข้อมูลส่วนบุคคล: การลบข้อมูลของบุคคล").click()
    page.get_by_label("ชื่อ หรือรหัสผู้ใช้ใน LMS").fill("สมศรี")
    page.get_by_role("button", name="ค้นหา").click()
    page.get_by_role("link", name="ดูผลของการลบข้อมูล").click()
    goes = page.locator("#erasure-goes").inner_text()
    assert "ข้อความการสะท้อนผลของบุคคลนี้\t3" in goes and "ไฟล์หลักฐานที่บุคคลนี้แนบ (ลบออกจากเซิร์ฟเวอร์)\t1" in goes
    assert "เกียรติบัตร (แสดงนามแฝง)\t1" in page.locator("#erasure-stays").inner_text()
    page.get_by_role("link", name="ไปยังหน้ายืนยัน").click()
    page.get_by_label("นามแฝงที่เขตพื้นที่กำหนด").fill(PSEUDONYM)
    page.get_by_label("เหตุผล").fill("คำขอใช้สิทธิลบข้อมูล เลขที่ สพป.นฐ.2/0123")
    assert fits(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "erasure-confirm-th.png"), full_page=True)
    page.get_by_role("button", name="ลบข้อมูลส่วนบุคคล").click()
    page.get_by_text(f"ตอนนี้ PLC Bridge แสดงบุคคลนี้เป็น “{PSEUDONYM}”").wait_for()
    assert TEACHER.name not in page.locator("main").inner_text()
    go(page, "/admin/people")
    page.close()

    # The Council's record: the results report and the public verification show the pseudonym, never the name.
    report = pdf_text(done.trainer.get("/program/report.pdf").content)
    assert PSEUDONYM in report and "สมศรี" not in report and teammate.name in report
    verified = requests.get(tool.url(f"/verify/{certificate.code}"))
    assert 'data-status="valid"' in verified.text and PSEUDONYM in verified.text and "สมศรี" not in verified.text
    # Her free text, e-mail and file are gone; her teammates' are as they were.
    with tool.database.transaction() as db:
        person = db.scalars(select(Person).where(Person.sub == TEACHER.sub)).one()
        assert (person.name, person.email, person.given_name) == (PSEUDONYM, None, "")
        texts = {r.membership_id: r.text for r in db.scalars(select(Reflection))}
        assert texts.pop(done.ids[TEACHER.name]) == "" and texts == theirs_before
        assert [e.uploaded_by_id for e in db.scalars(select(Evidence))] == [done.ids[teammate.name]]
        assert db.scalars(select(PersonErasure.reason)).one() == "คำขอใช้สิทธิลบข้อมูล เลขที่ สพป.นฐ.2/0123"
        colleague = db.scalars(select(Person).where(Person.sub == teammate.sub)).one()
        assert (colleague.name, colleague.email) == (teammate.name, teammate.email)
    assert not files[TEACHER.name].exists() and files[teammate.name].exists()

    # Her later launch from the same LMS account keeps the pseudonym.
    launch(requests.Session(), platform, TEACHER)
    with tool.database.transaction() as db:
        person = db.scalars(select(Person).where(Person.sub == TEACHER.sub)).one()
        assert (person.name, person.email) == (PSEUDONYM, None)

    # The voiding statements reach Ralph: one for each of her statements. Ralph 5 does not hide voided statements
    # (its `voidedStatementId` is "Not implemented"), so the voiding statements themselves are what is checked.
    with tool.database.transaction() as db:
        outbox.resend(db, "ralph")
    worker = OutboxDelivery(tool.database, [ralph.destination()])
    wait_until(lambda: worker.run_once().handled == 0, 60, 0, "the outbox did not drain into Ralph")
    stored = ralph.statements()
    voided = {s["object"]["id"] for s in stored if s["verb"]["id"] == Verb.VOIDED}
    assert set(hers) <= voided
    assert set(hers) <= {s["id"] for s in stored}
