"""Certificates of a PLC program (seed 004 §3.3): issued once per eligible teacher, verified in public by a short
code, revocable with a reason; and the bulk-issue job whose progress a trainer watches. Rules only; the caller owns
the transaction.

The Council's window: certificates are issued from the program's end until the 30th day after it (`models/windows.py`).
Our reading: issuing later is not forbidden (a teacher should not lose a certificate they earned), but it needs the
agency's reason, and the certificate says it was issued after the Council's 30 days, with the day they ended."""

from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Enum, ForeignKey, Numeric, String, Text, UniqueConstraint, and_, or_, select, update
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from models.base import Base, enum_values, utcnow
from models.eligibility import Eligibility
from models.errors import InvalidInput, Problem, ProgramError
from models.facts import program_eligibility
from models.people import Membership
from models.programs import Program
from models.roles import AppRole
from models.scope import register_scope_path
from models.states import ProgramState
from models.windows import certificate_window

# Certificates are issued once the program has ended: before the request to the Council and with it.
ISSUABLE = frozenset({ProgramState.ENDED, ProgramState.CERTIFICATES_REQUESTED})
MAX_REASON_CHARS = 1000

# Crockford's base 32: no I, L, O or U, so a code read aloud or typed from paper is not mistaken.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 random bits: guessing one of a district's codes takes billions of tries, and /verify is limited
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


class CertificatesNotYet(ProgramError):
    """Certificates follow the program's end (seed 004 §3.3)."""

    code = "certificates_not_yet"

    def __init__(self, state: ProgramState) -> None:
        super().__init__(f"a {state} program issues no certificates", state=state, current=state)


class NotATrainerOfCourse(ProgramError):
    """Only the course's trainers issue or revoke certificates."""

    code = "not_a_trainer"

    def __init__(self, role: str) -> None:
        super().__init__(f"only a trainer issues or revokes certificates, not a {role}", role=role)


class AlreadyRevoked(ProgramError):
    code = "already_revoked"

    def __init__(self, certificate_id: int) -> None:
        super().__init__(f"certificate {certificate_id} is already revoked", certificate_id=certificate_id)


class Certificate(Base):
    """One teacher's certificate for one program. It keeps what it says as issued (name, program, cycles, hours,
    agency, date), so the paper and the public verification page agree even if the program is renamed later."""

    __tablename__ = "plc_certificates"
    __table_args__ = (UniqueConstraint("program_id", "membership_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("plc_programs.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    holder_name: Mapped[str] = mapped_column(String(255))
    program_name: Mapped[str] = mapped_column(String(255))
    agency: Mapped[str] = mapped_column(String(255), default="")
    school_or_network: Mapped[str] = mapped_column(String(255), default="")
    cycles: Mapped[int]
    hours: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    issued_on: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"), default=None)
    # Issued after the Council's 30 days: their last day, and the agency's reason (None and "" when on time).
    late_after: Mapped[date | None] = mapped_column(default=None)
    late_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_reason: Mapped[str] = mapped_column(Text, default="")
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"), default=None)

    program: Mapped[Program] = relationship()
    membership: Mapped[Membership] = relationship(foreign_keys=[membership_id])

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def issued_late(self) -> bool:
        return self.late_after is not None


register_scope_path(Certificate, (Certificate.program,))


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class CertificateJob(Base):
    """A trainer's request to issue a program's certificates in bulk, and how far it has got."""

    __tablename__ = "plc_certificate_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("plc_programs.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    state: Mapped[JobState] = mapped_column(
        Enum(
            JobState,
            name="certificate_job_state",
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=enum_values,
        ),
        default=JobState.QUEUED,
    )
    total: Mapped[int] = mapped_column(default=0)  # eligible teachers without a certificate when the job began
    issued: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    late_reason: Mapped[str] = mapped_column(Text, default="", server_default="")  # for issuing after the 30 days
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)  # a worker touched it last
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    program: Mapped[Program] = relationship()

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)


register_scope_path(CertificateJob, (CertificateJob.program,))


# --- Codes --------------------------------------------------------------------------------------------------------


def new_code() -> str:
    """A random verification code, printed as two groups of five: 7KQ2M-9XH4T."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_code(typed: str) -> str | None:
    """The canonical form of a code as a person typed it (any case, spaces or dashes, O for 0, I or L for 1), or
    None when it cannot be one of ours."""
    compact = re.sub(r"[\s\-]", "", typed.upper()).translate(_READ_AS)
    if len(compact) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in compact):
        return None
    return f"{compact[:5]}-{compact[5:]}"


def find_by_code(db: Session, typed: str) -> Certificate | None:
    """The certificate a code names, from any course: /verify is public and the code is the only key."""
    code = normalise_code(typed)
    if code is None:
        return None
    return db.scalars(select(Certificate).where(Certificate.code == code)).one_or_none()


# --- Issue and revoke -------------------------------------------------------------------------------------------


def check_issuable(program: Program, today: date | None = None) -> None:
    """Certificates follow the program's end: its state, and (when `today` is given) its day."""
    before_end = today is not None and program.ended_on is not None and today < program.ended_on
    if program.state not in ISSUABLE or before_end:
        raise CertificatesNotYet(program.state)


def late_issue(program: Program, today: date, reason: str) -> tuple[date | None, str]:
    """Whether issuing on `today` comes after the Council's 30 days: (their last day, the reason) when it does, with
    the reason required (InvalidInput on `reason`); (None, "") within them, where a reason is not asked for."""
    check_issuable(program, today)
    window = certificate_window(program, today)
    if window is None or not window.passed:
        return None, ""
    reason = reason.strip()
    if not reason:
        raise InvalidInput([Problem("reason", "late_without_reason", {"last_day": window.last_day})])
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInput([Problem("reason", "too_long", {"most": MAX_REASON_CHARS, "have": len(reason)})])
    return window.last_day, reason


def require_trainer(member: Membership, program: Program) -> None:
    if member.context_id != program.context_id or member.app_role != AppRole.TRAINER:
        raise NotATrainerOfCourse(member.app_role)


def certificates_of(db: Session, program: Program) -> dict[int, Certificate]:
    """The program's certificates by membership id (revoked ones included)."""
    rows = db.scalars(select(Certificate).where(Certificate.program_id == program.id))
    return {c.membership_id: c for c in rows}


def waiting_for_certificate(
    db: Session, program: Program, eligibility: dict[int, Eligibility] | None = None
) -> list[int]:
    """Eligible teachers who have no certificate yet (a revoked one counts: revoking is not undone by re-issuing)."""
    eligibility = program_eligibility(db, program) if eligibility is None else eligibility
    have = set(certificates_of(db, program))
    return sorted(m for m, e in eligibility.items() if e.eligible and m not in have)


@dataclass(frozen=True)
class Issued:
    certificate: Certificate
    eligibility: Eligibility


def issue_certificates(
    db: Session,
    program: Program,
    *,
    issued_by_id: int | None,
    today: date,
    now: datetime | None = None,
    member_ids: Collection[int] | None = None,
    eligibility: dict[int, Eligibility] | None = None,
    late_reason: str = "",
) -> list[Issued]:
    """Issue a certificate to every eligible teacher of the program who has none (or to those of `member_ids`
    who are eligible and have none). Issuing again issues nothing twice; an ineligible teacher gets nothing.
    After the Council's 30 days it takes `late_reason`, kept with each certificate (see `late_issue`).
    `eligibility`, when given, is `program_eligibility(db, program)` as the caller just read it."""
    late_after, late_reason = late_issue(program, today, late_reason)
    eligibility = program_eligibility(db, program) if eligibility is None else eligibility
    waiting = waiting_for_certificate(db, program, eligibility)
    if member_ids is not None:
        wanted = set(member_ids)
        waiting = [m for m in waiting if m in wanted]
    if not waiting:
        return []
    members = {
        m.id: m
        for m in db.scalars(select(Membership).where(Membership.id.in_(waiting)).options(joinedload(Membership.person)))
    }
    codes = _fresh_codes(db, len(waiting))
    issued: list[Issued] = []
    for member_id, code in zip(waiting, codes, strict=True):
        result = eligibility[member_id]
        person = members[member_id].person
        certificate = Certificate(
            program_id=program.id,
            membership_id=member_id,
            code=code,
            holder_name=(person.name or f"{person.given_name} {person.family_name}").strip()[:255],
            program_name=program.name,
            agency=program.agency,
            school_or_network=program.school_or_network,
            cycles=len(result.complete_cycles),
            hours=result.total_hours,
            issued_on=today,
            issued_at=now or utcnow(),
            issued_by_id=issued_by_id,
            late_after=late_after,
            late_reason=late_reason,
        )
        db.add(certificate)
        issued.append(Issued(certificate, result))
    db.flush()
    return issued


def _fresh_codes(db: Session, count: int) -> list[str]:
    """`count` new codes that no certificate has. With 2^50 codes a clash is all but impossible; the unique index
    backs this check up."""
    codes: set[str] = set()
    while len(codes) < count:
        wanted = {new_code() for _ in range(count - len(codes))}
        wanted -= set(db.scalars(select(Certificate.code).where(Certificate.code.in_(wanted))))
        codes |= wanted
    return sorted(codes)


def revoke(certificate: Certificate, *, revoked_by_id: int, reason: str, now: datetime) -> None:
    """Withdraw a certificate; it then verifies as revoked. The reason is kept for the agency, not shown publicly."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput([Problem("reason", "required", {})])
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInput([Problem("reason", "too_long", {"most": MAX_REASON_CHARS})])
    if certificate.revoked:
        raise AlreadyRevoked(certificate.id)
    certificate.revoked_at = now
    certificate.revoked_reason = reason
    certificate.revoked_by_id = revoked_by_id


# --- The bulk job -----------------------------------------------------------------------------------------------


def request_bulk_issue(
    db: Session, program: Program, requested_by_id: int | None, *, today: date, late_reason: str = ""
) -> CertificateJob:
    """A job for the program's certificates, which carries the reason for issuing after the Council's 30 days
    (refused without one then, see `late_issue`); while one is queued or running, that one is returned instead."""
    _late_after, late_reason = late_issue(program, today, late_reason)
    pending = db.scalars(
        select(CertificateJob)
        .where(CertificateJob.program_id == program.id, CertificateJob.state.in_([JobState.QUEUED, JobState.RUNNING]))
        .order_by(CertificateJob.id)
    ).first()
    if pending is not None:
        pending.late_reason = pending.late_reason or late_reason
        return pending
    job = CertificateJob(
        program_id=program.id, requested_by_id=requested_by_id, state=JobState.QUEUED, late_reason=late_reason
    )
    db.add(job)
    db.flush()
    return job


def claim_job(db: Session, job_id: int, now: datetime, stale_after: timedelta) -> CertificateJob | None:
    """Take the job for this worker: a queued one, or a running one whose worker has been silent `stale_after`.
    One UPDATE decides, so two workers (a double click, two web processes) never both take it."""
    taken = db.execute(
        update(CertificateJob)
        .where(
            CertificateJob.id == job_id,
            or_(
                CertificateJob.state == JobState.QUEUED,
                and_(CertificateJob.state == JobState.RUNNING, CertificateJob.heartbeat_at < now - stale_after),
            ),
        )
        .values(state=JobState.RUNNING, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        return None
    job = db.get(CertificateJob, job_id)
    if job is not None:
        db.refresh(job)
    return job


def latest_job(db: Session, program: Program) -> CertificateJob | None:
    return db.scalars(
        select(CertificateJob).where(CertificateJob.program_id == program.id).order_by(CertificateJob.id.desc())
    ).first()
