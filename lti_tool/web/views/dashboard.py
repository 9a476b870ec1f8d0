"""The district dashboard for district and network leaders (each sees only what they lead), its CSV exports, and the
optional public summary (aggregates only, small groups withheld)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, g, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.documents.charts import bar_chart, dumbbell_chart
from lti_tool.services import dashboard as service
from lti_tool.web.csv_export import csv_response
from lti_tool.web.forms.base import PlcForm, column_length
from lti_tool.web.security import limiter
from lti_tool.web.session import csrf_token, database, require_session, session_url, settings
from models import dashboard as stats
from models.calendar import BUDDHIST_ERA_OFFSET, buddhist_era
from models.catalog import assessment_scale
from models.district import District, Network, Reach, School, leads_anything, reach_of
from models.programs import Program
from models.sessions import AppSession

bp = Blueprint("dashboard", __name__)
AREA_CHARS, GRADE_CHARS = column_length(Program.learning_area), column_length(Program.grade_level)

REFRESH = "dashboard-refresh"
TABLES = ("schools", "networks", "learning_areas", "grades", "years", "competencies", "growth", "results", "goals")
DIMENSIONS = {
    "schools": "school",
    "networks": "network",
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
GOAL_HEADINGS: list[Any] = [
    _l("Cycles completed or reported"),
    _l("Goal met"),
    _l("Goal not met"),
    _l("Not reported"),
]

# Beyond this many schools the page lists those with the smallest share of eligible teachers (the CSV has them all):
# a district leader chooses a network to see each of its schools.
SCHOOL_ROWS = 40


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


def _filters(reach: Reach) -> stats.Filters:
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
    network_id, school_id = number("network"), number("school")
    if network_id is not None and network_id not in reach.network_ids:
        abort(403, description=_("You do not lead that network."))
    if school_id is not None and school_id not in reach.school_ids:
        abort(403, description=_("You do not lead that school."))
    return stats.Filters(
        year=year,
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
    return [(row.key or str(_("Not given")), row) for row in rows]


def year_label(year: int) -> str:
    """A program year: พ.ศ. in Thai, the common era in English."""
    from flask_babel import get_locale

    locale = str(get_locale() or "th")
    return f"{buddhist_era(year)}" if locale.startswith("th") else str(year)


def _figure_cells(row: stats.Figures) -> list[Any]:
    return [
        row.programs,
        row.programs_running,
        row.teams,
        row.teachers,
        row.cycles_completed,
        row.teachers_eligible,
        row.teacher_hours,
    ]


def _goal_cells(row: stats.Figures) -> list[Any]:
    return [row.goals_counted, row.goals_met, row.goals_not_met, row.goals_not_reported]


def _unit(filters: stats.Filters) -> str:
    """The unit of the charts and the goals table: schools when one network (or a school) is chosen, else networks."""
    return "schools" if filters.network_id is not None or filters.school_id is not None else "networks"


def _competency_name(coverage: stats.CompetencyCoverage | stats.AssessedGrowth) -> str:
    from flask_babel import get_locale

    locale = "th" if str(get_locale() or "th").startswith("th") else "en"
    return f"{coverage.code} {coverage.name.get(locale, coverage.code)}"


def _mean(value: Decimal | None, withheld: bool = False) -> Any:
    if withheld:  # too few teachers: the mean would be a person's own rating
        return str(_("withheld: fewer than %(n)s teachers", n=stats.GROWTH_MIN_TEACHERS))
    return value if value is not None else "—"


def _change(value: Decimal | None) -> Any:
    return f"{value:+.2f}" if value is not None else "—"


def _rows(db: Session, reach: Reach, filters: stats.Filters, table: str) -> tuple[list[Any], list[list[Any]]]:
    """A table's header and rows, exactly as the page shows it and the CSV exports it."""
    if table in DIMENSIONS:
        labelled = _label(db, table, stats.figures_by(db, reach, filters, DIMENSIONS[table]))
        return [TITLES[table], *FIGURE_HEADINGS], [[label, *_figure_cells(row)] for label, row in labelled]
    if table == "competencies":
        coverage = stats.competency_coverage(db, reach, filters)
        return (
            [
                _l("Competency"),
                _l("Teacher-hours in sessions linked to it"),
                _l("Lessons, observations, reflections"),
            ],
            [[_competency_name(c), c.teacher_hours, c.activities] for c in coverage],
        )
    if table == "growth":
        growth = stats.assessed_growth(db, reach, filters)
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
                    _competency_name(g),
                    g.teachers_start,
                    _mean(g.mean_start, g.start_withheld),
                    g.teachers_end,
                    _mean(g.mean_end, g.end_withheld),
                    _change(g.change),
                ]
                for g in growth
            ],  # fmt: skip
        )
    if table == "goals":
        unit = _unit(filters)
        labelled = _label(db, unit, stats.figures_by(db, reach, filters, DIMENSIONS[unit]))
        total = stats.figures_by(db, reach, filters, "total")[0]
        return (
            [TITLES[unit], *GOAL_HEADINGS],
            [[label, *_goal_cells(row)] for label, row in labelled] + [[str(_("Total")), *_goal_cells(total)]],
        )
    results = stats.student_results(db, reach, filters)
    return (
        [
            _l("Learning area"),
            _l("Grade level"),
            _l("Cycles"),
            _l("Baseline (mean)"),
            _l("Result (mean)"),
            _l("Change"),
            _l("Cycles improved"),
        ],
        [[r.learning_area, r.grade_level, r.cycles, r.baseline, r.result, r.change, r.improved] for r in results],
    )


# --- Pages ------------------------------------------------------------------------------------------------------


@bp.get("/dashboard")
def show() -> str:
    with database().transaction() as db:
        app_session, reach = _leader(db)
        filters = _filters(reach)
        options = stats.filter_options(db, reach)
        total = stats.figures_by(db, reach, filters, "total")[0]
        tables = {table: _rows(db, reach, filters, table) for table in TABLES}
        districts = list(db.scalars(select(District).where(District.id.in_(sorted(reach.district_ids)))))
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
            charts=_charts(db, reach, filters, tables),
            school_rows=SCHOOL_ROWS,
            attention=_needing_attention(tables["schools"][1]),
            refreshed_at=stats.refreshed_at(db, reach.district_ids),
            csrf=csrf_token(app_session, REFRESH),
            export_args=_filter_args(filters),
            year_label=year_label,
            growth_min_teachers=stats.GROWTH_MIN_TEACHERS,
            session_url=session_url,
        )


def _charts(db: Session, reach: Reach, filters: stats.Filters, tables: dict[str, Any]) -> dict[str, Any]:
    # The unit chart: schools when one network (or a school) is chosen, otherwise the networks.
    unit = _unit(filters)
    units = [row for row in tables[unit][1] if row[4]]  # rows with teachers
    eligible = bar_chart([(row[0], row[4], row[6], f"{row[6]:,} / {row[4]:,}") for row in units])
    coverage = tables["competencies"][1]
    competencies = bar_chart([(row[0], row[1], row[1], f"{row[1]:,.0f}") for row in coverage])
    # Assessed growth: the mean self-assessed level at the programs' start and end, on the scale's own levels.
    scale = assessment_scale()
    growth = dumbbell_chart(
        [(row[0], row[2], row[4], f"{row[2]} → {row[4]}") for row in tables["growth"][1] if row[5] != "—"],
        bounds=(scale.minimum, scale.maximum),
    )
    # Results: by learning area; by grade once a learning area is chosen (the table has both, always).
    by = ("grade_level",) if filters.learning_area else ("learning_area",)
    grouped = stats.student_results(db, reach, filters, by=by)
    results = dumbbell_chart(
        [(r.grade_level or r.learning_area, r.baseline, r.result, f"{r.baseline} → {r.result}") for r in grouped]
    )
    # Goals: per unit, the cycles completed or reported (light) and those that met their goal (dark); no total row.
    counted = [row for row in tables["goals"][1][:-1] if row[1]]
    goals = bar_chart([(row[0], row[1], row[2], f"{row[2]:,} / {row[1]:,}") for row in counted])
    return {
        "unit": unit,
        "eligible": eligible,
        "competencies": competencies,
        "growth": growth,
        "results": results,
        "results_by": by[0],
        "goals": goals,
    }


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
        filters = _filters(reach)
        header, rows = _rows(db, reach, filters, table)
        return csv_response(f"plc-dashboard-{table}.csv", header, rows)


@bp.post("/dashboard/refresh")
def refresh() -> Any:
    with database().transaction() as db:
        app_session, reach = _leader(db)
        PlcForm.posted(app_session, REFRESH)
        service.refresh_figures(db, reach)
    return redirect(session_url("dashboard.show"), code=303)


@bp.get("/public/districts/<int:district_id>")
@limiter.limit(lambda: settings().rate_limit_verify)  # public and unauthenticated, like /verify
def public(district_id: int) -> str:
    """A district's public summary, when the district chose to publish it: aggregates, no person, no small group."""
    with database().transaction() as db:
        district = db.get(District, district_id)
        if district is None or not district.public_summary:
            abort(404, description=_("This district has not published a public summary."))
        reach = stats.public_reach(district)
        everything = stats.Filters()
        total = stats.figures_by(db, reach, everything, "total")[0]
        tables = {}
        for table in ("networks", "learning_areas", "grades", "years"):
            rows = stats.figures_by(db, reach, everything, DIMENSIONS[table])
            shown, withheld = stats.suppress_small(rows)
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
        results = [r for r in stats.student_results(db, reach, everything) if r.cycles >= stats.PUBLIC_MIN_CYCLES]
        return render_template(
            "dashboard/public.html",
            district=district,
            total=total if total.teachers >= stats.PUBLIC_MIN_TEACHERS else None,
            tables=tables,
            titles=TITLES,
            results=results,
            chart=dumbbell_chart(
                [
                    (f"{r.learning_area} {r.grade_level}", r.baseline, r.result, f"{r.baseline} → {r.result}")
                    for r in results
                ]
            ),
            min_teachers=stats.PUBLIC_MIN_TEACHERS,
            min_cycles=stats.PUBLIC_MIN_CYCLES,
            refreshed_at=stats.refreshed_at(db, [district.id]),
        )
