"""The district's structure (seed 001): a district office, its networks (clusters) of schools, the schools, who leads
which of them, and where each PLC program belongs. Leaders see only what they lead.

A leader is a person as their platform knows them (issuer + LTI `sub`), named leader of a district, a network or a
school by an administrator (`plc-bridge leaders add`). A program belongs to one school, or to a network when it is
a cross-school program (`plc-bridge districts place-program`, or automatically when the program's free-text
"school or network" field holds a school's or network's code or exact name).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import IO, Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, utcnow
from models.database import read_now
from models.people import Person
from models.platform import Platform
from models.programs import Program


class District(Base):
    """A district office (เขตพื้นที่การศึกษา) whose schools use one platform (its LMS)."""

    __tablename__ = "districts"
    __table_args__ = (UniqueConstraint("platform_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    # Synthetic districts made by `plc-bridge seed-demo` say so on every page that shows them.
    synthetic: Mapped[bool] = mapped_column(default=False)
    # The district chose to publish its public summary (aggregates only; `plc-bridge districts publish`).
    public_summary: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    networks: Mapped[list[Network]] = relationship(
        back_populates="district", cascade="all, delete-orphan", order_by="Network.code"
    )


class Network(Base):
    """A network (cluster) of schools with similar contexts that develop their teachers together (seed 001)."""

    __tablename__ = "district_networks"
    __table_args__ = (UniqueConstraint("district_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))

    district: Mapped[District] = relationship(back_populates="networks")
    schools: Mapped[list[School]] = relationship(
        back_populates="network", cascade="all, delete-orphan", order_by="School.code"
    )


class School(Base):
    __tablename__ = "district_schools"
    __table_args__ = (UniqueConstraint("district_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), index=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("district_networks.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))

    network: Mapped[Network] = relationship(back_populates="schools")


class Leader(Base):
    """A person (issuer + `sub`) who leads exactly one of: a district, a network, a school."""

    __tablename__ = "district_leaders"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN district_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN network_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN school_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="leads_exactly_one",
        ),
        Index("ix_district_leaders_person", "platform_id", "sub"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), default=None)
    network_id: Mapped[int | None] = mapped_column(ForeignKey("district_networks.id", ondelete="CASCADE"), default=None)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("district_schools.id", ondelete="CASCADE"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProgramPlacement(Base):
    """Where a program belongs: a school (and its network), or a network alone for a cross-school program."""

    __tablename__ = "district_program_placements"

    program_id: Mapped[int] = mapped_column(ForeignKey("plc_programs.id", ondelete="CASCADE"), primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), index=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("district_networks.id", ondelete="CASCADE"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("district_schools.id", ondelete="CASCADE"), default=None)


class DistrictError(Exception):
    """A refused structure or leader change; the message says what to fix."""


# --- Who sees what ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """What one leader may see. `led_*` are what they lead as a whole (a district leader leads its networks and
    schools too); `network_ids` and `school_ids` are everything visible, for filters and names."""

    led_district_ids: frozenset[int] = frozenset()
    led_network_ids: frozenset[int] = frozenset()
    led_school_ids: frozenset[int] = frozenset()
    district_ids: frozenset[int] = frozenset()
    # reach_of reads these two on first use (Units): the nation's leaders see 30,000 schools that most pages never
    # ask about.
    network_ids: AbstractSet[int] = frozenset()
    school_ids: AbstractSet[int] = frozenset()
    # "obec" or "province" when the person leads at the policy level (models/policy.py), else "".
    policy_level: str = ""
    # The districts the person leads themselves (a Leader row), not through a province or the OBEC level: only
    # these are theirs to change (importing test results); the policy level reads.
    directly_led_district_ids: frozenset[int] = frozenset()

    @property
    def empty(self) -> bool:
        return not self.district_ids

    def sees_program_at(self, district_id: int, network_id: int, school_id: int | None) -> bool:
        return (
            district_id in self.led_district_ids
            or network_id in self.led_network_ids
            or (school_id is not None and school_id in self.led_school_ids)
        )


class Units(AbstractSet[int]):
    """Ids read from the database on first use (in the transaction that made the Reach), then kept."""

    def __init__(self, load: Callable[[], frozenset[int]]) -> None:
        self._load: Callable[[], frozenset[int]] | None = load
        self._ids: frozenset[int] = frozenset()

    def _read(self) -> frozenset[int]:
        if self._load is not None:
            self._ids, self._load = self._load(), None
        return self._ids

    def __contains__(self, item: object) -> bool:
        return item in self._read()

    def __iter__(self) -> Iterator[int]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())

    def __repr__(self) -> str:
        return f"Units({set(self._read())!r})"


def reach_of(db: Session, platform_id: int, sub: str) -> Reach:
    """Every district, network and school that the person leads, directly or through the level above (a province
    or the OBEC level: models/policy.py). The networks and schools are read when first asked for."""
    from models.policy import led_districts as policy_districts  # the policy level builds on this module

    leads = list(db.scalars(select(Leader).where(Leader.platform_id == platform_id, Leader.sub == sub)))
    above, level = policy_districts(db, platform_id, sub)
    direct = frozenset(row.district_id for row in leads if row.district_id is not None)
    led_districts = direct | above
    led_networks = frozenset(row.network_id for row in leads if row.network_id is not None)
    led_schools = frozenset(row.school_id for row in leads if row.school_id is not None)
    if not (led_districts or led_networks or led_schools):
        return Reach()
    districts = set(led_districts)
    if led_networks:
        districts |= set(db.scalars(select(Network.district_id).where(Network.id.in_(led_networks))))
    if led_schools:
        districts |= set(db.scalars(select(School.district_id).where(School.id.in_(led_schools))))

    read: list[list[tuple[int, int]]] = []

    def schools() -> list[tuple[int, int]]:  # (id, network id), read once for both Units
        if read:
            return read[0]
        rows = db.execute(
            select(School.id, School.network_id).where(
                or_(
                    School.district_id.in_(led_districts),
                    School.network_id.in_(led_networks),
                    School.id.in_(led_schools),
                )
            )
        )
        read.append([(row[0], row[1]) for row in rows])
        return read[0]

    def networks() -> frozenset[int]:
        found = set(led_networks) | {network_id for _, network_id in schools()}
        if led_districts:
            found |= set(db.scalars(select(Network.id).where(Network.district_id.in_(led_districts))))
        return frozenset(found)

    return Reach(
        led_districts,
        led_networks,
        led_schools,
        frozenset(districts),
        Units(networks),
        Units(lambda: frozenset(school_id for school_id, _ in schools())),
        level,
        direct,
    )


def leads_anything(db: Session, person_id: int) -> bool:
    """Whether the person (by their row in `people`) leads a district, a network or a school, or a province or the
    OBEC level."""
    person = db.get(Person, person_id)
    if person is None:
        return False
    row = read_now(db, _leads_anything_query(), {"platform_id": person.platform_id, "sub": person.sub})
    return bool(row is not None and row[0])


@cache
def _leads_anything_query() -> Any:
    """leads_anything's statement, both kinds of leader in one read, built once: every landing page asks it."""
    from models.policy import PolicyLeader

    platform_id: Any = bindparam("platform_id")
    sub: Any = bindparam("sub")
    return select(
        or_(
            exists().where(PolicyLeader.platform_id == platform_id, PolicyLeader.sub == sub),
            exists().where(Leader.platform_id == platform_id, Leader.sub == sub),
        )
    )


# --- Administration: structure, leaders, placement --------------------------------------------------------------


STRUCTURE_COLUMNS = ("district_code", "district_name", "network_code", "network_name", "school_code", "school_name")


def import_structure(db: Session, platform: Platform, rows: Iterable[dict[str, str]]) -> tuple[int, int, int]:
    """Add districts, networks and schools from rows (STRUCTURE_COLUMNS); known codes are kept, names updated.
    Returns how many districts, networks and schools were added."""
    added = [0, 0, 0]
    districts = {d.code: d for d in db.scalars(select(District).where(District.platform_id == platform.id))}
    for number, row in enumerate(rows, start=2):
        values = {column: (row.get(column) or "").strip() for column in STRUCTURE_COLUMNS}
        missing = [column for column, value in values.items() if not value]
        if missing:
            raise DistrictError(f"line {number}: {', '.join(missing)} missing")
        district = districts.get(values["district_code"])
        if district is None:
            district = District(platform_id=platform.id, code=values["district_code"], name=values["district_name"])
            db.add(district)
            districts[district.code] = district
            added[0] += 1
        district.name = values["district_name"]
        network = next((n for n in district.networks if n.code == values["network_code"]), None)
        if network is None:
            network = Network(code=values["network_code"], name=values["network_name"])
            district.networks.append(network)
            added[1] += 1
        network.name = values["network_name"]
        db.flush()
        school = db.scalars(
            select(School).where(School.district_id == district.id, School.code == values["school_code"])
        ).one_or_none()
        if school is None:
            school = School(district_id=district.id, code=values["school_code"], name=values["school_name"])
            network.schools.append(school)
            added[2] += 1
        elif school.network_id != network.id:
            raise DistrictError(f"line {number}: school {school.code} is already in another network")
        school.name = values["school_name"]
        db.flush()
    return added[0], added[1], added[2]


def read_structure_csv(stream: IO[str]) -> list[dict[str, str]]:
    reader = csv.DictReader(stream)
    missing = [column for column in STRUCTURE_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise DistrictError(f"the CSV needs the columns {', '.join(STRUCTURE_COLUMNS)}; missing: {', '.join(missing)}")
    return list(reader)


@dataclass(frozen=True)
class Unit:
    """A district, network or school found by code, as a leader assignment or a placement names it."""

    district: District
    network: Network | None = None
    school: School | None = None


def find_unit(db: Session, platform: Platform, district_code: str, code: str | None = None) -> Unit:
    """The district by code; with `code`, the network or school of that district with that code."""
    district = db.scalars(
        select(District).where(District.platform_id == platform.id, District.code == district_code)
    ).one_or_none()
    if district is None:
        raise DistrictError(f"no district {district_code!r} on {platform.issuer}")
    if code is None:
        return Unit(district)
    school = db.scalars(select(School).where(School.district_id == district.id, School.code == code)).one_or_none()
    if school is not None:
        return Unit(district, school.network, school)
    network = db.scalars(select(Network).where(Network.district_id == district.id, Network.code == code)).one_or_none()
    if network is not None:
        return Unit(district, network)
    raise DistrictError(f"district {district_code!r} has no network or school {code!r}")


def add_leader(db: Session, platform: Platform, sub: str, unit: Unit) -> Leader:
    if not sub.strip():
        raise DistrictError("the leader's LTI sub is required")
    leader = Leader(platform_id=platform.id, sub=sub.strip())
    if unit.school is not None:
        leader.school_id = unit.school.id
    elif unit.network is not None:
        leader.network_id = unit.network.id
    else:
        leader.district_id = unit.district.id
    existing = db.scalars(
        select(Leader).where(
            Leader.platform_id == platform.id,
            Leader.sub == leader.sub,
            Leader.district_id.is_(None) if leader.district_id is None else Leader.district_id == leader.district_id,
            Leader.network_id.is_(None) if leader.network_id is None else Leader.network_id == leader.network_id,
            Leader.school_id.is_(None) if leader.school_id is None else Leader.school_id == leader.school_id,
        )
    ).first()
    if existing is not None:
        return existing
    db.add(leader)
    db.flush()
    return leader


def remove_leader(db: Session, platform: Platform, sub: str) -> int:
    """Take every leadership from the person; returns how many were removed."""
    result = db.execute(delete(Leader).where(Leader.platform_id == platform.id, Leader.sub == sub))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def place_program(db: Session, program: Program, unit: Unit) -> ProgramPlacement:
    if unit.district.platform_id != program.platform_id:
        raise DistrictError("the program and the district are on different platforms")
    if unit.network is None:
        raise DistrictError("a program belongs to a school or a network, not to a whole district")
    placement = db.get(ProgramPlacement, program.id) or ProgramPlacement(program_id=program.id)
    placement.district_id = unit.district.id
    placement.network_id = unit.network.id
    placement.school_id = unit.school.id if unit.school else None
    db.add(placement)
    db.flush()
    return placement


def place_by_name(db: Session, district: District) -> int:
    """Place the district platform's unplaced programs whose "school or network" text is a school's or network's
    code or exact name in this district. Returns how many were placed."""
    unplaced = db.execute(
        select(Program.id, func.trim(Program.school_or_network))
        .outerjoin(ProgramPlacement, ProgramPlacement.program_id == Program.id)
        .where(Program.platform_id == district.platform_id, ProgramPlacement.program_id.is_(None))
        .where(Program.school_or_network != "")
    ).all()
    if not unplaced:
        return 0
    by_text: dict[str, tuple[int, int | None]] = {}
    for network in district.networks:
        by_text.setdefault(network.code, (network.id, None))
        by_text.setdefault(network.name, (network.id, None))
        for school in network.schools:
            by_text.setdefault(school.code, (network.id, school.id))
            by_text.setdefault(school.name, (network.id, school.id))
    placed = 0
    for program_id, label in unplaced:
        if label in by_text:
            network_id, school_id = by_text[label]
            db.add(
                ProgramPlacement(
                    program_id=program_id, district_id=district.id, network_id=network_id, school_id=school_id
                )
            )
            placed += 1
    db.flush()
    return placed


def place_programs_by_name(db: Session, program_ids: Collection[int]) -> int:
    """Place those of these programs not placed yet whose "school or network" text is the code or exact name of one
    school (or else one network) of their platform's districts, as place_by_name does district by district; when
    a program is created or edited (models/live_figures.py), so it reaches the dashboard on its own. Returns how
    many were placed."""
    unplaced = db.execute(
        select(Program.id, Program.platform_id, func.trim(Program.school_or_network))
        .outerjoin(ProgramPlacement, ProgramPlacement.program_id == Program.id)
        .where(Program.id.in_(sorted(program_ids)), ProgramPlacement.program_id.is_(None))
        .where(Program.school_or_network != "")
    ).all()
    placed = 0
    for program_id, platform_id, label in unplaced:
        in_platform = District.platform_id == platform_id
        schools = db.execute(
            select(School.district_id, School.network_id, School.id)
            .join(District, District.id == School.district_id)
            .where(in_platform, or_(School.code == label, School.name == label))
            .limit(2)
        ).all()
        networks = db.execute(
            select(Network.district_id, Network.id)
            .join(District, District.id == Network.district_id)
            .where(in_platform, or_(Network.code == label, Network.name == label))
            .limit(2)
        ).all()
        if len(schools) == 1:
            district_id, network_id, school_id = schools[0]
        elif not schools and len(networks) == 1:
            (district_id, network_id), school_id = networks[0], None
        else:
            continue  # no such school or network, or more than one: placed by hand
        db.add(
            ProgramPlacement(program_id=program_id, district_id=district_id, network_id=network_id, school_id=school_id)
        )
        placed += 1
    if placed:
        db.flush()
    return placed
