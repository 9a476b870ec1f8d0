"""Every page of the demo, in Thai, as each person of the example course reads it: launched from the demo LMS (a real
LTI 1.3 launch into the finished example program), then every same-origin link the pages offer, followed with GET only
(no launch, no logout, no download), a bounded walk. The text a reader sees holds no ISO date and no Common-Era year
written as a date (the Buddhist Era in Thai), no word the Council does not use and no developer reference."""

from __future__ import annotations

import csv
import html
import io
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import pytest
import requests
from pypdf import PdfReader
from sqlalchemy import select

from lti_tool.demo_lms import platform as demo
from lti_tool.demo_lms.auto_form import submit_auto_form
from models.certificates import Certificate
from tests.conftest import ToolServer, start_tool
from tests.test_certificates import issue, wait_for_job
from tests.test_council_vocabulary import DEVELOPER_REFERENCES, FORBIDDEN
from tests.test_program_pages import Visit

MOST_PAGES = 250  # per person: the example course has a few dozen pages; the bound stops a runaway walk
THAI_MONTHS = (
    "มกราคม|กุมภาพันธ์|มีนาคม|เมษายน|พฤษภาคม|มิถุนายน|กรกฎาคม|สิงหาคม|กันยายน|ตุลาคม|พฤศจิกายน|ธันวาคม"
    r"|ม\.ค\.|ก\.พ\.|มี\.ค\.|เม\.ย\.|พ\.ค\.|มิ\.ย\.|ก\.ค\.|ส\.ค\.|ก\.ย\.|ต\.ค\.|พ\.ย\.|ธ\.ค\."
)
ENGLISH_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# (pattern, what is wrong); a Common-Era year is 19xx or 20xx, a Buddhist-Era year 25xx.
DATE_MISTAKES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)"), "an ISO date"),
    (re.compile(rf"(?:{THAI_MONTHS})\s*(?:19|20)\d\d(?!\d)"), "a Thai month with a Common-Era year"),
    (re.compile(r"พ\.ศ\.\s*(?:19|20)\d\d(?!\d)"), "a Common-Era year called พ.ศ."),
    (re.compile(r"(?<!\d)\d{1,2}/\d{1,2}/(?:19|20)\d\d(?!\d)"), "a day/month/Common-Era year"),
    (re.compile(rf"\b(?:{ENGLISH_MONTHS})\b[^.\n]{{0,12}}(?:19|20)\d\d(?!\d)"), "an English date on a Thai page"),
)
# Paths a walk must not GET: the demo LMS (its links launch again), the protocol's endpoints, files, leaving.
NOT_WALKED = re.compile(r"^/(?:demo|lti|static|\.well-known|setup)(?:/|$)|logout|\.(?:pdf|csv|png|svg|json)$")
DOCUMENT = re.compile(r"^/program/.*\.(?:pdf|csv)$")


def visible_text(page: str) -> str:
    """What a reader sees: no scripts or styles, no tags (so no attribute values: hidden inputs, an <input type=date>'s
    ISO value, links), entities decoded, addresses removed."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    text = re.sub(r"https?://\S+", " ", text)
    return re.sub(r"\s+", " ", text)


def date_mistakes(text: str) -> list[str]:
    found = []
    for pattern, what in DATE_MISTAKES:
        for match in pattern.finditer(text):
            found.append(f"{what}: …{text[max(0, match.start() - 40) : match.end() + 20]}…")
    return found


def word_mistakes(text: str) -> list[str]:
    found = [f"{why}: {m.group(0)}" for pattern, why in FORBIDDEN for m in re.finditer(pattern, text)]
    return found + [f"developer reference: {m.group(0)}" for m in DEVELOPER_REFERENCES.finditer(text)]


@pytest.fixture(scope="module")
def demo_tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolServer]:
    instance: Path = tmp_path_factory.mktemp("demo-walk")
    server = start_tool(instance, f"sqlite:///{instance / 'demo.sqlite3'}", demo_enabled=True)
    yield server
    server.server.shutdown()
    server.server.server_close()
    server.database.dispose()


def launched(tool: ToolServer, sub: str) -> tuple[requests.Session, requests.Response]:
    """A real launch from the demo LMS into the example course, in Thai, as the person's button makes it."""
    session = requests.Session()
    session.headers["Accept-Language"] = "th"
    auth_page = session.get(tool.url(f"/demo/launch/{sub}?course=example"), timeout=10)
    landing = submit_auto_form(session, auth_page)
    assert landing.status_code == 200 and urlsplit(landing.url).path == "/home", landing.text[:300]
    return session, landing


def links(tool: ToolServer, page: requests.Response, documents: bool = False) -> Iterator[str]:
    """Same-origin links of a page to walk (or, with `documents`, its PDF and CSV downloads), in Thai, without their
    fragment."""
    origin = urlsplit(tool.url("/")).netloc
    for href in re.findall(r'href="([^"]+)"', page.text):
        url = urlsplit(urljoin(page.url, html.unescape(href)))
        query = dict(parse_qsl(url.query))
        if url.netloc != origin or query.get("lang", "th") != "th":
            continue
        if (DOCUMENT.search(url.path) is not None) is documents and (documents or not NOT_WALKED.search(url.path)):
            yield urlunsplit(url._replace(query=urlencode(sorted(query.items())), fragment=""))


def page_key(url: str) -> str:
    """A page without the session's link token (signed afresh on every page) and the default language."""
    parts = urlsplit(url)
    query = sorted((k, v) for k, v in parse_qsl(parts.query) if k not in ("s", "lang"))
    return parts.path + ("?" + urlencode(query) if query else "")


@dataclass
class Walk:
    session: requests.Session
    pages: dict[str, str]  # page → visible text (HTML pages that answered 200)
    documents: dict[str, str] = field(default_factory=dict)  # a PDF or CSV the pages offer → its address


def walk(tool: ToolServer, sub: str) -> Walk:
    """Every page reachable from the person's landing page, and the documents those pages offer."""
    session, landing = launched(tool, sub)
    seen: dict[str, str] = {page_key(landing.url): visible_text(landing.text)}
    documents = {page_key(link): link for link in links(tool, landing, documents=True)}
    queue = deque(links(tool, landing))
    visited = {page_key(landing.url)}
    while queue and len(visited) < MOST_PAGES:
        url = queue.popleft()
        if page_key(url) in visited:
            continue
        visited.add(page_key(url))
        page = session.get(url, timeout=20, allow_redirects=False)
        if page.status_code != 200 or not page.headers.get("Content-Type", "").startswith("text/html"):
            continue
        seen[page_key(url)] = visible_text(page.text)
        queue.extend(link for link in links(tool, page) if page_key(link) not in visited)
        documents.update((page_key(link), link) for link in links(tool, page, documents=True))
    assert len(visited) < MOST_PAGES, f"the walk did not end within {MOST_PAGES} pages"
    return Walk(session, seen, documents)


PEOPLE = ("demo-trainer-1", "demo-teacher-1", "demo-teacher-4", "demo-admin-1", "demo-siteadmin-1")


@pytest.fixture(scope="module")
def walks(demo_tool: ToolServer) -> dict[str, Walk]:
    """Each person's walk, once (both checks read the same pages), after the trainer has issued the certificates as
    the demo invites them to (through the confirmation page), so that certificates and their /verify pages are read."""
    trainer = Visit(demo_tool, launched(demo_tool, "demo-trainer-1")[1])
    assert 'data-state="done"' in wait_for_job(trainer, issue(trainer)).text
    return {sub: walk(demo_tool, sub) for sub in PEOPLE}


@pytest.mark.parametrize("sub", PEOPLE)
def test_every_page_of_the_demo_shows_dates_in_the_buddhist_era(walks: dict[str, Walk], sub: str) -> None:
    pages = walks[sub].pages

    wrong = {url: date_mistakes(t) for url, t in pages.items()}

    assert len(pages) >= 8, sorted(pages)  # the walk reached the program, cycles, progress and more
    assert any(re.search(r"\d{1,2} (?:" + THAI_MONTHS + r") 25\d\d", t) for t in pages.values())
    assert {url: found for url, found in wrong.items() if found} == {}


@pytest.mark.parametrize("sub", PEOPLE)
def test_every_page_of_the_demo_uses_the_councils_words(walks: dict[str, Walk], sub: str) -> None:
    pages = walks[sub].pages

    wrong = {url: word_mistakes(t) for url, t in pages.items()}

    assert {url: found for url, found in wrong.items() if found} == {}


def pdf_text(body: bytes) -> str:
    """A PDF's text; sara am read as sara aa (WeasyPrint's text layer: see tests/test_certificates.py pdf_text)."""
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages).replace("ำ", "า")


def csv_columns_misnamed(body: bytes) -> list[str]:
    """Columns holding dates whose heading does not say which: ISO dates under ISO/ค.ศ., Thai dates under พ.ศ."""
    header, *rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    wrong = []
    for n, heading in enumerate(header):
        cells = [row[n] for row in rows if n < len(row) and row[n]]
        if any(re.fullmatch(r"\d{4}-\d{2}-\d{2}", c) for c in cells) and not re.search("ISO|ค\\.ศ\\.", heading):
            wrong.append(f"{heading}: ISO dates")
        if any(re.fullmatch(rf"\d{{1,2}} (?:{THAI_MONTHS}) 25\d\d", c) for c in cells) and "พ.ศ." not in heading:
            wrong.append(f"{heading}: Buddhist-Era dates")
        if "พ.ศ." in heading and any(re.search(r"(?<!\d)(?:19|20)\d\d(?!\d)", c) for c in cells):
            wrong.append(f"{heading}: a Common-Era year under พ.ศ.")
    return wrong


@pytest.mark.parametrize("sub", ["demo-trainer-1", "demo-teacher-1"])
def test_every_document_the_pages_offer_shows_thai_dates_and_names_its_columns(
    walks: dict[str, Walk], sub: str
) -> None:
    done = walks[sub]
    wrong: dict[str, list[str]] = {}
    for key, url in done.documents.items():
        answer = done.session.get(url, timeout=60)
        assert answer.status_code == 200, key
        if key.split("?")[0].endswith(".pdf"):
            text = pdf_text(answer.content)
            wrong[key] = date_mistakes(text) + word_mistakes(text)
        else:
            wrong[key] = csv_columns_misnamed(answer.content)

    assert any(k.startswith("/program/logbook/") for k in done.documents), sorted(done.documents)
    assert {key: found for key, found in wrong.items() if found} == {}


def test_the_verify_page_of_every_issued_certificate_shows_thai_dates(
    demo_tool: ToolServer, walks: dict[str, Walk]
) -> None:
    with demo_tool.database.transaction() as db:
        codes = list(db.scalars(select(Certificate.code)))
    texts = [
        visible_text(requests.get(demo_tool.url(f"/verify/{code}"), headers={"Accept-Language": "th"}, timeout=10).text)
        for code in codes
    ]

    assert len(codes) == 3 and "/program/certificates/jobs/1" in walks["demo-trainer-1"].pages
    assert all(re.search(r"\d{1,2} (?:" + THAI_MONTHS + r") 25\d\d", text) for text in texts)
    assert [date_mistakes(text) + word_mistakes(text) for text in texts] == [[], [], []]


def test_the_demo_lms_page_itself_shows_thai_dates_and_the_councils_words(demo_tool: ToolServer) -> None:
    text = visible_text(requests.get(demo_tool.url("/demo/?lang=th"), timeout=10).text)

    assert demo.EXAMPLE.title in text
    assert date_mistakes(text) == [] and word_mistakes(text) == []


def test_the_checks_catch_what_they_must_and_let_thai_dates_through() -> None:
    assert date_mistakes("ส่งเมื่อ 2026-03-22") and date_mistakes("22 มีนาคม 2026") and date_mistakes("พ.ศ. 2026")
    assert date_mistakes("22/3/2026") and date_mistakes("สอนเมื่อ 22 March 2026")
    assert not date_mistakes("22 มีนาคม 2569 10:30 น.") and not date_mistakes("ปีการศึกษา 2569, 30 วัน, 2,026 ชั่วโมง")
    assert visible_text('<input type="date" value="2026-03-22"><a href="/x?d=2026-03-22">ดู</a>').strip() == "ดู"
    assert word_mistakes("ครูผู้สอน (ครูต้นแบบ)") and word_mistakes("เอกสารต้นทาง 000 กระบวนการที่ 7")
    assert page_key("/program?s=abc&lang=th&member=2") == page_key("/program?member=2&s=xyz") == "/program?member=2"
    named = "ที่,วันที่ (ค.ศ. ISO),วันที่ (พ.ศ.)\r\n1,2026-03-02,2 มีนาคม 2569\r\n".encode()
    assert csv_columns_misnamed(named) == []
    assert csv_columns_misnamed("ที่,วันที่,ปีพุทธศักราช (B.E.)\r\n1,2026-03-02,2 มีนาคม 2569\r\n".encode()) == [
        "วันที่: ISO dates",
        "ปีพุทธศักราช (B.E.): Buddhist-Era dates",
    ]


def test_the_example_course_is_the_one_walked() -> None:
    assert {p.sub for p in demo.EXAMPLE.people} >= set(PEOPLE)
