"""The dashboard's figures added up per district (issue 17, the national size): per district, year, learning area and
grade (the programs' figures), per district, year, learning area, grade and measure (the student results), and per
district, year, competency and phase (the teachers' own levels). A leader of whole districts reads these instead of
the hundred thousand program rows of the nation (models/dashboard.py).

They are the sums of the program rows (models/dashboard_stats.py) and move with them: a recomputation of programs
notes the difference between the sums of the rows it replaces and of the rows it writes (`note_replaced`), a move of a
program's row by a team's difference notes that difference (`note_moved`), and just before the transaction commits
the notes are added to the district rows (`apply`: an UPDATE that adds, so concurrent writers both count), in one
order for every writer, after every program and team lock it takes: two writers never wait on each other in a
circle. A district row whose programs are all gone stays, with zeros, and is never read (`programs > 0`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, Index, Numeric, String, case, delete, event, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from models.base import Base, utcnow
from models.states import ProgramState
from models.team_figures import FIGURES, Figures


class DistrictStats(Figures, Base):
    """The figures of a district's programs of one year, learning area and grade, as of the newest of them."""

    __tablename__ = "dashboard_district_stats"
    # The page's "as of": the newest of the leader's districts, read backwards from the newest (the nation: 25,000
    # rows otherwise, 10 ms).
    __table_args__ = (Index("ix_dashboard_district_stats_refreshed_at", "refreshed_at"),)

    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    learning_area: Mapped[str] = mapped_column(String(255), primary_key=True)
    grade_level: Mapped[str] = mapped_column(String(64), primary_key=True)
    programs: Mapped[int]
    programs_running: Mapped[int]
    teams: Mapped[int]
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


class DistrictResultStats(Base):
    """The student results of a district's programs of one year, per learning area, grade and measure: sums."""

    __tablename__ = "dashboard_district_result_stats"

    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    learning_area: Mapped[str] = mapped_column(String(255), primary_key=True)
    grade_level: Mapped[str] = mapped_column(String(64), primary_key=True)
    measure: Mapped[str] = mapped_column(String(8), primary_key=True)
    cycles: Mapped[int]
    baseline_sum: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    result_sum: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    improved: Mapped[int]


class DistrictCompetencyStats(Base):
    """The teachers' own levels in a district's programs of one year, per competency and phase: counts and sums."""

    __tablename__ = "dashboard_district_competency_stats"

    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    competency: Mapped[str] = mapped_column(String(8), primary_key=True)
    phase: Mapped[str] = mapped_column(String(16), primary_key=True)
    teachers: Mapped[int]
    level_sum: Mapped[int]


# Each district table: its key columns and its summed columns, in the order `sums` reads them.
PROGRAM_KEY = ("district_id", "year", "learning_area", "grade_level")
PROGRAM_SUMS = ("programs", "programs_running", "teams", *FIGURES)
RESULT_KEY = ("district_id", "year", "learning_area", "grade_level", "measure")
RESULT_SUMS = ("cycles", "baseline_sum", "result_sum", "improved")
COMPETENCY_KEY = ("district_id", "year", "competency", "phase")
COMPETENCY_SUMS = ("teachers", "level_sum")
TABLES: tuple[tuple[type[Base], tuple[str, ...], tuple[str, ...]], ...] = (
    (DistrictStats, PROGRAM_KEY, PROGRAM_SUMS),
    (DistrictResultStats, RESULT_KEY, RESULT_SUMS),
    (DistrictCompetencyStats, COMPETENCY_KEY, COMPETENCY_SUMS),
)

TABLE_SUMS: dict[type[Base], tuple[str, ...]] = {table: summed for table, _key, summed in TABLES}

_KEY = "plc_district_rollup"
_REBUILD = "rebuild"  # the districts rebuilt whole at commit, keyed (district id,)
Key = tuple[Any, ...]
Sums = dict[str, dict[Key, list[Any]]]  # table name → key → summed values (and, for the programs, their newest stamp)


def before_replacing(db: Session, district_id: int, program_ids: Collection[int] | None) -> Sums:
    """What the program rows about to be replaced add up to (nothing is read for a whole district: it is rebuilt)."""
    return {} if program_ids is None else _sums(db, program_ids)


def replaced(db: Session, district_id: int, program_ids: Collection[int] | None, before: Sums) -> None:
    """Program rows were replaced: the district rows move by the sums after minus the sums before; a whole district
    is rebuilt from its program rows when the transaction commits (a repair, too, of anything gone wrong)."""
    pending = _pending(db)
    if program_ids is None:
        pending.setdefault(_REBUILD, {})[(district_id,)] = []
        return
    after = _sums(db, program_ids)
    for table, _key, summed in TABLES:
        name = table.__tablename__
        old, new = before.get(name, {}), after.get(name, {})
        for key in old.keys() | new.keys():
            zero = [0] * len(summed)
            was, now = old.get(key, [*zero, None]), new.get(key, [*zero, None])
            stamp = now[len(summed)] if table is DistrictStats else None
            _add(
                pending, name, key, [b - a for a, b in zip(was[: len(summed)], now[: len(summed)], strict=True)], stamp
            )


def _sums(db: Session, program_ids: Collection[int]) -> Sums:
    """The sums of these programs' rows, by district row."""
    from models.dashboard_stats import CompetencyStats, ProgramStats, ResultStats

    found: Sums = {}
    programs: tuple[Any, ...] = (ProgramStats, ResultStats, CompetencyStats)
    for (table, key, _summed), rows in zip(TABLES, programs, strict=True):
        columns = [getattr(rows, name) for name in key]
        where = rows.program_id.in_(sorted(program_ids))
        found[table.__tablename__] = {
            tuple(row[: len(key)]): list(row[len(key) :])
            for row in db.execute(select(*columns, *_summed_from(table, rows)).where(where).group_by(*columns))
        }
    return found


def _summed_from(table: type[Base], rows: Any) -> list[ColumnElement[Any]]:
    """The district table's summed columns (and, for the programs, their newest stamp) over program rows `rows`."""
    if table is not DistrictStats:
        return [func.sum(getattr(rows, name)) for name in TABLE_SUMS[table]]
    return [
        func.count(),
        func.sum(case((rows.state == ProgramState.RUNNING.value, 1), else_=0)),
        *(func.sum(getattr(rows, name)) for name in PROGRAM_SUMS[2:]),
        func.max(rows.refreshed_at),
    ]


def note_moved(db: Session, moved: Iterable[Sequence[Any]]) -> None:
    """Program rows moved by a team's difference: rows of the district key, the stamp, then each figure's change
    (in the order of FIGURES)."""
    pending = _pending(db)
    for row in moved:
        key, stamp, changes = tuple(row[:4]), row[4], list(row[5:])
        _add(pending, DistrictStats.__tablename__, key, [0, 0, 0, *changes], stamp)


def _pending(db: Session) -> dict[str, dict[Key, list[Any]]]:
    found: dict[str, dict[Key, list[Any]]] = db.info.setdefault(_KEY, {})
    return found


def _add(pending: dict[str, dict[Key, list[Any]]], name: str, key: Key, changes: list[Any], stamp: Any) -> None:
    row = pending.setdefault(name, {}).get(key)
    if row is None:
        pending[name][key] = [*changes, stamp]
        return
    for i, change in enumerate(changes):
        row[i] += change
    if stamp is not None and (row[-1] is None or stamp > row[-1]):
        row[-1] = stamp


def apply(db: Session) -> None:
    """Add what this transaction noted to the district rows, each table's rows in key order (every writer's order),
    a row created when its key is new. The last writes of a transaction: no lock is taken after these."""
    pending = db.info.pop(_KEY, None)
    if not pending:
        return
    rebuilt = sorted(district for (district,) in pending.pop(_REBUILD, {}))
    for district_id in rebuilt:
        rebuild(db, district_id)
    connection = db.connection()  # Core statements on the session's connection: no ORM work per statement
    for table, key, summed in TABLES:
        noted = pending.get(table.__tablename__, {})
        stamped = table is DistrictStats
        rows = [
            {**dict(zip(key, k, strict=True)), **dict(zip(summed, v, strict=False)),
             **({"refreshed_at": v[-1] or utcnow()} if stamped else {})}
            for k, v in sorted(noted.items())
            if (stamped or any(v[: len(summed)])) and k[0] not in rebuilt  # a rebuilt district has them all
        ]  # fmt: skip
        if rows:
            statement = _adding(connection.dialect.name, table)
            connection.execute(statement, rows[0] if len(rows) == 1 else rows)


@cache
def _adding(dialect: str, table: type[Base]) -> Any:
    """Built once per table: insert the district row, or add to it when it is there (and keep the newest stamp)."""
    key, summed = next((key, summed) for t, key, summed in TABLES if t is table)
    statement: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    moved = {name: getattr(table, name) + statement.excluded[name] for name in summed}
    if table is DistrictStats:
        latest = func.greatest if dialect == "postgresql" else func.max
        moved["refreshed_at"] = latest(DistrictStats.refreshed_at, statement.excluded.refreshed_at)
    return statement.on_conflict_do_update(index_elements=list(key), set_=moved)


@event.listens_for(Session, "after_transaction_end")
def _forget(db: Session, transaction: SessionTransaction) -> None:
    """The transaction is over: what it noted was added at its commit, or is gone with the rows it changed (a
    savepoint rolled back inside it keeps them: the program rows move only before the commit, never inside one)."""
    if transaction.parent is None:
        db.info.pop(_KEY, None)


def rebuild(db: Session, district_id: int) -> None:
    """Write the district's rows afresh from its program rows (a whole recomputation of the district, which holds
    the locks of all its programs; the upgrade that added the district rows)."""
    from models.dashboard_stats import CompetencyStats, ProgramStats, ResultStats

    programs: tuple[Any, ...] = (ProgramStats, ResultStats, CompetencyStats)
    for (table, key, summed), rows in zip(TABLES, programs, strict=True):
        kept: Any = table
        db.execute(delete(kept).where(kept.district_id == district_id))
        columns = [getattr(rows, name) for name in key]
        names = [*key, *summed, *(["refreshed_at"] if table is DistrictStats else [])]
        grouped = select(*columns, *_summed_from(table, rows)).where(rows.district_id == district_id)
        db.execute(insert(table).from_select(names, grouped.group_by(*columns)))
