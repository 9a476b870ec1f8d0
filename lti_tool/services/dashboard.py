"""The district dashboard's one change: a leader recomputes the summary figures of the districts they see now,
instead of waiting for the nightly refresh."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import dashboard_stats
from models.district import District, Reach


def refresh_figures(db: Session, reach: Reach) -> list[District]:
    """Recompute the summary rows of every district in the leader's reach; the districts refreshed."""
    districts = list(db.scalars(select(District).where(District.id.in_(sorted(reach.district_ids)))))
    for district in districts:
        dashboard_stats.refresh_district(db, district)
    return districts
