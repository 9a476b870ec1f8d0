"""Nothing typed is lost: a post refused because its session or form token has expired keeps what was typed as a
draft (models/drafts.py), and the next page that shows the same form gets it filled in again, with a notice.

This is done once for every form: the error handlers call `keep_posted`, and an after-request hook fills the
forms of any page whose action is a draft's path, so no view or template needs to know about drafts.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_time
from flask import Blueprint, Flask, g, redirect, render_template, request
from flask_babel import get_locale
from sqlalchemy.exc import DBAPIError
from werkzeug.wrappers import Response

from lti_tool.web.session import csrf_token, csrf_valid, database, draft_owner, require_session, session_url, settings
from models.base import utcnow
from models.drafts import Draft, DraftFields, discard_draft, draft_fields, drafts_of, keep_draft

log = logging.getLogger(__name__)

bp = Blueprint("drafts", __name__)
DISCARD = "draft-discard"
# Posts that are not a person's typing: the LTI protocol's own, and throwing a draft away.
NOT_TYPING = ("/lti/", "/drafts/")
TYPED_INPUTS = frozenset(
    {"text", "search", "number", "date", "time", "datetime-local", "month", "week", "email", "url", "tel", "range"}
)
# A field a draft can fill: a text area, a list, or an input of any type but those that hold nothing typed.
_FILLABLE = re.compile(
    r'<(?:textarea|select)\b|<input\b(?![^>]*\btype="?(?:hidden|submit|button|reset|image|file)\b)', re.IGNORECASE
)

_POST_FORM = re.compile(r'<form\b[^>]*\bmethod="post"[^>]*>(.*?)</form>', re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Kept:
    """What `keep_posted` kept: the page that refuses the post says so."""

    files_dropped: bool


def keep_posted() -> Kept | None:
    """Keep the typed fields of this refused post for the person who sent it; None when nothing was kept (not a
    post, nothing typed, nobody trustworthy named, or the database is away)."""
    if request.method != "POST" or request.path.startswith(NOT_TYPING):
        return None
    fields = draft_fields(request.form.items(multi=True))
    files_dropped = any(upload.filename for upload in request.files.values())
    try:
        with database().transaction() as db:
            owner = g.get("plc_owner") or draft_owner(db)
            if owner is None:
                return None
            draft = keep_draft(db, owner[0], owner[1], request.path, fields, files_dropped, utcnow())
    except DBAPIError:
        log.warning("draft not kept: the database is away path=%s", request.path)
        return None
    if draft is None:
        return None
    log.info("draft kept path=%s fields=%d files_dropped=%s", request.path, len(fields), files_dropped)
    return Kept(files_dropped=files_dropped)


def _forget_saved(response: Response) -> Response:
    """A post to a form that went through: its draft, if any, is done with."""
    owner = g.get("plc_owner")
    if owner is None or request.method != "POST" or response.status_code >= 400 or g.get("plc_drafts") is False:
        return response
    if request.path.startswith(NOT_TYPING):
        return response
    try:
        with database().transaction() as db:
            discard_draft(db, owner[0], owner[1], request.path)
    except DBAPIError:  # the save went through; a draft left behind only fills the form once more
        log.warning("draft not removed: the database is away path=%s", request.path)
    return response


def _restore(response: Response) -> Response:
    """Fill the forms of this page that have a draft, and say so at the top of the page."""
    owner = g.get("plc_owner")
    if owner is None or request.method != "GET" or response.status_code != 200 or response.direct_passthrough:
        return response
    if g.get("plc_drafts") is False:  # the person had no draft in this course when the request began
        return response
    if response.mimetype != "text/html":
        return response
    page = response.get_data(as_text=True)
    if not has_fields_to_fill(page):
        return response
    try:
        with database().transaction() as db:
            drafts = drafts_of(db, owner[0], owner[1], utcnow())
    except DBAPIError:  # the page itself was read; show it without the restored text rather than not at all
        log.warning("drafts not read: the database is away path=%s", request.path)
        return response
    restored: list[Draft] = []
    for draft in drafts:
        filled = fill_form(page, draft.path, draft.fields)
        if filled is not None:
            page = filled
            restored.append(draft)
    if not restored:
        return response
    notices = "".join(_notice(draft) for draft in restored)
    page = _insert_after_main(page, notices)
    response.set_data(page)
    return response


def has_fields_to_fill(page: str) -> bool:
    """Whether a page has a form a draft could fill, a posted form with a field one types or chooses in: none for a
    page whose posted forms are buttons of hidden fields (sign out, refresh) and whose only fields are a GET form's
    (the dashboard's filters), whose drafts are then not read."""
    return any(_FILLABLE.search(form.group(1)) for form in _POST_FORM.finditer(page))


def _notice(draft: Draft) -> str:
    locale = str(get_locale() or "th")
    when = format_time(draft.saved_at.astimezone(ZoneInfo(settings().timezone)), "HH:mm", locale=locale)
    app_session = g.get("plc_session")
    return render_template(
        "partials/draft_notice.html",
        draft=draft,
        when=when,
        csrf=csrf_token(app_session, DISCARD) if app_session is not None else "",
        back=request.full_path.rstrip("?"),
        session_url=session_url,
    )


def _insert_after_main(page: str, fragment: str) -> str:
    start = page.find("<main")
    end = page.find(">", start) if start >= 0 else -1
    if end < 0:
        return fragment + page
    return page[: end + 1] + fragment + page[end + 1 :]


@bp.post("/drafts/discard")
def discard() -> Response:
    """Throw away the restored text of one form: the page is shown again as it was saved."""
    with database().transaction() as db:
        app_session = require_session(db)
        if csrf_valid(app_session, DISCARD, request.form.get("csrf")):
            discard_draft(db, app_session.person_id, app_session.context_id, request.form.get("path", ""))
    back = request.form.get("back", "")
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = "/"
    return redirect(back, code=303)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.after_request(_restore)
    app.after_request(_forget_saved)


# --- Filling a form of a rendered page ---------------------------------------------------------------------------


class _Filler(HTMLParser):
    """Finds the form that posts to `path` and the edits that put the draft's values into its fields."""

    def __init__(self, source: str, path: str, fields: DraftFields) -> None:
        super().__init__(convert_charrefs=True)
        self.path, self.fields = path, fields
        self.edits: list[tuple[int, int, str]] = []
        self.in_form = self.found = False
        self.textarea: tuple[str, int] | None = None
        self.select: str | None = None
        self.used: dict[str, int] = {}
        self._line_starts = [0] + [index + 1 for index, char in enumerate(source) if char == "\n"]

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _next_value(self, name: str) -> str | None:
        values = self.fields.get(name)
        index = self.used.get(name, 0)
        if not values or index >= len(values):
            return None
        self.used[name] = index + 1
        return values[index]

    def _replace_tag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        start = self._offset()
        text = self.get_starttag_text() or ""
        rebuilt = "<" + tag
        for name, value in attrs:
            rebuilt += f" {name}" if value is None else f' {name}="{html.escape(value, quote=True)}"'
        rebuilt += " />" if text.endswith("/>") else ">"
        self.edits.append((start, start + len(text), rebuilt))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "form":
            action = attr.get("action") or ""
            self.in_form = (attr.get("method") or "").lower() == "post" and urlsplit(action).path == self.path
            self.found = self.found or self.in_form
            return
        if not self.in_form:
            return
        name = attr.get("name") or ""
        if tag == "textarea" and name in self.fields:
            self.textarea = (name, self._offset() + len(self.get_starttag_text() or ""))
        elif tag == "input" and name in self.fields:
            kind = (attr.get("type") or "text").lower()
            if kind in TYPED_INPUTS:
                value = self._next_value(name)
                if value is not None:
                    self._replace_tag(tag, [(k, v) for k, v in attrs if k != "value"] + [("value", value)])
            elif kind in ("checkbox", "radio"):
                checked = (attr.get("value") or "on") in self.fields[name]
                self._replace_tag(
                    tag, [(k, v) for k, v in attrs if k != "checked"] + ([("checked", None)] if checked else [])
                )
        elif tag == "select":
            self.select = name if name in self.fields else None
        elif tag == "option" and self.select is not None:
            chosen = (attr.get("value") or "") in self.fields[self.select]
            self._replace_tag(
                tag, [(k, v) for k, v in attrs if k != "selected"] + ([("selected", None)] if chosen else [])
            )

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            name, start = self.textarea
            self.textarea = None
            value = self._next_value(name)
            if value is not None:
                self.edits.append((start, self._offset(), html.escape(value, quote=False)))


def fill_form(page: str, path: str, fields: DraftFields) -> str | None:
    """The page with the form that posts to `path` filled with `fields`; None when the page has no such form."""
    filler = _Filler(page, path, fields)
    filler.feed(page)
    filler.close()
    if not filler.found:
        return None
    for start, end, replacement in sorted(filler.edits, reverse=True):
        page = page[:start] + replacement + page[end:]
    return page
