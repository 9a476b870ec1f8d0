"""National and school test results on the dashboard (issue 17): the upload page for district leaders, a school's
page (the school against its district and the nation, the subjects furthest below, the PLC cycles that targeted
them), and the same comparison for the district on the dashboard itself."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.services import exam_results as service
from lti_tool.web import curriculum
from lti_tool.web.forms.base import PlcForm
from lti_tool.web.session import csrf_token, database, session_url, settings
from lti_tool.web.views.dashboard import _leader
from lti_tool.web.views.dashboard_cells import year_label
from models.curriculum import LEARNING_AREA
from models.district import District, Reach, School
from models.exam_results import COLUMNS, MAX_FILE_BYTES, Preview, Refused, subjects
from models.exam_results_view import Comparison, compare, cycles_targeting, furthest_below, schools_furthest_below

bp = Blueprint("results", __name__)
UPLOAD = "results-upload"
CONFIRM = "results-confirm"
# A request may be a little larger than the file it carries, so that a file over the cap reaches read_table and is
# refused with the page's own message (in Thai), not the generic "request too large".
REQUEST_BYTES = MAX_FILE_BYTES + 256 * 1024
PENDING_SECONDS = 3600  # how long a file waits for its confirmation


@bp.before_request
def _room_for_the_file() -> None:
    request.max_content_length = REQUEST_BYTES


REFUSALS: dict[str, Any] = {
    "too_large": _l("The file is larger than 2 MB."),
    "not_a_table": _l("The file is not a CSV or XLSX table."),
    "empty": _l("The file has no results."),
    "too_many_rows": _l("The file has more rows than one district's results (at most 50,000)."),
}
COLUMN_NAMES: dict[str, Any] = {
    "year": _l("Academic year"),
    "exam_year": _l("Year the test was sat (instead of the academic year: the academic year before it)"),
    "test": _l("Test"),
    "grade": _l("Grade level"),
    "school_code": _l("School code"),
    "subject": _l("Subject"),
    "pupils": _l("Pupils tested"),
    "mean": _l("School mean"),
    "district_mean": _l("District mean"),
    "national_mean": _l("National mean"),
}


def subject_name(code: str) -> str:
    subject = subjects().get(code)
    if subject is None:
        return code
    return subject.name["th" if curriculum._locale() == "th" else "en"]


def versus(db: Session, reach: Reach, district_id: int, school_id: int | None) -> dict[str, Any]:
    """What the page shows of one school (or the district): every comparison, the furthest below, and beside each
    of those the cycles that targeted its learning area and grade (at the school, on a school's page)."""
    comparisons = compare(db, district_id, school_id)
    below = furthest_below(comparisons)
    beside = cycles_targeting(db, reach, {(c.area, c.grade_level) for c in below}, district_id, school_id)
    # Whether anything could be compared with the nation: a file without national means says nothing about it.
    compared = any(c.gap is not None for c in comparisons)
    return {"comparisons": comparisons, "below": below, "beside": beside, "compared": compared}


def template_helpers() -> dict[str, Any]:
    return {
        "subject_name": subject_name,
        "area_label": lambda area: curriculum.label(LEARNING_AREA, area),
        "year_label": year_label,
        "gap_of": lambda c: c.gap,
    }


@bp.get("/dashboard/schools/<int:school_id>")
def school(school_id: int) -> str:
    with database().transaction() as db:
        app_session, reach = _leader(db)
        found = db.get(School, school_id)
        if found is None or not reach.sees_program_at(found.district_id, found.network_id, found.id):
            abort(403, description=_("This school is not one you lead or whose network or district you lead."))
        district = db.get(District, found.district_id)
        return render_template(
            "dashboard/school.html",
            school=found,
            district=district,
            view=versus(db, reach, found.district_id, found.id),
            session_url=session_url,
            **template_helpers(),
        )


def _led_districts(db: Session, reach: Reach, directly: bool = False) -> list[District]:
    """The districts the person leads (only those they lead themselves, not through the policy level, when
    directly: the districts whose results they may import)."""
    ids = reach.directly_led_district_ids if directly else reach.led_district_ids
    return list(db.scalars(select(District).where(District.id.in_(sorted(ids))).order_by(District.name)))


def _upload_page(
    db: Session,
    reach: Reach,
    app_session: Any,
    refused: Refused | None = None,
    status: int = 200,
    pending: tuple[str, int, Preview] | None = None,
    expired: bool = False,
) -> tuple[str, int]:
    districts = _led_districts(db, reach, directly=True)
    if not districts:
        abort(403, description=_("Only a district's leaders import its test results."))
    page = render_template(
        "dashboard/results_upload.html",
        districts=districts,
        refused=refused,
        refusals=REFUSALS,
        column_names=COLUMN_NAMES,
        # The documented layout: each column's first Thai and first English heading (models/exam_results.py).
        headings=[
            (key, names[0], next(n for n in names if n.isascii()), not needed and key != "year")
            for key, (needed, names) in COLUMNS.items()
            if key != "school_name"
        ],
        csrf=csrf_token(app_session, UPLOAD),
        confirm_csrf=csrf_token(app_session, CONFIRM),
        pending=pending,
        replaced_years=", ".join(year_label(y) for y in pending[2].replaced_years) if pending else "",
        expired=expired,
        imported=request.args.get("imported", ""),
        session_url=session_url,
    )
    return page, status


@bp.get("/dashboard/results")
def upload_form() -> tuple[str, int]:
    with database().transaction() as db:
        app_session, reach = _leader(db)
        return _upload_page(db, reach, app_session)


@bp.post("/dashboard/results")
def upload() -> Response | tuple[str, int]:
    """Read the file and, when it would replace results already imported, ask first (the file waits, bound to the
    session); else import it at once."""
    with database().transaction() as db:
        app_session, reach = _leader(db)
        PlcForm.posted(app_session, UPLOAD)
        district_id = _district_id(request.form.get("district", ""))
        sent = request.files.get("file")
        if sent is None or not sent.filename:
            return _upload_page(db, reach, app_session, Refused(unreadable="empty"), 422)
        data = sent.read()
        try:
            preview = service.preview_district_results(db, reach, district_id, sent.filename, data)
            if preview.replaces:
                nonce = _keep_pending(app_session, district_id, sent.filename, data)
                return _upload_page(db, reach, app_session, pending=(nonce, district_id, preview))
            imported = service.import_district_results(db, reach, district_id, sent.filename, data)
        except service.NotTheDistrictsLeader:
            abort(403, description=_("Only a district's leaders import its test results."))
        except Refused as refused:  # refused before anything was written
            return _upload_page(db, reach, app_session, refused, 422)
    return redirect(session_url("results.upload_form", imported=f"{imported.results}-{imported.schools}"), code=303)


@bp.post("/dashboard/results/confirm")
def confirm() -> Response | tuple[str, int]:
    """The confirmation's own POST: import the file that waits, replacing the results it replaces."""
    with database().transaction() as db:
        app_session, reach = _leader(db)
        PlcForm.posted(app_session, CONFIRM)
        district_id = _district_id(request.form.get("district", ""))
        found = _take_pending(app_session, request.form.get("pending", ""), district_id)
        if found is None:
            return _upload_page(db, reach, app_session, status=409, expired=True)
        filename, data = found
        try:
            imported = service.import_district_results(db, reach, district_id, filename, data)
        except service.NotTheDistrictsLeader:
            abort(403, description=_("Only a district's leaders import its test results."))
        except Refused as refused:
            return _upload_page(db, reach, app_session, refused, 422)
    return redirect(session_url("results.upload_form", imported=f"{imported.results}-{imported.schools}"), code=303)


def _district_id(raw: str) -> int:
    return int(raw) if raw.isdecimal() and len(raw) < 10 else 0


def _pending_path(app_session: Any, nonce: str, district_id: int) -> Path:
    """Where a file waits: named by the session, the district and a random nonce, so that only this session's
    confirmation finds it."""
    name = hmac.new(
        settings().secret_key.encode(), f"{app_session.token}:{district_id}:{nonce}".encode(), hashlib.sha256
    ).hexdigest()
    return settings().instance_path / "pending-results" / name


def _keep_pending(app_session: Any, district_id: int, filename: str, data: bytes) -> str:
    folder = settings().instance_path / "pending-results"
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in folder.iterdir():  # files never confirmed are forgotten
        if now - old.stat().st_mtime > PENDING_SECONDS:
            old.unlink(missing_ok=True)
    nonce = secrets.token_hex(16)
    suffix = ".xlsx" if filename.lower().endswith((".xlsx", ".xlsm")) else ".csv"
    _pending_path(app_session, nonce, district_id).write_bytes(suffix.encode() + b"\n" + data)
    return nonce


def _take_pending(app_session: Any, nonce: str, district_id: int) -> tuple[str, bytes] | None:
    if not nonce.isalnum() or len(nonce) > 64:
        return None
    path = _pending_path(app_session, nonce, district_id)
    try:
        if time.time() - path.stat().st_mtime > PENDING_SECONDS:
            path.unlink(missing_ok=True)
            return None
        stored = path.read_bytes()
    except FileNotFoundError:
        return None
    path.unlink(missing_ok=True)
    suffix, _newline, data = stored.partition(b"\n")
    return "results" + suffix.decode(), data


def district_versus(
    db: Session, reach: Reach
) -> list[tuple[District, dict[str, Any], list[tuple[School, Comparison]]]]:
    """For the dashboard: each led district against the nation, and its schools furthest below the nation."""
    found = []
    for district in _led_districts(db, reach):
        view = versus(db, reach, district.id, None)
        lowest = schools_furthest_below(db, district.id)
        schools = {s.id: s for s in db.scalars(select(School).where(School.id.in_([i for i, _ in lowest])))}
        found.append((district, view, [(schools[i], c) for i, c in lowest]))
    return found
