"""The personal-data notice (Thailand's PDPA B.E. 2562): its text, which a district may replace (a TOML file with a
`version`, shipped as config/privacy_notice/notice.toml), and each person's acknowledgement of each version.

The text is plain: paragraphs and "- " lists, never HTML, so a replaced file cannot put markup on a page."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow
from models.catalog import CONFIG_DIR
from models.database import get_or_create, read_now

SHIPPED_NOTICE = CONFIG_DIR / "privacy_notice" / "notice.toml"
NOTICE_LANGUAGES = ("th", "en")
MAX_VERSION = 64


class NoticeProblem(ValueError):
    """The notice file cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Block:
    """A paragraph (one item) or a list (its items)."""

    kind: str  # "p" or "ul"
    items: tuple[str, ...]


@dataclass(frozen=True)
class NoticeSection:
    heading: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class NoticeText:
    title: str
    sections: tuple[NoticeSection, ...]


@dataclass(frozen=True)
class PrivacyNotice:
    version: str
    texts: dict[str, NoticeText]

    def text(self, lang: str) -> NoticeText:
        return self.texts.get(lang) or self.texts["th"]


def blocks_of(text: str) -> tuple[Block, ...]:
    """Plain text as paragraphs (split at blank lines) and lists (runs of lines starting with "- ")."""
    found: list[Block] = []
    for chunk in text.strip().split("\n\n"):
        lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            found.append(Block("ul", tuple(line[2:].strip() for line in lines)))
        else:
            found.append(Block("p", (" ".join(lines),)))
    return tuple(found)


def _text(path: Path, lang: str, document: dict[str, Any]) -> NoticeText:
    part = document.get(lang)
    if not isinstance(part, dict) or not str(part.get("title") or "").strip():
        raise NoticeProblem(f"{path}: [{lang}] needs a title")
    sections = part.get("sections")
    if not isinstance(sections, list) or not sections:
        raise NoticeProblem(f"{path}: [{lang}] needs at least one [[{lang}.sections]]")
    read: list[NoticeSection] = []
    for n, section in enumerate(sections, start=1):
        if not isinstance(section, dict) or not str(section.get("heading") or "").strip():
            raise NoticeProblem(f"{path}: section {n} of [{lang}] needs a heading")
        blocks = blocks_of(str(section.get("text") or ""))
        if not blocks:
            raise NoticeProblem(f"{path}: section {n} of [{lang}] needs a text")
        read.append(NoticeSection(str(section["heading"]).strip(), blocks))
    return NoticeText(str(part["title"]).strip(), tuple(read))


def load_notice(path: Path | None = None) -> PrivacyNotice:
    """The notice in `path` (the shipped one by default), read again whenever the file changes."""
    path = path or SHIPPED_NOTICE
    try:
        modified = path.stat().st_mtime_ns
    except OSError as exc:
        raise NoticeProblem(f"{path}: cannot read the personal-data notice ({exc})") from exc
    return _load(path, modified)


@cache
def _load(path: Path, _modified: int) -> PrivacyNotice:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise NoticeProblem(f"{path}: cannot read the personal-data notice ({exc})") from exc
    version = str(document.get("version") or "").strip()
    if not version or len(version) > MAX_VERSION:
        raise NoticeProblem(f"{path}: `version` must be set, at most {MAX_VERSION} characters")
    return PrivacyNotice(version, {lang: _text(path, lang, document) for lang in NOTICE_LANGUAGES})


class NoticeAcknowledgement(Base):
    """A person read a version of the notice and said so (one row per person and version)."""

    __tablename__ = "privacy_notice_acknowledgements"
    __table_args__ = (UniqueConstraint("person_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(MAX_VERSION))
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)


def has_acknowledged(db: Session, person_id: int, version: str) -> bool:
    return read_now(db, _acknowledgement_query(), {"person_id": person_id, "version": version}) is not None


@cache
def _acknowledgement_query() -> Any:
    """has_acknowledged's statement, built once: every launch asks it."""
    return select(NoticeAcknowledgement.id).where(
        NoticeAcknowledgement.person_id == bindparam("person_id"), NoticeAcknowledgement.version == bindparam("version")
    )


def acknowledge(db: Session, person_id: int, version: str, now: datetime) -> NoticeAcknowledgement:
    """Record that the person read this version; acknowledging it again keeps the first time (a second click or a
    second tab races safely)."""
    row: NoticeAcknowledgement = get_or_create(
        db, NoticeAcknowledgement, {"person_id": person_id, "version": version}, acknowledged_at=now
    )
    return row


def acknowledgements_of(db: Session, person_id: int) -> list[NoticeAcknowledgement]:
    return list(
        db.scalars(
            select(NoticeAcknowledgement)
            .where(NoticeAcknowledgement.person_id == person_id)
            .order_by(NoticeAcknowledgement.acknowledged_at, NoticeAcknowledgement.id)
        )
    )
