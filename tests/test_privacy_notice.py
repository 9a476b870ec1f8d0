"""The personal-data notice (PDPA B.E. 2562) over real launches, on a tool of its own with the notice on (the suite's
`tool` turns it off so that its launches land where they always did): shown after the first launch and not the
second, shown once more for a new version, acknowledged only by a post with the form token, readable from every
page's footer; in Chromium, at 800 px, in Thai."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from jinja2 import Environment
from sqlalchemy import select

from models.privacy_notice import SHIPPED_NOTICE, NoticeAcknowledgement, load_notice
from tests.conftest import TEACHER, ToolServer, launch, register, start_tool
from tests.support.lti_platform import TestPlatform
from tests.test_council_vocabulary import FORBIDDEN

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@pytest.fixture(scope="module")
def notice_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("notice") / "notice.toml"
    shutil.copy(SHIPPED_NOTICE, copy)
    return copy


@pytest.fixture(scope="module")
def noticing(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, notice_file: Path
) -> Iterator[tuple[ToolServer, TestPlatform]]:
    """A tool with the notice on (the district's own file), and a platform registered with it."""
    tool = start_tool(
        tmp_path_factory.mktemp("noticing"),
        database_url,
        privacy_notice=True,
        privacy_notice_file=notice_file,
        rate_limit_lti="100000 per minute",
    )
    platform = TestPlatform(client_id="client-notice", deployment_id="dep-notice").start()
    platform.configure_tool(tool.url("/lti/login"), tool.url("/lti/launch"), tool.url("/lti/jwks"))
    platform.add_user(TEACHER)
    register(tool, platform)
    yield tool, platform
    platform.stop()
    tool.server.shutdown()
    tool.server.server_close()
    tool.database.dispose()


@pytest.fixture
def tool_with_notice(
    tool: ToolServer, noticing: tuple[ToolServer, TestPlatform], notice_file: Path
) -> Iterator[tuple[ToolServer, TestPlatform]]:
    """`tool` is asked for so that the suite empties the shared database after the test; the notice's version is
    put back."""
    original = notice_file.read_text(encoding="utf-8")
    yield noticing
    notice_file.write_text(original, encoding="utf-8")


def acknowledge_form(page: requests.Response) -> dict[str, str]:
    form = page.text.split('id="acknowledge"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))


def post_acknowledgement(browser: requests.Session, page: requests.Response, **changes: str) -> requests.Response:
    fields = {**acknowledge_form(page), **changes}
    action = re.search(r'<form method="post" action="([^"]+)" class="card form" id="acknowledge"', page.text)
    assert action
    return browser.post(page.url.split("/privacy")[0] + action.group(1).replace("&amp;", "&"), data=fields)


def acknowledgements(tool: ToolServer) -> list[str]:
    with tool.database.transaction() as db:
        return list(db.scalars(select(NoticeAcknowledgement.version).order_by(NoticeAcknowledgement.id)))


def new_version(notice_file: Path, version: str) -> None:
    text = notice_file.read_text(encoding="utf-8")
    notice_file.write_text(re.sub(r'^version = ".*"$', f'version = "{version}"', text, flags=re.M), encoding="utf-8")


def test_the_first_launch_shows_the_notice_then_the_page_and_the_second_launch_goes_straight_there(
    tool_with_notice: tuple[ToolServer, TestPlatform],
) -> None:
    tool, platform = tool_with_notice
    browser = requests.Session()

    first = launch(browser, platform, TEACHER)

    assert first.url.split("?")[0].endswith("/privacy") and "ประกาศเกี่ยวกับข้อมูลส่วนบุคคล" in first.text
    assert acknowledgements(tool) == []
    after = post_acknowledgement(browser, first)
    assert after.status_code == 200 and "/home?" in after.url and 'id="notice-read"' in after.text
    assert acknowledgements(tool) == [load_notice(tool.settings.privacy_notice_file).version]

    second = launch(requests.Session(), platform, TEACHER)

    assert "/home?" in second.url and 'id="acknowledge"' not in second.text and 'id="notice-read"' not in second.text


def test_a_new_version_of_the_notice_is_shown_again_once(
    tool_with_notice: tuple[ToolServer, TestPlatform], notice_file: Path
) -> None:
    tool, platform = tool_with_notice
    browser = requests.Session()
    post_acknowledgement(browser, launch(browser, platform, TEACHER))
    new_version(notice_file, "2027-01-district")

    shown = launch(browser, platform, TEACHER)
    assert shown.url.split("?")[0].endswith("/privacy") and 'value="2027-01-district"' in shown.text
    post_acknowledgement(browser, shown)
    again = launch(browser, platform, TEACHER)

    assert "/home?" in again.url
    assert acknowledgements(tool) == ["2026-12-1", "2027-01-district"]


def test_acknowledging_without_the_form_token_records_nothing(
    tool_with_notice: tuple[ToolServer, TestPlatform],
) -> None:
    tool, platform = tool_with_notice
    browser = requests.Session()
    page = launch(browser, platform, TEACHER)

    refused = post_acknowledgement(browser, page, csrf="0" * 64)

    assert refused.status_code == 400 and acknowledgements(tool) == []


def test_a_notice_replaced_while_it_was_being_read_is_shown_again_and_nothing_is_recorded(
    tool_with_notice: tuple[ToolServer, TestPlatform], notice_file: Path
) -> None:
    tool, platform = tool_with_notice
    browser = requests.Session()
    page = launch(browser, platform, TEACHER)
    new_version(notice_file, "2027-02-district")

    refused = post_acknowledgement(browser, page)

    assert refused.status_code == 409 and 'value="2027-02-district"' in refused.text
    assert acknowledgements(tool) == []


def test_after_the_notice_the_launch_continues_on_this_tool_only(
    tool_with_notice: tuple[ToolServer, TestPlatform],
) -> None:
    tool, platform = tool_with_notice
    browser = requests.Session()
    page = launch(browser, platform, TEACHER)

    after = post_acknowledgement(browser, page, next="https://elsewhere.example/steal")

    assert after.url.startswith(tool.url("/home?"))


def test_the_notice_is_readable_later_from_every_pages_footer_and_without_a_session(
    tool_with_notice: tuple[ToolServer, TestPlatform],
) -> None:
    tool, platform = tool_with_notice
    browser = requests.Session()
    landing = post_acknowledgement(browser, launch(browser, platform, TEACHER))
    link = re.search(r'<a href="([^"]+)" id="privacy-link">ข้อมูลส่วนบุคคล</a>', landing.text)
    assert link and 'id="my-data-link">ข้อมูลของฉัน</a>' in landing.text

    again = browser.get(tool.url(link.group(1).replace("&amp;", "&")))
    public = requests.get(tool.url("/privacy"), params={"lang": "en"})

    assert again.status_code == 200 and "คุณอ่านเมื่อ" in again.text and 'id="acknowledge"' not in again.text
    assert public.status_code == 200 and "Personal data notice" in public.text and 'id="acknowledge"' not in public.text


def test_the_notice_says_the_lrs_identity_rule_and_what_this_lms_shares(
    tool_with_notice: tuple[ToolServer, TestPlatform],
) -> None:
    _, platform = tool_with_notice
    browser = requests.Session()
    shown = launch(browser, platform, TEACHER)

    text = html.unescape(browser.get(shown.url, params={"lang": "en"}).text)

    assert "the LMS's address and your LTI user id, never by your name" in text
    assert "This LMS was not registered to share e-mail" in text


def test_the_shipped_notice_speaks_the_councils_words() -> None:
    notice = load_notice()
    thai = " ".join(
        item for s in notice.text("th").sections for block in s.blocks for item in (s.heading, *block.items)
    )
    for pattern, why in FORBIDDEN:
        assert not re.search(pattern, thai), why


def test_a_notice_file_that_is_html_is_shown_as_text(tmp_path: Path) -> None:
    rigged = tmp_path / "notice.toml"
    rigged.write_text(
        SHIPPED_NOTICE.read_text(encoding="utf-8").replace("ใครเป็นผู้ดูแลข้อมูลของท่าน", "<script>alert('x')</script>"),
        encoding="utf-8",
    )
    heading = load_notice(rigged).text("th").sections[0].heading
    assert Environment(autoescape=True).from_string("{{ h }}").render(h=heading).startswith("&lt;script&gt;")


# --- in Chromium ----------------------------------------------------------------------------------------------


def open_launch(browser: Any, platform: TestPlatform) -> Any:
    page = browser.new_page(viewport={"width": 800, "height": 900}, locale="th-TH")
    page.goto(platform.initiation_url(sub=TEACHER.sub, context_id="course-42", context_title="PLC วิทยาศาสตร์ ม.2",
                                      resource_link_id="rl-7", resource_link_title="วงรอบ PLC ที่ 1"))  # fmt: skip
    return page


@pytest.mark.browser
def test_in_the_browser_the_notice_comes_first_once_and_stays_in_the_footer(
    tool_with_notice: tuple[ToolServer, TestPlatform], browser: Any
) -> None:
    tool, platform = tool_with_notice
    page = open_launch(browser, platform)
    page.get_by_role("heading", name="ประกาศเกี่ยวกับข้อมูลส่วนบุคคล").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "privacy-notice-th.png"), full_page=True)

    page.get_by_role("button", name="ฉันอ่านประกาศนี้แล้ว: ไปต่อ").click()
    page.wait_for_url("**/home?**")
    page.locator("#notice-read").wait_for()
    page.get_by_role("link", name="ข้อมูลส่วนบุคคล").click()
    page.get_by_role("heading", name="ประกาศเกี่ยวกับข้อมูลส่วนบุคคล").wait_for()
    assert page.locator("#acknowledge").count() == 0
    page.close()

    again = open_launch(browser, platform)
    again.wait_for_url("**/home?**")
    assert again.locator("#acknowledge").count() == 0
    again.close()
    assert acknowledgements(tool) == ["2026-12-1"]


def test_the_shipped_notice_states_the_retention_periods_the_settings_apply() -> None:
    """The notice promises what the retention run does: its default periods (a district replacing either keeps both
    in step, as the notice file says)."""
    from lti_tool.settings import Settings

    fields = Settings.model_fields
    assert (fields["retention_days_after_end"].default, fields["read_log_days"].default) == (365, 730)
    notice = load_notice()
    kept = {
        lang: " ".join(
            item for section in notice.text(lang).sections for block in section.blocks for item in block.items
        )
        for lang in ("th", "en")
    }
    assert "1 ปีหลังโครงการสิ้นสุด" in kept["th"] and "เก็บ 2 ปี" in kept["th"]
    assert "1 more year after it ends" in kept["en"] and "kept for 2 years" in kept["en"]
