"""The Teachers' Council's words, and no developer references, in everything a Thai or English reader sees: the Thai
catalog, the page templates, the printed documents, the configured forms, rubric and activity names, and the Thai
names of the learning records (the xAPI profile and the names the events write).

The Council's words (guideline of 9 July 2020, §2.4 and §3.2): ครูผู้สอน (Model Teacher) and ครูร่วมการเรียนรู้
(Buddy Teacher) alone — ครูต้นแบบ is an honour title in Thai schools and บัดดี้ is informal; the Council
"ให้ความเห็นชอบ", never อนุมัติ; a team is a กลุ่ม PLC; a Buddy observes the class (สังเกตชั้นเรียน), not the
teaching; a reflection's grade is a คะแนน (ระดับชั้น means a class level); eligible is ผ่านเกณฑ์, as on the
certificate; a school administrator (ผู้บริหารสถานศึกษา) is not the LMS's site administrator (ผู้ดูแลระบบ)."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "lti_tool" / "translations" / "th" / "LC_MESSAGES" / "messages.po"
GUIDELINE = "แนวปฏิบัติของหน่วยงานในการขอความร่วมมือการพัฒนาวิชาชีพแบบชุมชนแห่งการเรียนรู้ทางวิชาชีพ"

# (pattern, why): a Thai text matching the pattern breaks the Council's vocabulary.
FORBIDDEN: tuple[tuple[str, str], ...] = (
    (r"ครูต้นแบบ", "the Model Teacher is ครูผู้สอน (ครูต้นแบบ is an honour title)"),
    (r"บัดดี้", "the Buddy Teacher is ครูร่วมการเรียนรู้ (บัดดี้ is informal)"),
    (r"อนุมัติ", "the Council ให้ความเห็นชอบ (approves); say เห็นชอบ"),
    (r"สังเกตการสอน", "a Buddy observes the class: สังเกตชั้นเรียน, not the teaching"),
    # The OBEC competency C4 is named การทำงานเป็นทีม (teamwork) by its framework, and its definition speaks of
    # adapting to others or the working group (ผู้อื่นหรือทีมงาน): those ทีม stay, quoted from the framework.
    (r"(?<!การทำงานเป็น)(?<!ผู้อื่นหรือ)ทีม", "a team is a กลุ่ม PLC"),
    (r"มีสิทธิ์?ได้รับเกียรติบัตร|มีคุณสมบัติ", "eligible is ผ่านเกณฑ์, as on the certificate"),
    (r"ผู้บริหาร\S*\s*[/(]\s*ผู้ดูแลระบบ", "a school administrator and the LMS's site administrator are two people"),
    (r"แนวทางการพิจารณาความร่วมมือ", f"the guideline's title is {GUIDELINE}"),
)
# ระดับชั้น is a class level (ป.4, ม.2): allowed only where the English says grade level or grades of students.
CLASS_LEVEL_MSGIDS = frozenset(
    {
        "Grade level",
        "All grades",
        "By grade",
        "By grade: mean baseline (open dot) and mean result (filled dot) of the cycles that recorded both.",
    }
)
CLASS_LEVEL_ENGLISH = re.compile(r"grade level|learning area and grade|see its grades", re.IGNORECASE)

# Developer references a reader must never see: source documents by their working names, files, modules.
DEVELOPER_REFERENCES = re.compile(
    r"config/|\.json\b|\.py\b|\bseeds?\b|เอกสารต้นทาง|(?:edit|change|replace) this file|แก้ไขไฟล์นี้|lti_tool|models/|templates/",
    re.IGNORECASE,
)


def _catalog() -> list[tuple[str, str]]:
    with CATALOG.open("rb") as handle:
        return [(m.id, m.string) for m in read_po(handle, locale="th") if m.id and isinstance(m.id, str)]


def _template_text(path: Path) -> str:
    """A template without its Jinja and HTML comments (notes for whoever edits it, never shown)."""
    text = path.read_text(encoding="utf-8")
    return re.sub(r"\{#.*?#\}|<!--.*?-->", "", text, flags=re.S)


def _localised(node: Any, where: str = "") -> Iterator[tuple[str, str, str]]:
    """(where, language, text) for every {"th": …, "en": …} pair in a configuration file (also th-TH/en-US)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("th", "th-TH", "en", "en-US") and isinstance(value, str):
                yield f"{where}.{key}", key[:2], value
            else:
                yield from _localised(value, f"{where}.{key}")
    elif isinstance(node, list):
        for n, item in enumerate(node):
            yield from _localised(item, f"{where}[{n}]")


def _config_files() -> list[Path]:
    config = ROOT / "config"
    return sorted([*config.glob("*.json"), *config.glob("forms/*.json"), *config.glob("rubrics/*.json")]) + [
        config / "xapi" / "profile.jsonld"
    ]


def _thai_literals(folder: Path) -> Iterator[tuple[str, str]]:
    """Thai string literals in Python sources: the names learning records carry and the demo's example data."""
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.search("[\u0e00-\u0e7f]", node.value)
            ):
                yield f"{path.relative_to(ROOT)}:{node.lineno}", node.value


def _breaches(text: str) -> list[str]:
    return [why for pattern, why in FORBIDDEN if re.search(pattern, text)]


def test_the_thai_catalog_uses_the_councils_words() -> None:
    wrong = {msgid: (msgstr, _breaches(msgstr)) for msgid, msgstr in _catalog() if _breaches(msgstr)}

    assert not wrong, wrong


def test_thai_class_level_appears_only_for_class_levels() -> None:
    wrong = [
        (msgid, msgstr)
        for msgid, msgstr in _catalog()
        if "ระดับชั้น" in msgstr and msgid not in CLASS_LEVEL_MSGIDS and not CLASS_LEVEL_ENGLISH.search(msgid)
    ]

    assert not wrong, "a reflection's grade is คะแนน; ระดับชั้น is a class level: " + repr(wrong)


def test_a_reflections_grade_is_a_score_in_thai() -> None:
    thai = dict(_catalog())

    assert thai["Grade"] == "คะแนน"
    assert all("คะแนน" in thai[m] for m in ("Current grade", "Save the grade", "Your grade", "Regrade"))


def test_eligible_is_always_phan_kaen() -> None:
    # มีสิทธิ์ stays where it means permission ("ไม่มีสิทธิ์อ่าน"): only the eligibility messages are held to ผ่านเกณฑ์.
    eligibility = [(msgid, msgstr) for msgid, msgstr in _catalog() if re.search(r"\beligib", msgid, re.IGNORECASE)]

    assert len(eligibility) >= 8
    assert [m for m in eligibility if "ผ่านเกณฑ์" not in m[1] or re.search("มีสิทธิ|มีคุณสมบัติ", m[1])] == []


def test_school_and_site_administrators_have_their_own_thai_names() -> None:
    thai = dict(_catalog())

    assert "ผู้บริหารสถานศึกษา" in thai["School administrator"] and "ผู้ดูแลระบบ" not in thai["School administrator"]
    assert thai["Site administrator"] == "ผู้ดูแลระบบ"
    assert "ผู้ดูแลระบบ" in thai["Only the platform's administrators may see this page."]
    assert "ผู้บริหาร" not in thai["Only the platform's administrators may see this page."]


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "templates").rglob("*.html")) + sorted((ROOT / "config" / "documents").glob("*.html")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_templates_and_documents_use_the_councils_words(path: Path) -> None:
    text = _template_text(path)
    lines = [line for line in text.splitlines() if _breaches(line)]
    # A document's own Thai may write ระดับชั้น beside its English "Grade level" (a class level field).
    graded = [line for line in text.splitlines() if "ระดับชั้น" in line and "Grade level" not in line]

    assert not lines, lines
    assert not graded, graded


@pytest.mark.parametrize("path", _config_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_configured_names_use_the_councils_words(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    pairs = list(_localised(document))
    thai = [(where, text) for where, lang, text in pairs if lang == "th"]
    english = {where.rsplit(".", 1)[0]: text for where, lang, text in pairs if lang == "en"}

    wrong = [(where, text, _breaches(text)) for where, text in thai if _breaches(text)]
    graded = [
        (where, text)
        for where, text in thai
        if "ระดับชั้น" in text and "grade level" not in english.get(where.rsplit(".", 1)[0], "").lower()
    ]

    assert thai, f"{path.name} has no Thai names"
    assert not wrong, wrong
    assert not graded, graded


@pytest.mark.parametrize("folder", ["models", "xapi", "lti_tool"])
def test_thai_written_in_code_uses_the_councils_words(folder: str) -> None:
    wrong = [(where, text) for where, text in _thai_literals(ROOT / folder) if _breaches(text)]

    assert not wrong, wrong


def test_the_catalog_carries_no_developer_references() -> None:
    wrong = [(i, s) for i, s in _catalog() if DEVELOPER_REFERENCES.search(i) or DEVELOPER_REFERENCES.search(s)]

    assert not wrong, wrong


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "templates").rglob("*.html")) + sorted((ROOT / "config" / "documents").glob("*.html")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_pages_and_documents_carry_no_developer_references(path: Path) -> None:
    lines = [line.strip() for line in _template_text(path).splitlines() if DEVELOPER_REFERENCES.search(line)]

    assert not lines, lines


@pytest.mark.parametrize(
    "path",
    sorted([*(ROOT / "config" / "forms").glob("*.json"), *(ROOT / "config" / "rubrics").glob("*.json")]),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_shown_form_and_rubric_texts_carry_no_developer_references(path: Path) -> None:
    texts = list(_localised(json.loads(path.read_text(encoding="utf-8"))))

    assert [(where, text) for where, _lang, text in texts if DEVELOPER_REFERENCES.search(text)] == []


def test_the_forms_cite_the_guideline_and_the_article_by_their_titles() -> None:
    forms = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (ROOT / "config" / "forms").glob("*.json")}
    observation = forms["buddy-observation"]["source"]

    assert GUIDELINE in observation["th"] and "9 กรกฎาคม 2563" in observation["th"]
    assert "9 July 2020" in observation["en"]
    for slug in ("problem-reflection", "operation-tracking", "results-report"):
        assert "ชุมชนการเรียนรู้ทางวิชาชีพผ่านคลาวด์เทคโนโลยีเพื่อส่งเสริมสมรรถนะครู" in forms[slug]["source"]["th"]
        assert "cloud technology" in forms[slug]["source"]["en"]


def test_the_rules_catch_what_they_forbid() -> None:
    # Each rule bites on the wording the issue found, and lets the Council's own wording through.
    assert _breaches("ครูผู้สอน (ครูต้นแบบ)") and _breaches("สิ่งที่บัดดี้เห็น") and _breaches("คุรุสภาอนุมัติ")
    assert _breaches("เข้าทีมใหม่") and _breaches("สังเกตการสอนของครูผู้สอน") and _breaches("มีสิทธิ์ได้รับเกียรติบัตร")
    assert _breaches("ผู้บริหาร/ผู้ดูแลระบบ") and _breaches("ผู้บริหารสถานศึกษา (ผู้ดูแลระบบ)")
    assert not _breaches("การทำงานเป็นทีม") and not _breaches("คุรุสภาให้ความเห็นชอบ")
    assert not _breaches("คุณไม่มีสิทธิ์ดูกลุ่มนี้") and not _breaches("ครูร่วมการเรียนรู้สังเกตชั้นเรียนของครูผู้สอน")
    assert DEVELOPER_REFERENCES.search("เอกสารต้นทาง 000 กระบวนการที่ 7")
    assert DEVELOPER_REFERENCES.search("Seed 000") and DEVELOPER_REFERENCES.search("(config/plc.json)")
    assert DEVELOPER_REFERENCES.search("an agency may edit this file") and DEVELOPER_REFERENCES.search(
        "หน่วยงานแก้ไขไฟล์นี้ได้"
    )
    assert not DEVELOPER_REFERENCES.search("This file belongs to a record you may not read.")  # an evidence file
