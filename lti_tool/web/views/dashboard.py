"""The district dashboard for district and network leaders (each sees only what they lead), its CSV exports, and the
optional public summary (aggregates only, small groups withheld)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, g, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.services import dashboard as service
from lti_tool.web import curriculum
from lti_tool.web.csv_export import csv_response
from lti_tool.web.forms.base import PlcForm, column_length
from lti_tool.web.session import csrf_token, database, require_session, session_url
from lti_tool.web.views.dashboard_cells import (
    change,
    competency_name,
    figure_cells,
    goal_cells,
    in_name_order,
    mean,
    year_label,
)
from lti_tool.web.views.dashboard_charts import chart_by, charts
from models import dashboard as stats
from models import dashboard_learning as learning
from models.calendar import BUDDHIST_ERA_OFFSET
from models.curriculum import GRADE_LEVEL, LEARNING_AREA
from models.database import one_of
from models.district import District, Network, Reach, School, leads_anything, reach_of
from models.measures import AS_COUNT, AS_PERCENT, NOT_STATED
from models.policy import province_districts, provinces_of
from models.programs import Program
from models.sessions import AppSession

bp = Blueprint("dashboard", __name__)
AREA_CHARS, GRADE_CHARS = column_length(Program.learning_area), column_length(Program.grade_level)

REFRESH = "dashboard-refresh"
TABLES = ("schools", "networks", "learning_areas", "grades", "years", "competencies", "growth", "results", "goals",
          "districts", "provinces")  # fmt: skip
UNITS = ("schools", "networks", "districts", "provinces")
DIMENSIONS = {
    "schools": "school",
    "networks": "network",
    "districts": "district",
    "learning_areas": "learning_area",
    "grades": "grade_level",
    "years": "year",
}
TITLES: dict[str, Any] = {
    "schools": _l("By school"),
    "networks": _l("By network of schools"),
    "learning_areas": _l("By learning area"),
    "grades": _l("By grade"),
    "years": _l("By year"),
    "districts": _l("By district"),
    "provinces": _l("By province"),
    "competencies": _l("Hours linked to each competency (the tool's mapping)"),
    "growth": _l("Assessed growth of the target competencies"),
    "results": _l("Student learning results the cycles targeted"),
    "goals": _l("Did the cycles meet their goal?"),
}
FIGURE_HEADINGS: list[Any] = [
    _l("Programs"),
    _l("Programs running"),
    _l("Teams"),
    _l("Teachers"),
    _l("Cycles completed"),
    _l("Teachers eligible"),
    _l("Teacher-hours"),
]
# What a row of student results is in: cycles are compared only within one of these (models/measures.py).
MEASURES: dict[str, Any] = {
    AS_PERCENT: _l("Percentage (mean scores as a percentage of the full score)"),
    AS_COUNT: _l("Number of pupils"),
    NOT_STATED: _l("Measure not stated (not compared)"),
}
GOAL_HEADINGS: list[Any] = [
    _l("Cycles completed or reported"),
    _l("Goal met"),
    _l("Goal not met"),
    _l("Not reported"),
]

# Beyond this many schools the page lists those with the smallest share of eligible teachers (the CSV has them all):
# a district leader chooses a network to see each of its schools.
SCHOOL_ROWS = 40
# A leader of more districts than this (the OBEC level) sees them by province first, and a province's districts
# once they choose it (a page of 245 districts' rows and bars took longer to build than to read).
DISTRICT_ROWS = 40


@bp.app_context_processor
def _dashboard_link() -> dict[str, Any]:
    """`leads_a_district()` for the landing page: whether to offer this session's person the dashboard."""

    def leads_a_district() -> bool:
        app_session: AppSession | None = g.get("plc_session")
        if app_session is None:
            return False
        page_db: Session | None = g.get("plc_db")
        if page_db is not None and page_db.in_transaction():  # the page's own transaction, still open while it renders
            return leads_anything(page_db, app_session.person_id)
        with database().transaction() as db:
            return leads_anything(db, app_session.person_id)

    return {"leads_a_district": leads_a_district}


# --- Who is asking, and what they asked for ---------------------------------------------------------------------


def _leader(db: Session) -> tuple[AppSession, Reach]:
    app_session = require_session(db)
    reach = reach_of(db, app_session.context.platform_id, app_session.person.sub)
    if reach.empty:
        abort(
            403,
            description=_(
                "The district dashboard is for district, network and school leaders. Ask the district's administrator to name you a leader (plc-bridge leaders add)."
            ),
        )
    return app_session, reach


def _filters(db: Session, reach: Reach) -> stats.Filters:
    """The GET form's filters; a network or school outside the leader's reach is refused (403), not ignored."""
    args = request.args

    def number(name: str) -> int | None:
        raw = args.get(name, "").strip()
        if not raw:
            return None
        if not raw.isdecimal() or len(raw) > 9:  # isdecimal: Thai digits too, never a superscript
            abort(400, description=_("The filter “%(name)s” needs a number.", name=name))
        return int(raw)

    year = number("year")
    if year is not None and year > 2400:  # typed in the Buddhist Era
        year -= BUDDHIST_ERA_OFFSET
    district_id, network_id, school_id = number("district"), number("network"), number("school")
    if district_id is not None and district_id not in reach.led_district_ids:
        abort(403, description=_("You do not lead that district."))
    if network_id is not None and network_id not in reach.network_ids:
        abort(403, description=_("You do not lead that network."))
    if school_id is not None and school_id not in reach.school_ids:
        abort(403, description=_("You do not lead that school."))
    province_id, districts = number("province"), None
    if province_id is not None:
        districts = province_districts(db, province_id) & reach.led_district_ids
        if not districts:
            abort(403, description=_("You do not lead that province."))
    return stats.Filters(
        province_id=province_id,
        district_ids=districts,
        year=year,
        district_id=district_id,
        network_id=network_id,
        school_id=school_id,
        # A filter is not a save: text longer than the column can match nothing, so it is cut to the column's length.
        learning_area=args.get("area", "").strip()[:AREA_CHARS] or None,
        grade_level=args.get("grade", "").strip()[:GRADE_CHARS] or None,
    )


def _filter_args(filters: stats.Filters) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if filters.year is not None:
        args["year"] = filters.year
    if filters.district_id is not None:
        args["district"] = filters.district_id
    if filters.province_id is not None:
        args["province"] = filters.province_id
    if filters.network_id is not None:
        args["network"] = filters.network_id
    if filters.school_id is not None:
        args["school"] = filters.school_id
    if filters.learning_area:
        args["area"] = filters.learning_area
    if filters.grade_level:
        args["grade"] = filters.grade_level
    return args


# --- The tables (shared by the page and the CSV) ----------------------------------------------------------------


def _label(db: Session, table: str, rows: list[stats.Figures]) -> list[tuple[str, stats.Figures]]:
    if table == "schools":
        found = stats.names(db, School, (row.key for row in rows))
        return [(found.get(row.key, "") if row.key else str(_("Cross-school programs (network)")), row) for row in rows]
    if table == "networks":
        found = stats.names(db, Network, (row.key for row in rows))
        return [(found.get(row.key, ""), row) for row in rows]
    if table == "years":
        return [(year_label(row.key), row) for row in rows]
    if table == "districts":
        ids = {row.key for row in rows if row.key is not None}
        found = {
            row[0]: row[1] for row in db.execute(select(District.id, District.name).where(one_of(db, District.id, ids)))
        }
        return [(found.get(row.key, ""), row) for row in rows]
    if table == "provinces":
        return [(row.key.name if row.key is not None else str(_("No province")), row) for row in rows]
    kind = LEARNING_AREA if table == "learning_areas" else GRADE_LEVEL
    return [(curriculum.label(kind, row.key) if row.key else str(_("Not given")), row) for row in rows]


def wide(reach: Reach, filters: stats.Filters) -> bool:
    """A leader of several districts looking at all of them: the page shows districts where it shows networks and
    no school table (the national view of thousands of schools); choosing a district shows its networks."""
    return (
        len(reach.led_district_ids) > 1
        and filters.district_id is None
        and filters.network_id is None
        and (filters.school_id is None)
    )


def _unit(reach: Reach, filters: stats.Filters) -> str:
    """The unit of the charts and the goals table: schools when one network (or a school) is chosen, districts for
    a leader of several looking at all of them (provinces, until they choose one, for a leader of many), else
    networks."""
    if wide(reach, filters):
        many = len(reach.led_district_ids) > DISTRICT_ROWS
        return "provinces" if many and filters.province_id is None else "districts"
    return "schools" if filters.network_id is not None or filters.school_id is not None else "networks"


Grouped = dict[str, list[stats.Figures]]
Results = dict[tuple[str, ...], list[learning.StudentResults]]


def _by(
    db: Session, reach: Reach, filters: stats.Filters, dimension: str, grouped: Grouped | None
) -> list[stats.Figures]:
    """The figures by `dimension`: from the page's one grouped read when it has them, else read now (the CSV)."""
    if grouped is not None and dimension in grouped:
        return grouped[dimension]
    return stats.figures_by(db, reach, filters, dimension)


def _units(db: Session, reach: Reach, filters: stats.Filters, table: str, grouped: Grouped | None) -> list[Any]:
    """The figures of a unit table ("provinces": the districts' added up by province), labelled."""
    if table != "provinces":
        return _label(db, table, _by(db, reach, filters, DIMENSIONS[table], grouped))
    by_province = grouped.get("provinces") if grouped is not None else None
    if by_province is None:  # read once for the page's table, its charts and its policy section
        by_district = _by(db, reach, filters, "district", grouped)
        by_province = stats.rolled_up(by_district, provinces_of(db, {row.key for row in by_district}))
        by_province.sort(key=lambda row: (row.key is None, in_name_order(row.key.name if row.key is not None else "")))
        if grouped is not None:
            grouped["provinces"] = by_province
    return _label(db, "provinces", by_province)


def _rows(
    db: Session,
    reach: Reach,
    filters: stats.Filters,
    table: str,
    grouped: Grouped | None = None,
    results: Results | None = None,
) -> tuple[list[Any], list[list[Any]]]:
    """A table's header and rows, exactly as the page shows it and the CSV exports it."""
    if table in UNITS or table in DIMENSIONS:
        labelled = _units(db, reach, filters, table, grouped)
        return [TITLES[table], *FIGURE_HEADINGS], [[label, *figure_cells(row)] for label, row in labelled]
    if table == "competencies":
        coverage = learning.competency_coverage(db, reach, filters)
        return (
            [
                _l("Competency"),
                _l("Teacher-hours in sessions linked to it"),
                _l("Lessons, observations, reflections"),
            ],
            [[competency_name(c), c.teacher_hours, c.activities] for c in coverage],
        )
    if table == "growth":
        growth = learning.assessed_growth(db, reach, filters)
        return (
            [
                _l("Competency"),
                _l("Teachers assessed at the start"),
                _l("Mean level at the start"),
                _l("Teachers assessed at the end"),
                _l("Mean level at the end"),
                _l("Change"),
            ],
            [
                [
                    competency_name(g),
                    g.teachers_start,
                    mean(g.mean_start, g.start_withheld),
                    g.teachers_end,
                    mean(g.mean_end, g.end_withheld),
                    change(g.change),
                ]
                for g in growth
            ],  # fmt: skip
        )
    if table == "goals":
        unit = _unit(reach, filters)
        labelled = _units(db, reach, filters, unit, grouped)
        total = _by(db, reach, filters, "total", grouped)[0]
        return (
            [TITLES[unit], *GOAL_HEADINGS],
            [[label, *goal_cells(row)] for label, row in labelled] + [[str(_("Total")), *goal_cells(total)]],
        )
    by_area_and_grade = ("learning_area", "grade_level")
    found = (
        results[by_area_and_grade]
        if results is not None
        else learning.student_results(db, reach, filters, by_area_and_grade)
    )
    return (
        [
            _l("Learning area"),
            _l("Grade level"),
            _l("Measure"),
            _l("Cycles"),
            _l("Baseline (mean)"),
            _l("Result (mean)"),
            _l("Change"),
            _l("Cycles improved"),
        ],
        [
            [
                curriculum.label(LEARNING_AREA, r.learning_area),
                curriculum.label(GRADE_LEVEL, r.grade_level),
                str(MEASURES[r.measure]),
                r.cycles,
                r.baseline,
                r.result,
                r.change,
                r.improved,
            ]
            for r in found
        ],
    )


# --- Pages ------------------------------------------------------------------------------------------------------


@bp.get("/dashboard")
def show() -> str:
    from lti_tool.web.views import exam_results  # it builds on this module's leader check

    with database().transaction() as db:
        app_session, reach = _leader(db)
        filters = _filters(db, reach)
        is_wide, unit = wide(reach, filters), _unit(reach, filters)
        units = [unit] if is_wide else ["schools", "networks"]
        shown = [t for t in TABLES if t not in UNITS] + units
        # Every grouping of the programs' figures the page shows, read at once (models/dashboard.py).
        dimensions = ["total", *(DIMENSIONS[t] for t in shown if t in DIMENSIONS), *(["district"] if is_wide else [])]
        grouped = stats.figures_grouped(db, reach, filters, dimensions)
        unfiltered = grouped if filters == stats.Filters() else None  # the years, areas and grades there are
        options = stats.filter_options(db, reach, filters.district_id, is_wide, unfiltered)
        total = grouped["total"][0]
        results = learning.student_results_by(db, reach, filters, [("learning_area", "grade_level"), chart_by(filters)])
        tables = {table: _rows(db, reach, filters, table, grouped, results) for table in shown}
        # Plain rows (name, synthetic) for the heading and the district filter: a policy leader's 245 districts
        # as ORM objects cost more than the page's largest grouping.
        districts = db.execute(
            select(District.id, District.name, District.synthetic).where(one_of(db, District.id, reach.district_ids))
        ).all()
        return render_template(
            "dashboard/show.html",
            app_session=app_session,
            districts=districts,
            total=total,
            filters=filters,
            options=options,
            schools_by_network=_group_schools(options.schools),
            tables=tables,
            titles=TITLES,
            charts=charts(unit, filters, tables, results),
            table_names=[*([] if unit == "provinces" else units[::-1]), "learning_areas", "grades", "years"],
            district_options=_district_options(districts, reach),
            province_options=_province_options(db, reach),
            district_rows=DISTRICT_ROWS,
            school_rows=SCHOOL_ROWS,
            attention=[] if is_wide else _needing_attention(tables["schools"][1]),
            refreshed_at=stats.refreshed_at(db, reach.district_ids),
            csrf=csrf_token(app_session, REFRESH),
            may_refresh=service.may_refresh(reach),
            export_args=_filter_args(filters),
            growth_min_teachers=learning.GROWTH_MIN_TEACHERS,
            session_url=session_url,
            versus_districts=exam_results.district_versus(db, reach) if len(reach.led_district_ids) <= 1 else [],
            policy=_policy_tables(db, reach, filters, grouped),
            **exam_results.template_helpers(),
        )


def _policy_tables(db: Session, reach: Reach, filters: stats.Filters, grouped: Grouped) -> dict[str, Any]:
    """For a leader of several districts looking at all of them (or at one province's): the figures by province,
    each a link to its districts while a leader of many sees provinces first, and how many districts they lead."""
    if not wide(reach, filters):
        return {}
    first = _unit(reach, filters) == "provinces"  # so no province is chosen: the links add one to these filters
    this_page = session_url("dashboard.show", **_filter_args(filters))  # built once, not once per province

    def label(name: str, province: Any) -> Any:
        if not first or province is None:
            return name
        joined = "&" if "?" in this_page else "?"
        return Markup('<a href="{}">{}</a>').format(f"{this_page}{joined}{urlencode({'province': province.id})}", name)

    labelled = _units(db, reach, filters, "provinces", grouped)
    rows = [[label(name, row.key), *figure_cells(row)] for name, row in labelled]
    others = {name: value for name, value in _filter_args(filters).items() if name != "province"}
    return {"provinces": ([TITLES["provinces"], *FIGURE_HEADINGS], rows), "districts": len(reach.led_district_ids),
            "first": first, "many": len(reach.led_district_ids) > DISTRICT_ROWS,
            "all_provinces": session_url("dashboard.show", **others)}  # fmt: skip


def _province_options(db: Session, reach: Reach) -> list[tuple[int, str]]:
    """The provinces a leader of many districts may choose in the filters (none for a leader of a few)."""
    if len(reach.led_district_ids) <= DISTRICT_ROWS:
        return []
    provinces = {p.id: p.name for p in provinces_of(db, reach.led_district_ids).values()}
    return sorted(provinces.items(), key=lambda pair: in_name_order(pair[1]))


def _district_options(districts: list[Any], reach: Reach) -> list[tuple[int, str]]:
    """The districts a leader of several may choose in the filters (none for a leader of one), from the page's rows
    of its districts (id, name, synthetic)."""
    if len(reach.led_district_ids) <= 1:
        return []
    led = [(row[0], row[1]) for row in districts if row[0] in reach.led_district_ids]
    return sorted(led, key=lambda pair: pair[1])


def _group_schools(schools: list[tuple[int, str, int]]) -> dict[int, list[tuple[int, str, int]]]:
    grouped: dict[int, list[tuple[int, str, int]]] = {}
    for school in schools:
        grouped.setdefault(school[2], []).append(school)
    return grouped


def _needing_attention(rows: list[list[Any]]) -> list[list[Any]]:
    """School rows, the smallest share of eligible teachers first (schools with no teachers last)."""
    return sorted(rows, key=lambda row: (row[4] == 0, row[6] / row[4] if row[4] else 0.0))[:SCHOOL_ROWS]


@bp.get("/dashboard/<table>.csv")
def export(table: str) -> Response:
    if table not in TABLES:
        abort(404, description=_("There is no such table on the dashboard."))
    with database().transaction() as db:
        _session, reach = _leader(db)
        filters = _filters(db, reach)
        header, rows = _rows(db, reach, filters, table)
        return csv_response(f"plc-dashboard-{table}.csv", header, rows)


@bp.post("/dashboard/refresh")
def refresh() -> Any:
    with database().transaction() as db:
        app_session, reach = _leader(db)
        PlcForm.posted(app_session, REFRESH)
        try:
            service.refresh_figures(db, reach)
        except service.NotADistrictLeader:
            abort(403, description=_("Only a district's leaders refresh its figures."))
    return redirect(session_url("dashboard.show"), code=303)


from lti_tool.web.views import public_summary as _public_summary  # noqa: E402,F401  (its routes are on this blueprint)
