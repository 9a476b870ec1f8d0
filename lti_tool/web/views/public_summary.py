"""The public summaries (aggregates only, small groups withheld) at every level: a district that published its own,
a province (its districts that published theirs), and the nation (the OBEC level: every district of the platform
that published its own)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.documents.charts import dumbbell_chart
from lti_tool.web.security import limiter
from lti_tool.web.session import database, settings
from lti_tool.web.views.dashboard import DIMENSIONS, TITLES, _label, bp
from models import dashboard as stats
from models.district import District, Reach
from models.policy import Province
from models.public_summary import (
    PUBLIC_MIN_CYCLES,
    PUBLIC_MIN_TEACHERS,
    public_figures,
    public_reach,
    public_reach_of,
    public_results,
)


@bp.get("/public/districts/<int:district_id>")
@limiter.limit(lambda: settings().rate_limit_verify)  # public and unauthenticated, like /verify
def public(district_id: int) -> str:
    """A district's public summary, when the district chose to publish it: aggregates, no person, no small group."""
    with database().transaction() as db:
        district = db.get(District, district_id)
        if district is None or not district.public_summary:
            abort(404, description=_("This district has not published a public summary."))
        return _public_page(db, PublicUnit(district.name, district.synthetic), public_reach(district), "networks")


@dataclass(frozen=True)
class PublicUnit:
    """What a public summary is of: a district, a province, or the nation (the districts of one platform)."""

    name: str
    synthetic: bool


@bp.get("/public/provinces/<int:province_id>")
@limiter.limit(lambda: settings().rate_limit_verify)
def public_province(province_id: int) -> str:
    """A province's public summary: the districts of the province that published theirs, added up."""
    with database().transaction() as db:
        province = db.get(Province, province_id)
        districts = _province_districts(db, province_id) if province else []
        reach = public_reach_of(districts)
        if province is None or reach.empty:
            abort(404, description=_("No district of this province has published a public summary."))
        synthetic = any(d.synthetic for d in districts if d.public_summary)
        return _public_page(db, PublicUnit(province.name, synthetic), reach, "districts")


@bp.get("/public/nation/<int:platform_id>")
@limiter.limit(lambda: settings().rate_limit_verify)
def public_nation(platform_id: int) -> str:
    """The national public summary (the OBEC level of the platform): every district that published its own."""
    with database().transaction() as db:
        # Plain rows: the reach needs each district's id and choice, not 245 objects.
        columns = (District.id, District.public_summary, District.synthetic)
        districts = db.execute(select(*columns).where(District.platform_id == platform_id)).all()
        reach = public_reach_of(districts)
        if reach.empty:
            abort(404, description=_("No district has published a public summary."))
        synthetic = any(d.synthetic for d in districts if d.public_summary)
        return _public_page(db, PublicUnit(str(_("All districts (OBEC level)")), synthetic), reach, "districts")


def _province_districts(db: Session, province_id: int) -> list[District]:
    from models.policy import ProvinceDistrict

    return list(
        db.scalars(
            select(District)
            .join(ProvinceDistrict, ProvinceDistrict.district_id == District.id)
            .where(ProvinceDistrict.province_id == province_id)
        )
    )


def _public_page(db: Session, district: PublicUnit, reach: Reach, first: str) -> str:
    """The public summary over `reach`: the same tables and the same small-group suppression at every level."""
    names = (first, "learning_areas", "grades", "years")
    figures, total = public_figures(db, reach, [DIMENSIONS[table] for table in names])  # one grouped read
    tables = {}
    for table in names:
        shown, withheld = figures[DIMENSIONS[table]]
        labelled = _label(db, table, shown)
        tables[table] = (
            [
                TITLES[table],
                _l("Programs"),
                _l("Teams"),
                _l("Teachers"),
                _l("Cycles completed"),
                _l("Teachers eligible"),
            ],
            [
                [label, r.programs, r.teams, r.teachers, r.cycles_completed, r.teachers_eligible]
                for label, r in labelled
            ],
            withheld,
        )
    results = public_results(db, reach)
    return render_template(
        "dashboard/public.html",
        district=district,
        total=total,
        tables=tables,
        titles=TITLES,
        results=results,
        chart=dumbbell_chart(
            [
                (f"{r.learning_area} {r.grade_level}", r.baseline, r.result, f"{r.baseline} → {r.result}")
                for r in results
            ]
        ),
        min_teachers=PUBLIC_MIN_TEACHERS,
        min_cycles=PUBLIC_MIN_CYCLES,
        refreshed_at=stats.refreshed_at(db, reach.district_ids),
    )
