"""A district leader imports the district's national and school test results (O-NET, NT, RT): only a leader of the
district itself (not of a network or a school in it, nor of the province or the OBEC level above it), everything or nothing (models/exam_results.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models.district import District, Reach
from models.exam_results import Imported, Preview, import_file, preview_file


class NotTheDistrictsLeader(Exception):
    """Only a leader of the district may import its results (403)."""


def _district(db: Session, reach: Reach, district_id: int) -> District:
    district = db.get(District, district_id)
    if district is None or district_id not in reach.directly_led_district_ids:
        raise NotTheDistrictsLeader(district_id)
    return district


def preview_district_results(db: Session, reach: Reach, district_id: int, filename: str, data: bytes) -> Preview:
    """What importing the file would write and replace, nothing written (the page asks before replacing)."""
    return preview_file(db, _district(db, reach, district_id), filename, data)


def import_district_results(db: Session, reach: Reach, district_id: int, filename: str, data: bytes) -> Imported:
    return import_file(db, _district(db, reach, district_id), filename, data)
