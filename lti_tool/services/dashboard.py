"""The district dashboard's one change: a district's own leader recomputes the summary figures of the districts they
lead themselves (a repair: the figures are live, models/live_figures.py); never a network's, school's, province's or
the OBEC level's leader, whose refresh would rebuild many districts at once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import dashboard_stats
from models.district import District, Reach


class NotADistrictLeader(Exception):
    """Only a district's own leaders refresh its figures (403)."""


def may_refresh(reach: Reach) -> bool:
    return bool(reach.directly_led_district_ids)


def refresh_figures(db: Session, reach: Reach) -> list[District]:
    """Recompute the summary rows of the districts the leader leads themselves; the districts refreshed."""
    if not may_refresh(reach):
        raise NotADistrictLeader()
    districts = list(
        db.scalars(
            select(District).where(District.id.in_(sorted(reach.directly_led_district_ids))).order_by(District.id)
        )
    )
    for district in districts:
        dashboard_stats.refresh_district(db, district)
    return districts
