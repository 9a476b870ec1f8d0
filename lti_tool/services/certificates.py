"""Issuing a program's certificates with their learning records, in the caller's transaction: the certificates and
their `earned` statements commit together or not at all. The bulk job that issues them in batches while a trainer
watches its progress page is lti_tool/workers/certificates.py."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from lti_tool.settings import Settings
from models import certificates as certs
from models.base import utcnow
from models.calendar import program_day
from models.eligibility import Eligibility
from models.programs import Program
from xapi import events


def issue_certificates(
    db: Session,
    settings: Settings,
    program: Program,
    *,
    issued_by_id: int | None,
    today: date | None = None,
    member_ids: list[int] | None = None,
    eligibility: dict[int, Eligibility] | None = None,
) -> list[certs.Issued]:
    """Issue the program's certificates to eligible teachers who have none (or to those of `member_ids`), each
    with its `earned` learning record in the caller's transaction. Idempotent: a second call issues nothing."""
    now = utcnow()
    issued = certs.issue_certificates(
        db,
        program,
        issued_by_id=issued_by_id,
        today=today or program_day(now),
        now=now,
        member_ids=member_ids,
        eligibility=eligibility,
    )
    team_of = {member_id: team for team in program.teams for member_id in team.member_ids}
    for item in issued:
        events.certificate_earned(db, settings, team_of[item.certificate.membership_id], item.certificate)
    return issued
