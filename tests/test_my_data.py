""" "My data" over real launches: a teacher downloads everything the tool holds about them, as JSON and as PDF, and
nothing of anyone else's: not a colleague's reflection or observation, not a person of the same LTI `sub` on
another platform. Then the same in Chromium, at 800 px, in Thai, with the downloads read back (pypdf for the PDF).
Learning records of a platform that does not share e-mail name people by their LMS account only."""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from pypdf import PdfReader
from sqlalchemy import select

from models.outbox import OutboxStatement
from models.people import Person
from models.platform import Platform
from models.reflections import Reflection
from tests.conftest import ToolServer, launch
from tests.support.lti_platform import LaunchUser, TestPlatform
from tests.test_observations_page import TEAM_A, USERS, another_platform, observe, running_program, visit_as
from tests.test_program_pages import Visit, trainer_visit
from tests.test_reflections_page import ALL_THREES, grade, write

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
MY_REFLECTION = "ฉันให้นักเรียนใช้แถบเศษส่วน ครั้งหน้าจะให้สร้างโจทย์เอง (ของฉัน)"
THEIR_REFLECTION = "ข้อความสะท้อนผลของเพื่อนครูที่ต้องไม่อยู่ในไฟล์ของฉัน"
MY_LESSON = "บันทึกการสังเกตชั้นเรียนของฉัน เศษส่วน ป.4/2"
THEIR_LESSON = "บันทึกการสังเกตของครูร่วมการเรียนรู้อีกคน ป.4/1"
COMMENT = "อธิบายวิธีคิดของนักเรียนได้ชัดเจน"


def a_cycle_of_work(tool: ToolServer, platform: TestPlatform) -> tuple[LaunchUser, LaunchUser, LaunchUser]:
    """Team A's cycle 1: both Buddies observe the Model Teacher's lesson and write reflections; the trainer grades the
    first Buddy's. Returns (me: that Buddy, the other Buddy, the Model Teacher)."""
    plan = running_program(tool, platform)
    model, buddies = plan[(TEAM_A, 1)]
    me, other = USERS[buddies[0]], USERS[buddies[1]]
    mine, theirs = visit_as(tool, platform, me.name), visit_as(tool, platform, other.name)
    assert observe(mine, 1, lesson=MY_LESSON).status_code == 200
    assert observe(theirs, 1, lesson=THEIR_LESSON).status_code == 200
    assert write(mine, 1, MY_REFLECTION).status_code == 200
    assert write(theirs, 1, THEIR_REFLECTION).status_code == 200
    with tool.database.transaction() as db:
        my_reflection = db.scalars(select(Reflection.id).where(Reflection.text == MY_REFLECTION)).one()
    assert grade(trainer_visit(tool, platform), my_reflection, ALL_THREES, COMMENT).status_code == 200
    return me, other, USERS[model]


def my_statement_ids(tool: ToolServer, platform: TestPlatform, user: LaunchUser) -> set[str]:
    """The outbox rows whose actor is this person's LMS account on this platform (read apart from the code tested)."""
    with tool.database.transaction() as db:
        platform_id = db.scalars(select(Platform.id).where(Platform.issuer == platform.issuer)).one()
        rows = db.scalars(select(OutboxStatement).where(OutboxStatement.platform_id == platform_id))
        return {r.id for r in rows if r.payload["actor"].get("account", {}).get("name") == user.sub}


def check_my_json(data: dict[str, Any], me: LaunchUser, platform: TestPlatform) -> None:
    assert data["person"]["name"] == me.name and data["person"]["lms_user_id"] == me.sub
    assert data["person"]["email"] == me.email and data["person"]["platform"] == platform.issuer
    assert [(c["course"], c["app_role"]) for c in data["courses"]] == [("PLC วิทยาศาสตร์ ม.2", "teacher")]
    assert [t["where"]["team"] for t in data["teams"]] == [TEAM_A]
    assert [1, "buddy"] in data["teams"][0]["roles"]
    assert [(o["mine_as"], o["lesson"], o["where"]["cycle"]) for o in data["observations"]] == [("buddy", MY_LESSON, 1)]
    assert [r["text"] for r in data["reflections"]] == [MY_REFLECTION]
    assert [g["comment"] for g in data["reflections"][0]["grades"]] == [COMMENT]
    assert len(data["sign_ins"]) >= 2 and all(s["course"] == "PLC วิทยาศาสตร์ ม.2" for s in data["sign_ins"])
    assert data["notice_acknowledgements"] == []  # the suite's tool does not show the notice


def test_a_teacher_downloads_their_own_data_and_nobody_elses(tool: ToolServer, platform: TestPlatform) -> None:
    me, other, model = a_cycle_of_work(tool, platform)
    twin = replace(me, name="ชื่อของคนอื่นบนอีกระบบ", email="elsewhere@example.org")
    with another_platform(tool, twin) as elsewhere:
        launch(requests.Session(), elsewhere, twin)
        theirs_elsewhere = my_statement_ids(tool, elsewhere, twin)
    visit = visit_as(tool, platform, me.name)

    page = visit.get("/my-data", lang="th")
    response = visit.get("/my-data.json")
    pdf = visit.get("/my-data.pdf", lang="th")

    assert page.status_code == 200 and "ข้อมูลของฉัน" in page.text
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.json()
    check_my_json(data, me, platform)
    assert set(data["learning_record_ids"]) >= my_statement_ids(tool, platform, me)
    assert not set(data["learning_record_ids"]) & (theirs_elsewhere | my_statement_ids(tool, platform, other))
    everything = response.text
    for never in (
        THEIR_REFLECTION,
        THEIR_LESSON,
        other.name,
        other.email,
        model.name,
        model.email,
        twin.name,
        twin.email,
    ):
        assert never not in everything, never
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    squeezed = re.sub(r"\s+", "", text)
    for mine in (MY_REFLECTION, MY_LESSON, COMMENT, me.name):
        assert re.sub(r"\s+", "", mine) in squeezed, mine
    for never in (THEIR_REFLECTION, THEIR_LESSON, other.name, twin.name):
        assert re.sub(r"\s+", "", never) not in squeezed, never


def test_the_person_of_another_platform_gets_only_their_own(tool: ToolServer, platform: TestPlatform) -> None:
    me, _, _ = a_cycle_of_work(tool, platform)
    twin = replace(me, name="ชื่อของคนอื่นบนอีกระบบ", email="elsewhere@example.org")
    with another_platform(tool, twin) as elsewhere:
        visit = Visit(tool, launch(requests.Session(), elsewhere, twin))
        data = visit.get("/my-data.json").json()
        mine_elsewhere = my_statement_ids(tool, elsewhere, twin)

    assert data["person"]["name"] == twin.name and data["person"]["platform"] == elsewhere.issuer
    assert data["reflections"] == [] and data["observations"] == [] and data["teams"] == []
    assert set(data["learning_record_ids"]) == mine_elsewhere
    assert MY_REFLECTION not in json.dumps(data, ensure_ascii=False)


def test_my_data_needs_a_session(tool: ToolServer) -> None:
    assert requests.get(tool.url("/my-data.json")).status_code == 401


def test_the_learning_records_of_a_platform_without_email_sharing_name_people_by_account_only(
    tool: ToolServer, platform: TestPlatform
) -> None:
    """See also tests/xapi/test_outbox_web.py (the launch statement's actor); here every statement of a cycle's work:
    actors, the grade's instructor and the observed Model Teacher, and no name or e-mail anywhere."""
    a_cycle_of_work(tool, platform)
    with tool.database.transaction() as db:
        assert not db.scalars(select(Platform.share_email).where(Platform.issuer == platform.issuer)).one()
        people = list(db.scalars(select(Person)))
        payloads = [r.payload for r in db.scalars(select(OutboxStatement))]
    agents = [a for p in payloads for a in _agents(p)]

    assert len({p["verb"]["id"] for p in payloads}) >= 4 and len(agents) > len(payloads)
    assert all(set(a) <= {"objectType", "account"} and a["account"]["homePage"] == platform.issuer for a in agents)
    text = json.dumps(payloads, ensure_ascii=False)
    for person in people:
        assert person.name not in text and (person.email or "@") not in text


def _agents(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("objectType") == "Agent" or "account" in node or "mbox" in node:
            yield node
        for value in node.values():
            yield from _agents(value)
    elif isinstance(node, list):
        for item in node:
            yield from _agents(item)


@pytest.mark.browser
def test_in_the_browser_a_teacher_downloads_their_data_as_pdf_and_json(
    tool: ToolServer, platform: TestPlatform, browser: Any, tmp_path: Path
) -> None:
    me, other, _ = a_cycle_of_work(tool, platform)
    context = browser.new_context(viewport={"width": 800, "height": 900}, locale="th-TH", accept_downloads=True)
    page = context.new_page()
    page.goto(platform.initiation_url(sub=me.sub, context_id="course-42", context_title="PLC วิทยาศาสตร์ ม.2",
                                      resource_link_id="rl-7", resource_link_title="วงรอบ PLC ที่ 1"))  # fmt: skip
    page.wait_for_url("**/home?**")
    page.locator("#my-data-link").click()  # the footer's link, in the person's language
    page.wait_for_url("**/my-data?**")
    page.goto(page.url + "&lang=th")
    page.get_by_role("heading", name="ข้อมูลของฉัน").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "my-data-th.png"), full_page=True)

    with page.expect_download() as json_download:
        page.get_by_role("link", name="ดาวน์โหลดเป็น JSON").click()
    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="ดาวน์โหลดเป็น PDF").click()
    data = json.loads(Path(json_download.value.path()).read_text(encoding="utf-8"))
    pdf_path = tmp_path / "my-data.pdf"
    pdf_download.value.save_as(str(pdf_path))
    context.close()

    check_my_json(data, me, platform)
    assert THEIR_REFLECTION not in json.dumps(data, ensure_ascii=False)
    text = re.sub(r"\s+", "", " ".join(p.extract_text() for p in PdfReader(str(pdf_path)).pages))
    assert re.sub(r"\s+", "", MY_REFLECTION) in text and re.sub(r"\s+", "", THEIR_REFLECTION) not in text
    assert re.sub(r"\s+", "", other.name) not in text
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf_path), str(tmp_path / "page")],
                   check=True)  # fmt: skip
    rendered = next(tmp_path.glob("page*.png"))
    (SCREENSHOTS / "my-data-pdf-page1-th.png").write_bytes(rendered.read_bytes())
