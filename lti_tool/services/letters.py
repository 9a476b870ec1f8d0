"""The two official letters the agency sends the Office of the Secretary-General of the Teachers' Council (seed 004):
the application for co-operation with the program and its participants (§3.1), and the request for certificates
with the results report and the certificates (§3.3). Each is a หนังสือภายนอก in the form of the Regulation of the
Office of the Prime Minister on Correspondence; this module gathers what the letter says, the document template
(config/documents/letter-*.html) lays it out."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from models import agencies, plan_versions
from models.agencies import Agency
from models.calendar import last_day_for_certificates
from models.certificates import certificates_of
from models.errors import InvalidInput, Problem, ProgramError
from models.programs import Program
from models.states import ProgramState

LETTER_NUMBER_LENGTH = 64  # "ศธ 04001/1234" and the like; the agency's own numbering


class LetterKind(enum.StrEnum):
    APPLICATION = "application"  # §3.1
    CERTIFICATES = "certificates"  # §3.3


# §3.3 comes after the program: its letter is written once the program has ended.
CERTIFICATES_LETTER_FROM = frozenset({ProgramState.ENDED, ProgramState.CERTIFICATES_REQUESTED})


class LetterNotReady(ProgramError):
    """The agency lacks what a letter must carry: `missing` names the agency's fields (or "agency" for no agency)."""

    code = "letter_not_ready"

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"the letter needs the agency's {', '.join(missing)}", missing=", ".join(missing))
        self.missing = missing


class CertificatesLetterNotYet(ProgramError):
    """The request for certificates is written after the program has ended (seed 004 §3.3)."""

    code = "certificates_letter_not_yet"

    def __init__(self, state: ProgramState) -> None:
        super().__init__(f"a {state} program does not request certificates yet", state=state)


@dataclass(frozen=True)
class CouncilReference:
    """The Council's letter that approved the program, cited under อ้างถึง in the request for certificates."""

    council_letter_number: str
    council_letter_date: date
    number: int | None = None  # the approved plan version


def approval_reference(db: Session, program: Program) -> CouncilReference | None:
    """The Council's approval letter of the program (its number and date, against the plan version it approved), or
    None while it is not recorded: before the approval, or for a program approved before letters were kept."""
    version = plan_versions.approved_version(db, program)
    if version is None or version.council_letter_date is None or not version.council_letter_number:
        return None
    return CouncilReference(version.council_letter_number, version.council_letter_date, version.number)


@dataclass(frozen=True)
class LetterHead:
    """What the trainer types when printing: the agency's letter number (ที่) and the letter's date."""

    number: str
    dated: date | None

    def problems(self, today: date | None = None, not_before: date | None = None) -> list[Problem]:
        """The number is required and short; the date is a date, not to come (when `today` is known), and not before
        `not_before` (the program's end, for the request for certificates)."""
        found: list[Problem] = []
        if not self.number.strip():
            found.append(Problem("number", "required", {}))
        elif len(self.number) > LETTER_NUMBER_LENGTH:
            found.append(Problem("number", "too_long", {"most": LETTER_NUMBER_LENGTH, "have": len(self.number)}))
        if self.dated is None:
            found.append(Problem("dated", "not_a_date", {}))
        elif today is not None and self.dated > today:
            found.append(Problem("dated", "in_the_future", {"today": today}))
        elif not_before is not None and self.dated < not_before:
            found.append(Problem("dated", "before_the_end", {"ended": not_before}))
        return found


@dataclass(frozen=True)
class Letter:
    """Everything a letter template prints."""

    kind: LetterKind
    number: str
    dated: date
    agency: Agency
    program: Program
    participants: int
    teams: int
    certificates: int  # certificates standing (issued, not revoked): the §3.3 enclosure
    reference: CouncilReference | None  # §3.3's อ้างถึง; None: the letter says it is missing
    last_day: date | None = None  # §3.3: the last of the Council's 30 days after the end (None for the application)
    late_certificates: int = 0  # of `certificates`, those issued after the 30 days

    @property
    def sent_late(self) -> bool:
        """The request for certificates is dated after the Council's 30 days: the letter says so instead of claiming
        to be within them."""
        return self.last_day is not None and self.dated > self.last_day

    def context(self) -> dict[str, Any]:
        return {"letter": self, "agency": self.agency, "program": self.program, "reference": self.reference}


def standing_certificates(db: Session, program: Program) -> int:
    """The program's certificates issued and not revoked: what the request for certificates encloses."""
    return sum(1 for certificate in certificates_of(db, program).values() if not certificate.revoked)


def letter_problem(db: Session, program: Program, kind: LetterKind) -> ProgramError | None:
    """Why the letter cannot be printed now, or None."""
    if kind is LetterKind.CERTIFICATES and program.state not in CERTIFICATES_LETTER_FROM:
        return CertificatesLetterNotYet(program.state)
    if missing := agencies.letter_gaps(agencies.program_agency(db, program)):
        return LetterNotReady(missing)
    return None


def letter(db: Session, program: Program, kind: LetterKind, head: LetterHead, today: date | None = None) -> Letter:
    """The letter of `kind` for the program, under the number and date typed: a date not to come, and for the
    request for certificates not before the program's end (InvalidInput beside those fields; LetterNotReady or
    CertificatesLetterNotYet when the program or its agency cannot have it yet)."""
    ended_on = program.ended_on if kind is LetterKind.CERTIFICATES else None
    if problems := head.problems(today, ended_on):
        raise InvalidInput(problems)
    if (refused := letter_problem(db, program, kind)) is not None:
        raise refused
    agency = agencies.program_agency(db, program)
    assert agency is not None and head.dated is not None  # checked above
    return Letter(
        kind=kind,
        number=head.number.strip(),
        dated=head.dated,
        agency=agency,
        program=program,
        participants=sum(len(team.member_ids) for team in program.teams),
        teams=len(program.teams),
        certificates=standing_certificates(db, program),
        reference=approval_reference(db, program) if kind is LetterKind.CERTIFICATES else None,
        last_day=last_day_for_certificates(ended_on) if ended_on is not None else None,
        late_certificates=sum(1 for c in certificates_of(db, program).values() if not c.revoked and c.issued_late)
        if kind is LetterKind.CERTIFICATES
        else 0,
    )
