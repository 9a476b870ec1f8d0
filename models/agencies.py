"""The agency (หน่วยงาน) that runs a course's programs, as the Council's guideline defines it (seed 004 §1): a kind
from §1's list, a name, the address and signatory its letters to the Council carry, and its staff who lead PLC work
with their PLC training (§2.1: the agency's staff know PLC professional development). Rules only; the caller owns the
transaction.

Our reading: an agency belongs to one platform and is kept by the course whose trainers set it up; the course's
programs (one per program year) share it. Another course's agency is neither shown nor changed here."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import ClassVar, cast

from sqlalchemy import Date, Enum, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, enum_values, utcnow
from models.errors import InvalidInput, NotFoundInCourse, Problem
from models.programs import Program, check_plan_editable
from models.scope import CourseScope
from models.states import PLAN_EDITABLE


class AgencyKind(enum.StrEnum):
    """The kinds of agency in seed 004 §1, in its order."""

    SUPERVISORS = "supervisors"  # ศึกษานิเทศก์
    PROVINCIAL_SUPERVISORS = "provincial_supervisors"  # ศึกษานิเทศจังหวัด (as the seed spells it)
    EDUCATION_DIVISION = "education_division"  # กองการศึกษา
    SERVICE_AREA_OFFICE = "service_area_office"  # หน่วยงานระดับสำนักงานเขตพื้นที่
    LOCAL_GOVERNMENT = "local_government"  # องค์กรปกครองส่วนท้องถิ่น
    UNIVERSITY = "university"  # สถาบันอุดมศึกษา
    OTHER = "other"  # หน่วยงานทางการศึกษาอื่น


# The seed's own words for each kind, and the English the English pages and documents use.
KIND_NAMES: dict[AgencyKind, dict[str, str]] = {
    AgencyKind.SUPERVISORS: {"th": "ศึกษานิเทศก์", "en": "Supervisors"},
    AgencyKind.PROVINCIAL_SUPERVISORS: {"th": "ศึกษานิเทศจังหวัด", "en": "Provincial supervisors"},
    AgencyKind.EDUCATION_DIVISION: {"th": "กองการศึกษา", "en": "Education division"},
    AgencyKind.SERVICE_AREA_OFFICE: {
        "th": "หน่วยงานระดับสำนักงานเขตพื้นที่",
        "en": "Educational service area office",
    },
    AgencyKind.LOCAL_GOVERNMENT: {"th": "องค์กรปกครองส่วนท้องถิ่น", "en": "Local government organisation"},
    AgencyKind.UNIVERSITY: {"th": "สถาบันอุดมศึกษา", "en": "Higher education institution"},
    AgencyKind.OTHER: {"th": "หน่วยงานทางการศึกษาอื่น", "en": "Other education body"},
}


class Agency(Base):
    """An agency that applies to the Council by letter, runs programs and requests their certificates."""

    __tablename__ = "plc_agencies"
    __table_args__ = (Index("ix_plc_agencies_course", "platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    kind: Mapped[AgencyKind] = mapped_column(
        Enum(
            AgencyKind,
            name="agency_kind",
            native_enum=False,
            create_constraint=True,
            length=32,
            values_callable=enum_values,
        ),
        default=AgencyKind.OTHER,
    )
    name: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(500), default="")  # lines, as the letter prints them
    signatory_name: Mapped[str] = mapped_column(String(255), default="")
    signatory_position: Mapped[str] = mapped_column(String(255), default="")
    contact_unit: Mapped[str] = mapped_column(String(255), default="")
    telephone: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    staff: Mapped[list[AgencyStaff]] = relationship(
        back_populates="agency", cascade="all, delete-orphan", order_by="AgencyStaff.id"
    )

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.address.splitlines() if line.strip()]


class AgencyStaff(Base):
    """One of the agency's staff who lead PLC work, with the PLC training they had (seed 004 §2.1)."""

    __tablename__ = "plc_agency_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("plc_agencies.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    position: Mapped[str] = mapped_column(String(255), default="")
    training: Mapped[str] = mapped_column(String(500))  # what PLC training: course, workshop, by whom
    trained_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency] = relationship(back_populates="staff")


def _text_problems(values: dict[str, str], limits: dict[str, int], required: tuple[str, ...]) -> list[Problem]:
    found: list[Problem] = []
    for name, value in values.items():
        if name in required and not value.strip():
            found.append(Problem(name, "required", {}))
        elif len(value) > limits[name]:
            found.append(Problem(name, "too_long", {"most": limits[name], "have": len(value)}))
    return found


def _lengths(table: type[Base], names: tuple[str, ...]) -> dict[str, int]:
    """The most characters each String column holds: the limit is the column's, written once."""
    columns = table.__table__.c
    return {name: int(cast(String, columns[name].type).length or 0) for name in names}


@dataclass(frozen=True)
class AgencyDetails:
    """What the trainer enters for the agency: everything its letters to the Council need."""

    kind: AgencyKind
    name: str
    address: str = ""
    signatory_name: str = ""
    signatory_position: str = ""
    contact_unit: str = ""
    telephone: str = ""

    TEXT: ClassVar[tuple[str, ...]] = (
        "name",
        "address",
        "signatory_name",
        "signatory_position",
        "contact_unit",
        "telephone",
    )

    def problems(self) -> list[Problem]:
        values = {name: str(getattr(self, name)) for name in self.TEXT}
        return _text_problems(values, _lengths(Agency, self.TEXT), ("name",))


@dataclass(frozen=True)
class StaffDetails:
    """One staff member as the trainer enters them: name, position, and the PLC training they had, on which day."""

    name: str
    position: str
    training: str
    trained_on: date | None

    TEXT: ClassVar[tuple[str, ...]] = ("name", "position", "training")

    def problems(self, today: date) -> list[Problem]:
        values = {name: str(getattr(self, name)) for name in self.TEXT}
        found = _text_problems(values, _lengths(AgencyStaff, self.TEXT), ("name", "training"))
        if self.trained_on is None:
            found.append(Problem("trained_on", "required", {}))
        elif self.trained_on > today:
            found.append(Problem("trained_on", "in_the_future", {"today": today}))
        return found


def letter_gaps(agency: Agency | None) -> list[str]:
    """What a letter to the Council would lack from the agency: its name, address, signatory (name and position),
    contact unit and telephone (the fields of a หนังสือภายนอก). Empty when the letter can be printed."""
    if agency is None:
        return ["agency"]
    wanted = ("name", "address", "signatory_name", "signatory_position", "contact_unit", "telephone")
    return [name for name in wanted if not str(getattr(agency, name)).strip()]


def course_agencies(db: Session, scope: CourseScope) -> list[Agency]:
    """The agencies the course keeps, by name: never another course's or another platform's."""
    return list(
        db.scalars(
            select(Agency)
            .where(Agency.platform_id == scope.platform_id, Agency.context_id == scope.context_id)
            .order_by(Agency.name, Agency.id)
        )
    )


def agency_in_course(db: Session, scope: CourseScope, agency_id: int) -> Agency:
    """The agency by id, only if the course keeps it (NotFoundInCourse otherwise)."""
    agency = db.get(Agency, agency_id)
    if agency is None or (agency.platform_id, agency.context_id) != (scope.platform_id, scope.context_id):
        raise NotFoundInCourse("agency", agency_id)
    return agency


def staff_in_course(db: Session, scope: CourseScope, staff_id: int) -> AgencyStaff:
    """A staff member of one of the course's agencies (NotFoundInCourse otherwise)."""
    member = db.get(AgencyStaff, staff_id)
    if member is None:
        raise NotFoundInCourse("agency staff", staff_id)
    agency_in_course(db, scope, member.agency_id)
    return member


def program_agency(db: Session, program: Program) -> Agency | None:
    """The agency that runs the program, if one was chosen."""
    return db.get(Agency, program.agency_id) if program.agency_id is not None else None


def new_agency(db: Session, scope: CourseScope, details: AgencyDetails) -> Agency:
    if problems := details.problems():
        raise InvalidInput(problems)
    agency = Agency(platform_id=scope.platform_id, context_id=scope.context_id)
    _apply(agency, details)
    db.add(agency)
    db.flush()
    return agency


def edit_agency(db: Session, agency: Agency, details: AgencyDetails) -> None:
    """Correct the agency's details. Its name is part of the plan a program sends to the Council (seed 004 §2.6): the
    programs it runs whose plan may still change name it as it is now; a program already submitted, approved or done
    keeps the name it was sent with."""
    if problems := details.problems():
        raise InvalidInput(problems)
    _apply(agency, details)
    for program in db.scalars(select(Program).where(Program.agency_id == agency.id)):
        if program.state in PLAN_EDITABLE:
            program.agency = agency.name


def run_by(program: Program, agency: Agency) -> None:
    """The program is run by `agency` (of the same course). Which agency runs it is part of the plan the Council
    approves, so it is chosen or replaced only while the plan may change (seed 004 §2.6). A program past its draft
    that had no agency kept (set up before agencies were) is linked only to an agency of the very name it was sent
    with, and its name is not changed."""
    if (agency.platform_id, agency.context_id) != (program.platform_id, program.context_id):
        raise NotFoundInCourse("agency", agency.id)
    if program.state not in PLAN_EDITABLE:
        if program.agency_id is not None or agency.name.strip() != (program.agency or "").strip():
            check_plan_editable(program)
        program.agency_id = agency.id
        return
    program.agency_id = agency.id
    program.agency = agency.name  # the name as certificates and reports copy it


def add_staff(db: Session, agency: Agency, details: StaffDetails, today: date) -> AgencyStaff:
    if problems := details.problems(today):
        raise InvalidInput(problems)
    assert details.trained_on is not None  # checked by problems()
    member = AgencyStaff(
        name=details.name,
        position=details.position,
        training=details.training,
        trained_on=details.trained_on,
    )
    agency.staff.append(member)
    db.flush()
    return member


def edit_staff(member: AgencyStaff, details: StaffDetails, today: date) -> None:
    if problems := details.problems(today):
        raise InvalidInput(problems)
    assert details.trained_on is not None
    member.name, member.position, member.training = details.name, details.position, details.training
    member.trained_on = details.trained_on


def remove_staff(db: Session, member: AgencyStaff) -> None:
    member.agency.staff.remove(member)
    db.flush()


def _apply(agency: Agency, details: AgencyDetails) -> None:
    for item in fields(details):
        setattr(agency, item.name, getattr(details, item.name))
