"""The policy level above districts (issue 17, seed 001): provinces, and the OBEC level (สพฐ.) over every district
of the platform, each with its leaders. A province leader leads every district of the province, an OBEC leader
every district of the platform, through the same `Reach` as a district leader, so the same 403 rules hold: what
is not in the reach is refused, never shown. Platform isolation holds too: the OBEC level of a platform is its
districts only.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow
from models.database import one_of
from models.district import District, DistrictError
from models.platform import Platform


class Province(Base):
    """A province (จังหวัด) whose districts a province leader follows together."""

    __tablename__ = "provinces"
    __table_args__ = (UniqueConstraint("platform_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))


class ProvinceDistrict(Base):
    """Which province a district belongs to (one at most)."""

    __tablename__ = "province_districts"

    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id", ondelete="CASCADE"), index=True)


class PolicyLeader(Base):
    """A person (issuer + `sub`) who leads a province, or the OBEC level (every district of the platform)."""

    __tablename__ = "policy_leaders"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN province_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN obec THEN 1 ELSE 0 END) = 1",
            name="leads_one_level",
        ),
        Index("ix_policy_leaders_person", "platform_id", "sub"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    province_id: Mapped[int | None] = mapped_column(ForeignKey("provinces.id", ondelete="CASCADE"), default=None)
    obec: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def led_districts(db: Session, platform_id: int, sub: str) -> tuple[frozenset[int], str]:
    """The districts the person leads through the policy level, and the highest level they lead ("obec",
    "province" or "")."""
    leads = list(
        db.scalars(select(PolicyLeader).where(PolicyLeader.platform_id == platform_id, PolicyLeader.sub == sub))
    )
    if not leads:
        return frozenset(), ""
    if any(lead.obec for lead in leads):
        return frozenset(db.scalars(select(District.id).where(District.platform_id == platform_id))), "obec"
    provinces = [lead.province_id for lead in leads if lead.province_id is not None]
    districts = db.scalars(
        select(ProvinceDistrict.district_id)
        .join(District, District.id == ProvinceDistrict.district_id)
        .where(ProvinceDistrict.province_id.in_(provinces), District.platform_id == platform_id)
    )
    return frozenset(districts), "province"


class ProvinceName(NamedTuple):
    """A province as the dashboard names and groups by it (read as plain rows: no ORM object per district)."""

    id: int
    code: str
    name: str


def provinces_of(db: Session, district_ids: frozenset[int] | set[int]) -> dict[int, ProvinceName]:
    """Each district's province, for those that have one."""
    rows = db.execute(
        select(ProvinceDistrict.district_id, Province.id, Province.code, Province.name)
        .join(Province, Province.id == ProvinceDistrict.province_id)
        .where(one_of(db, ProvinceDistrict.district_id, district_ids))
    )
    named: dict[int, ProvinceName] = {}
    return {district_id: named.setdefault(pid, ProvinceName(pid, code, name)) for district_id, pid, code, name in rows}


def province_districts(db: Session, province_id: int) -> frozenset[int]:
    """The districts of the province."""
    return frozenset(
        db.scalars(select(ProvinceDistrict.district_id).where(ProvinceDistrict.province_id == province_id))
    )


# --- Administration -----------------------------------------------------------------------------------------------


def add_province(db: Session, platform: Platform, code: str, name: str) -> Province:
    if not code.strip() or not name.strip():
        raise DistrictError("a province needs a code and a name")
    province = db.scalars(
        select(Province).where(Province.platform_id == platform.id, Province.code == code.strip())
    ).one_or_none()
    if province is None:
        province = Province(platform_id=platform.id, code=code.strip(), name=name.strip())
        db.add(province)
    province.name = name.strip()
    db.flush()
    return province


def find_province(db: Session, platform: Platform, code: str) -> Province:
    province = db.scalars(
        select(Province).where(Province.platform_id == platform.id, Province.code == code)
    ).one_or_none()
    if province is None:
        raise DistrictError(f"no province {code!r} on {platform.issuer}")
    return province


def assign_district(db: Session, province: Province, district: District) -> None:
    if province.platform_id != district.platform_id:
        raise DistrictError("the province and the district are on different platforms")
    row = db.get(ProvinceDistrict, district.id) or ProvinceDistrict(district_id=district.id)
    row.province_id = province.id
    db.add(row)
    db.flush()


def add_policy_leader(db: Session, platform: Platform, sub: str, province: Province | None) -> PolicyLeader:
    """Make the person leader of the province, or of the OBEC level when `province` is None."""
    if not sub.strip():
        raise DistrictError("the leader's LTI sub is required")
    wanted = PolicyLeader.province_id == province.id if province is not None else PolicyLeader.obec.is_(True)
    existing = db.scalars(
        select(PolicyLeader).where(PolicyLeader.platform_id == platform.id, PolicyLeader.sub == sub.strip(), wanted)
    ).first()
    if existing is not None:
        return existing
    leader = PolicyLeader(
        platform_id=platform.id, sub=sub.strip(), province_id=province.id if province else None, obec=province is None
    )
    db.add(leader)
    db.flush()
    return leader
