"""Nothing typed is lost, over real HTTP: a post with an expired link token keeps its text as a draft for the person
the token names; the next launch into the page fills the form in again; a bad signature keeps nothing; saving or
discarding removes the draft; the 503 page shows the typed text again without any token."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from sqlalchemy import event, select

from lti_tool.settings import Settings
from lti_tool.web import session as web_session
from lti_tool.web.app import create_app
from lti_tool.web.drafts import fill_form, has_fields_to_fill
from models.drafts import Draft
from models.reflections import Reflection
from tests.conftest import TEACHER, ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_program_pages import Visit
from tests.test_program_teams import COLLEAGUES
from tests.test_sessions_page import running_program_with_a_team

TEXT = "นักเรียนใช้แถบเศษส่วนแล้วอธิบายได้ <b>ครั้งหน้า</b> จะให้นักเรียนสร้างโจทย์เอง"
PAGE = "/program/cycles/1/reflection"


def form_csrf(page: requests.Response) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text.split(f'action="{PAGE}', 1)[1])
    assert match
    return match.group(1)


def post_after_expiry(teacher: Visit, monkeypatch: pytest.MonkeyPatch, text: str = TEXT) -> requests.Response:
    """The teacher opens the page, the link token's two hours pass, then they press Submit."""
    csrf = form_csrf(teacher.get(PAGE))
    monkeypatch.setattr(web_session, "LINK_TOKEN_MAX_AGE", -1)
    monkeypatch.setattr(web_session, "FORM_POST_MAX_AGE", -1)
    try:
        return teacher.post(PAGE, {"csrf": csrf, "text": text})
    finally:
        monkeypatch.undo()


def drafts(tool: ToolServer) -> list[Draft]:
    with tool.database.transaction() as db:
        return list(db.scalars(select(Draft)))


def test_an_expired_link_keeps_the_text_and_says_in_thai_how_to_continue(
    tool: ToolServer, platform: TestPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))

    refused = post_after_expiry(teacher, monkeypatch)

    assert refused.status_code == 401
    assert "เปิดกิจกรรมอีกครั้งจากรายวิชาใน LMS" in refused.text and "kept for a week" in refused.text
    [draft] = drafts(tool)
    assert draft.path == PAGE and draft.fields == {"text": [TEXT]}
    with tool.database.transaction() as db:
        assert db.scalars(select(Reflection)).all() == []  # nothing was saved behind the person's back


def test_the_next_launch_into_the_page_fills_the_text_in_again_with_a_notice(
    tool: ToolServer, platform: TestPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    running_program_with_a_team(tool, platform)
    post_after_expiry(Visit(tool, launch(requests.Session(), platform, TEACHER)), monkeypatch)

    again = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = again.get(PAGE)

    assert "กู้คืนข้อความที่ยังไม่ได้บันทึกจากเวลา" in page.text
    textarea = re.search(r'<textarea id="text" name="text"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert textarea and textarea.group(1) == TEXT.replace("<", "&lt;").replace(">", "&gt;")  # escaped, not markup


def test_saving_the_restored_text_saves_it_and_forgets_the_draft(
    tool: ToolServer, platform: TestPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    running_program_with_a_team(tool, platform)
    post_after_expiry(Visit(tool, launch(requests.Session(), platform, TEACHER)), monkeypatch)
    again = Visit(tool, launch(requests.Session(), platform, TEACHER))

    saved = again.post(PAGE, {"csrf": form_csrf(again.get(PAGE)), "text": TEXT})

    assert saved.status_code == 200 and "กู้คืนข้อความ" not in saved.text
    assert drafts(tool) == []
    with tool.database.transaction() as db:
        assert db.scalars(select(Reflection.text)).all() == [TEXT]


def test_discarding_the_restored_text_shows_the_page_as_it_was(
    tool: ToolServer, platform: TestPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    running_program_with_a_team(tool, platform)
    post_after_expiry(Visit(tool, launch(requests.Session(), platform, TEACHER)), monkeypatch)
    again = Visit(tool, launch(requests.Session(), platform, TEACHER))
    page = again.get(PAGE)
    notice = page.text.split('class="notice draft-notice"', 1)[1]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', notice)
    assert csrf

    shown = again.post("/drafts/discard", {"csrf": csrf.group(1), "path": PAGE, "back": f"{PAGE}?s={again.token}"})

    assert shown.status_code == 200 and shown.url.split("?")[0].endswith(PAGE)
    assert "กู้คืนข้อความ" not in shown.text and TEXT not in shown.text
    assert drafts(tool) == []


def test_another_teacher_of_the_course_never_sees_the_draft(
    tool: ToolServer, platform: TestPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    running_program_with_a_team(tool, platform)
    post_after_expiry(Visit(tool, launch(requests.Session(), platform, TEACHER)), monkeypatch)

    page = Visit(tool, launch(requests.Session(), platform, COLLEAGUES[0])).get(PAGE)

    assert "กู้คืนข้อความ" not in page.text and "แถบเศษส่วน" not in page.text


def test_a_token_with_a_bad_signature_keeps_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    csrf = form_csrf(teacher.get(PAGE))
    teacher.token = teacher.token[:-4] + ("AAAA" if not teacher.token.endswith("AAAA") else "BBBB")

    refused = teacher.post(PAGE, {"csrf": csrf, "text": TEXT})

    assert refused.status_code == 401 and "kept for a week" not in refused.text
    assert drafts(tool) == []


def test_a_post_with_no_session_at_all_keeps_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    refused = requests.post(tool.url(PAGE), data={"text": TEXT}, timeout=10)

    assert refused.status_code == 401 and "kept for a week" not in refused.text
    assert drafts(tool) == []


def test_a_form_token_of_another_session_keeps_the_text_for_the_person_posting(
    tool: ToolServer, platform: TestPlatform
) -> None:
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    stale_csrf = "0" * 64

    refused = teacher.post(PAGE, {"csrf": stale_csrf, "text": TEXT})

    assert refused.status_code == 400 and "เก็บสิ่งที่คุณพิมพ์ไว้" in refused.text
    assert "กู้คืนข้อความ" in teacher.get(PAGE).text


def unreachable_database_app(tmp_path: Path) -> object:
    settings = Settings(
        instance_path=tmp_path,
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2",
        secret_key="s" * 32,
        worker_thread=False,
    ).resolved()
    return create_app(settings).test_client()


def test_the_503_page_shows_what_was_typed_again_escaped_and_without_tokens(tmp_path: Path) -> None:
    client = unreachable_database_app(tmp_path)
    client.set_cookie("plc_session", "session-cookie-token")  # type: ignore[attr-defined]

    response = client.post(  # type: ignore[attr-defined]
        f"{PAGE}?s=signed-link-token",
        data={"csrf": "f" * 64, "s": "signed-link-token", "password": "hunter2", "text": TEXT},
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 503 and "ฐานข้อมูลไม่พร้อมใช้งานชั่วคราว" in page
    assert re.search(r'<textarea [^>]*name="text"[^>]*readonly>', page)
    assert TEXT.replace("<", "&lt;").replace(">", "&gt;") in page and "<b>ครั้งหน้า</b>" not in page
    assert f'<form method="post" action="{PAGE}"' in page  # send again: same URL, without the link token
    assert "f" * 64 not in page and "signed-link-token" not in page and "hunter2" not in page
    assert "session-cookie-token" not in page


def test_the_503_page_of_a_page_view_shows_no_form(tmp_path: Path) -> None:
    client = unreachable_database_app(tmp_path)
    client.set_cookie("plc_session", "session-cookie-token")  # type: ignore[attr-defined]

    response = client.get(PAGE)  # type: ignore[attr-defined]

    assert response.status_code == 503 and "<textarea" not in response.get_data(as_text=True)


SESSIONS_PAGE = """<main id="content">
<form method="post" action="/program/state?s=tok"><input type="hidden" name="csrf" value="other"><button>End</button></form>
<form method="post" enctype="multipart/form-data" action="/program/sessions?s=tok&amp;team=3" class="card form">
  <input type="hidden" name="csrf" value="fresh">
  <input id="hours" name="hours" type="text" inputmode="decimal" value="">
  <input type="date" name="held_on" value="2026-11-20">
  <select name="element"><option value="1" selected>1</option><option value="2">2</option></select>
  <input type="checkbox" name="attendee" value="3" checked><input type="checkbox" name="attendee" value="5" checked>
  <textarea name="notes" rows="4"></textarea>
  <input type="file" name="evidence">
</form>
</main>"""


def test_a_draft_fills_every_kind_of_field_of_its_own_form_only() -> None:
    typed = {
        "hours": ["2.5"],
        "held_on": ["2026-11-21"],
        "element": ["2"],
        "attendee": ["5"],
        "notes": ['ครูเล่า "แถบเศษส่วน" & <ตัวอย่าง>'],
        "csrf": ["stale"],
    }

    page = fill_form(SESSIONS_PAGE, "/program/sessions", typed)

    assert page is not None
    assert 'value="2.5"' in page and 'value="2026-11-21"' in page
    assert '<option value="1">1</option><option value="2" selected>' in page
    assert 'value="3">' in page and 'value="5" checked>' in page  # the unticked box is unticked again
    assert "ครูเล่า &quot;แถบเศษส่วน&quot; &amp; &lt;ตัวอย่าง&gt;" not in page  # text content, not an attribute
    assert '<textarea name="notes" rows="4">ครูเล่า "แถบเศษส่วน" &amp; &lt;ตัวอย่าง&gt;</textarea>' in page
    assert 'value="fresh"' in page and "stale" not in page and 'value="other"' in page  # tokens stay the page's own


def test_a_page_without_the_drafts_form_is_left_alone() -> None:
    assert fill_form(SESSIONS_PAGE, "/program/cycles/1/reflection", {"text": ["x"]}) is None


def test_a_page_whose_forms_hold_only_hidden_fields_has_nothing_a_draft_could_fill() -> None:
    sign_out_only = (
        '<main><p>Welcome</p><button type="submit" form="sign-out">Sign out</button></main>'
        '<form id="sign-out" method="post" action="/sign-out"><input type="hidden" name="csrf" value="x"></form>'
    )
    with_text = sign_out_only.replace("</main>", '<form method="post" action="/a"><input name="title"></form></main>')

    assert has_fields_to_fill(SESSIONS_PAGE)
    assert not has_fields_to_fill(sign_out_only)
    assert has_fields_to_fill(with_text)
    assert has_fields_to_fill(sign_out_only.replace('type="hidden" ', 'type="checkbox" '))
    assert not has_fields_to_fill(with_text.replace('method="post"', 'method="get"'))
    # The dashboard: a GET form of filters to choose in, and a posted button of hidden fields (refresh).
    filters = sign_out_only.replace(
        "</main>", '<form method="get"><select name="year"><option>1</option></select></form></main>'
    )
    assert not has_fields_to_fill(filters)
    assert has_fields_to_fill(filters + with_text)


def test_a_form_posted_after_its_link_expired_for_pages_is_still_saved_with_its_form_token(
    tool: ToolServer, platform: TestPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link opens pages for 20 minutes; a reflection takes longer to write. The form's own token proves the post
    comes from a page of this session, so it is taken for two hours; the same link opens no page any more."""
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    csrf = form_csrf(teacher.get(PAGE))
    monkeypatch.setattr(web_session, "LINK_TOKEN_MAX_AGE", -1)  # past the links' 20 minutes, within the forms' 2 hours

    def post(fields: dict[str, str]) -> requests.Response:
        return teacher.browser.post(tool.url(PAGE), params={"s": teacher.token}, data=fields, allow_redirects=False)

    saved = post({"csrf": csrf, "text": TEXT})
    kept_as_draft = drafts(tool)
    page = teacher.get(PAGE)
    forged = post({"csrf": "0" * 64, "text": "ไม่ควรถูกบันทึก"})

    assert saved.status_code == 303 and kept_as_draft == []  # saved, not kept as a draft
    assert page.status_code == 401  # a link from the history opens nothing
    assert forged.status_code in (400, 401)
    with tool.database.transaction() as db:
        assert [r.text for r in db.scalars(select(Reflection))] == [TEXT]  # the forged post saved nothing


def test_a_person_without_a_draft_reads_no_drafts_and_one_kept_meanwhile_is_found_by_the_next_page(
    tool: ToolServer, platform: TestPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session's own read says whether the person has a draft in the course: without one, a page with a form
    reads no drafts; a draft kept by a refused post in the same session is filled in by the next page."""
    running_program_with_a_team(tool, platform)
    teacher = Visit(tool, launch(requests.Session(), platform, TEACHER))
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(tool.database.engine, "before_cursor_execute", seen)
    try:
        page = teacher.get(PAGE)
        assert page.status_code == 200 and 'name="text"' in page.text
        assert not [s for s in statements if "FROM drafts" in s and "EXISTS" not in s], statements
        assert [s for s in statements if "EXISTS" in s and "FROM drafts" in s]  # asked with the session

        csrf = form_csrf(page)
        monkeypatch.setattr(web_session, "FORM_POST_MAX_AGE", -1)
        monkeypatch.setattr(web_session, "LINK_TOKEN_MAX_AGE", -1)
        assert teacher.post(PAGE, {"csrf": csrf, "text": TEXT}).status_code == 401  # kept as a draft
        monkeypatch.undo()
        statements.clear()
        again = Visit(tool, launch(requests.Session(), platform, TEACHER)).get(PAGE)
    finally:
        event.remove(tool.database.engine, "before_cursor_execute", seen)

    assert "กู้คืนข้อความที่ยังไม่ได้บันทึกจากเวลา" in again.text
    assert [s for s in statements if "FROM drafts" in s and "EXISTS" not in s]
