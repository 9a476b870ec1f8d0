"""The issue's journey in Debian's Chromium at 800 px, in Thai: the Model Teacher links their LINE account with the
code and the add-friend QR of the district's account (on the local Messaging API); a Buddy submits an observation of
their lesson; the worker's delivery job sends one LINE message and one e-mail (a real aiosmtpd), each in Thai with a
link that opens the observations of the lesson in the browser of the teacher's launch; the notice list shows it.
Screenshots: the notice list, the linking page with its QR, the notice settings, the administrators' page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from lti_tool.settings import SmtpSettings
from lti_tool.workers.notices import NoticeDeliveryJob
from tests.conftest import ToolServer
from tests.support.line_server import LineServer
from tests.support.lti_platform import TestPlatform
from tests.support.smtp_server import SmtpServer, smtp_server
from tests.test_browser_observation import fits, open_as
from tests.test_line_webhook import BASIC_ID, set_up_account
from tests.test_notice_delivery import morning
from tests.test_observations_page import USERS, observe, running_program, visit_as
from tests.xapi.test_outbox_web import ADMIN

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
TITLE = "มีผลการสังเกตชั้นเรียนของคุณเข้ามา"

pytestmark = pytest.mark.browser


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path) as server:
        yield server


def test_a_buddys_observation_reaches_the_model_teacher_by_line_email_and_the_notice_list(
    tool: ToolServer,
    platform: TestPlatform,
    browser: Any,
    line_api: LineServer,
    smtp: SmtpServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    the_plan = running_program(tool, platform)
    number, model, buddy = next(
        (n, m, b) for (_, n), (m, buddies) in sorted(the_plan.items()) for b in buddies if USERS[m].locale == "th"
    )
    set_up_account(tool, platform, line_api)

    # The Model Teacher links LINE: the page's QR holds the account's add-friend link; the code goes to the account.
    page = open_as(browser, tool, platform, USERS[model], "/notices/line")
    page.get_by_role("heading", name="เชื่อมบัญชี LINE ของคุณ").wait_for()
    assert fits(page)
    page.screenshot(path=str(SCREENSHOTS / "notices-line-th.png"), full_page=True)
    page.locator("#add-friend-qr img").screenshot(path=str(tmp_path / "qr.png"))
    [barcode] = zxingcpp.read_barcodes(Image.open(tmp_path / "qr.png"))
    assert barcode.text == f"https://line.me/R/ti/p/{BASIC_ID}"
    code = page.locator("#link-code").inner_text().strip()
    user = line_api.add_friend(USERS[model].name)
    replied = len(line_api.replies)
    assert line_api.send_text(user, code).status_code == 200
    assert "เชื่อมบัญชีแล้ว" in line_api.reply_after(replied)
    page.reload()
    page.locator("#line-linked").wait_for()

    # A Buddy submits the observation of the lesson; the delivery job sends the notice in the morning.
    assert observe(visit_as(tool, platform, buddy), number).status_code == 200
    smtp_settings = SmtpSettings(host="127.0.0.1", port=smtp.port, starttls=False, sender="plc@district.example")
    monkeypatch.setattr(tool.settings, "smtp", smtp_settings)
    report = NoticeDeliveryJob(tool.database, tool.settings, clock=lambda: morning()).run_once()
    assert report.delivered == 2

    [text] = line_api.delivered_to(user)
    [mail] = smtp.messages()
    assert text.startswith(TITLE) and f"วงรอบที่ {number}" in text
    assert str(make_header(decode_header(mail["Subject"]))) == TITLE and mail["To"] == USERS[model].email
    link = re.search(r"https?://\S+/notices/\d+", text)
    assert link and link.group(0) in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    # The link opens the observations of the lesson in the browser that launched from the course.
    page.goto(link.group(0))
    page.wait_for_url(f"**/program/cycles/{number}/observations**")
    assert f"วงรอบที่ {number}" in page.content()

    # The notice list shows it, read now; the landing page counts no unread notice.
    token = page.url.split("s=", 1)[1].split("&", 1)[0]
    page.goto(tool.url(f"/notices?s={token}"))
    item = page.locator("#notices li").first
    assert TITLE in item.inner_text() and item.get_attribute("data-unread") == "no"
    assert fits(page)
    page.screenshot(path=str(SCREENSHOTS / "notices-th.png"), full_page=True)

    page.get_by_role("link", name="ตั้งค่าการแจ้งเตือน").click()
    page.get_by_role("heading", name="ตั้งค่าการแจ้งเตือน").wait_for()
    assert fits(page)
    page.screenshot(path=str(SCREENSHOTS / "notice-settings-th.png"), full_page=True)
    page.get_by_label("งานสะท้อนคิดของคุณได้รับคะแนนแล้ว").uncheck()
    page.get_by_role("button", name="บันทึก").click()
    page.locator("#saved").wait_for()
    assert not page.get_by_label("งานสะท้อนคิดของคุณได้รับคะแนนแล้ว").is_checked()
    page.close()

    # The site administrator's page counts the two deliveries.
    admin = open_as(browser, tool, platform, ADMIN, "/admin/notices")
    assert admin.locator('#notice-status tr[data-channel="line"] td').nth(1).inner_text() == "1"
    assert admin.locator('#notice-status tr[data-channel="email"] td').nth(1).inner_text() == "1"
    assert fits(admin)
    admin.screenshot(path=str(SCREENSHOTS / "admin-notices-th.png"), full_page=True)
    admin.close()
