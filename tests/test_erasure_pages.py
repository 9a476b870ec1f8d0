"""The erasure pages over HTTP with real signed launches: only the platform's site administrator opens them, another
platform's person is not found, and a forged form token, an empty or taken pseudonym change nothing."""

from __future__ import annotations

import re

import requests
from sqlalchemy import select

from models.erasure import PersonErasure
from models.people import Person
from models.platform import Platform
from tests.conftest import TEACHER, TRAINER, ToolServer, launch
from tests.support.lti_platform import LaunchUser, TestPlatform
from tests.test_program_pages import Visit
from tests.xapi.test_outbox_web import ADMIN

SCHOOL_ADMIN = LaunchUser(
    sub="u-school-admin",
    name="ผู้บริหาร โรงเรียน",
    given_name="ผู้บริหาร",
    family_name="โรงเรียน",
    email="school-admin@example.org",
    roles=["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"],
)


def _visit(tool: ToolServer, platform: TestPlatform, user: LaunchUser) -> Visit:
    platform.add_user(user)
    return Visit(tool, launch(requests.Session(), platform, user))


def _person_id(tool: ToolServer, sub: str) -> int:
    with tool.database.transaction() as db:
        return db.scalars(select(Person.id).where(Person.sub == sub)).one()


def _state(tool: ToolServer) -> tuple[object, ...]:
    with tool.database.transaction() as db:
        person = db.scalars(select(Person).where(Person.sub == TEACHER.sub)).one()
        return person.name, person.email, person.erased_at, len(db.scalars(select(PersonErasure)).all())


def _token(page: requests.Response) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert match, "no form token on the page"
    return match.group(1)


def test_the_administrator_finds_a_teacher_and_reads_what_would_go_and_stay(
    tool: ToolServer, platform: TestPlatform
) -> None:
    launch(requests.Session(), platform, TEACHER)
    admin = _visit(tool, platform, ADMIN)

    found = admin.get("/admin/people", q="ใจดี", lang="en")
    by_id = admin.get("/admin/people", q=TEACHER.sub, lang="en")
    preview = admin.get(f"/admin/people/{_person_id(tool, TEACHER.sub)}/erase", lang="en")

    assert found.status_code == 200 and TEACHER.name in found.text and TEACHER.name in by_id.text
    assert preview.status_code == 200 and "What goes" in preview.text and "What stays" in preview.text
    assert _state(tool)[2:] == (None, 0)


def test_only_the_platforms_site_administrator_opens_the_erasure_pages(
    tool: ToolServer, platform: TestPlatform
) -> None:
    launch(requests.Session(), platform, TEACHER)
    target = _person_id(tool, TEACHER.sub)
    for user in (TEACHER, TRAINER, SCHOOL_ADMIN):
        visit = _visit(tool, platform, user)
        for path in ("/admin/people", f"/admin/people/{target}/erase", f"/admin/people/{target}/erase/confirm"):
            assert visit.get(path, q="ใจดี").status_code == 403, (user.sub, path)
        posted = visit.post(f"/admin/people/{target}/erase/confirm", {"pseudonym": "ครู ก", "reason": "คำขอ"})
        assert posted.status_code in (400, 403)
    assert _state(tool) == (TEACHER.name, TEACHER.email, None, 0)


def test_another_platforms_person_is_not_found(tool: ToolServer, platform: TestPlatform) -> None:
    admin = _visit(tool, platform, ADMIN)
    with tool.database.transaction() as db:
        elsewhere = Platform(issuer="https://elsewhere.example.org", client_id="c", auth_login_url="https://e/a",
                             auth_token_url="https://e/t", key_set_url="https://e/k")  # fmt: skip
        stranger = Person(platform=elsewhere, sub="u-stranger", name="คนนอก แพลตฟอร์ม")
        db.add(stranger)
        db.flush()
        stranger_id = stranger.id
    try:
        assert "u-stranger" not in admin.get("/admin/people", q="คนนอก").text
        assert admin.get(f"/admin/people/{stranger_id}/erase").status_code == 404
        page = admin.get(f"/admin/people/{_person_id(tool, ADMIN.sub)}/erase/confirm")
        posted = admin.post(f"/admin/people/{stranger_id}/erase/confirm", {"csrf": _token(page), "pseudonym": "ครู ข",
                                                                            "reason": "คำขอ"})  # fmt: skip
        assert posted.status_code == 404
        with tool.database.transaction() as db:
            assert db.get(Person, stranger_id).name == "คนนอก แพลตฟอร์ม"  # type: ignore[union-attr]
    finally:
        with tool.database.transaction() as db:
            db.delete(db.scalars(select(Platform).where(Platform.issuer == "https://elsewhere.example.org")).one())


def test_a_forged_token_an_empty_or_taken_pseudonym_change_nothing(tool: ToolServer, platform: TestPlatform) -> None:
    launch(requests.Session(), platform, TEACHER)
    platform.add_user(TRAINER)
    launch(requests.Session(), platform, TRAINER)
    admin = _visit(tool, platform, ADMIN)
    action = f"/admin/people/{_person_id(tool, TEACHER.sub)}/erase/confirm"
    page = admin.get(action, lang="en")
    token = _token(page)
    before = _state(tool)

    forged = admin.post(action, {"csrf": "0" * len(token), "pseudonym": "ครู ก", "reason": "คำขอ"})
    empty = admin.post(action, {"csrf": token, "pseudonym": "  ", "reason": "คำขอ"})
    taken = admin.post(action, {"csrf": token, "pseudonym": TRAINER.name, "reason": "คำขอ"})

    assert forged.status_code == 400
    assert empty.status_code == 422 and 'id="pseudonym-error"' in empty.text
    assert taken.status_code == 422 and 'id="pseudonym-error"' in taken.text and TRAINER.name in taken.text
    assert _state(tool) == before
    erased = admin.post(action, {"csrf": token, "pseudonym": "ครูผู้เข้าร่วม ก-017", "reason": "คำขอ 1/2569"})
    assert erased.status_code == 200 and "ครูผู้เข้าร่วม ก-017" in erased.text and TEACHER.name not in erased.text
    again = admin.post(action, {"csrf": token, "pseudonym": "ครูผู้เข้าร่วม ก-018", "reason": "คำขอ"})
    assert again.status_code == 409 and _state(tool)[0] == "ครูผู้เข้าร่วม ก-017"
