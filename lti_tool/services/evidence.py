"""Evidence files as use cases see them: the store new uploads go into (`evidence_store`), storing a record's uploads
with it, who may read a file, and taking a wrongly attached one off again. Files in the evidence folder leave the disk
at the edge, once the transaction's fate is known (`web/views/evidence.py`); bytes in the database go with their
rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from lti_tool.services.actor import Actor
from lti_tool.settings import Settings
from models import evidence as ev
from models.base import utcnow
from models.calendar import program_day
from models.cycles import Cycle, ElementSession
from models.errors import ProgramError
from models.evidence_chunks import DatabaseStore
from models.observations import Observation, may_read_observation
from models.people import Membership
from models.scope import get_in_course
from models.teams import may_record_for_team


class NotYourFile(ProgramError):
    """The file is attached to a record (an observation, a team's session) that the person may not read."""

    code = "not_your_file"

    def __init__(self, membership_id: int, evidence_id: int) -> None:
        super().__init__(
            f"membership {membership_id} may not read evidence {evidence_id}",
            membership_id=membership_id,
            evidence_id=evidence_id,
        )


def evidence_folder(settings: Settings) -> Path:
    return Path(settings.evidence_path or settings.instance_path / "evidence")


def evidence_store(settings: Settings) -> ev.EvidenceStore:
    """Where new uploads go (`PLC_EVIDENCE_STORE`): the database, or the evidence folder."""
    if settings.evidence_store == "database" or (
        settings.evidence_store == "auto" and settings.database_url.startswith("postgresql")
    ):
        return DatabaseStore()
    return ev.FolderStore(evidence_folder(settings))


@dataclass
class EvidenceFiles:
    """The store new uploads go into, and the evidence this unit of work stored: the edge takes folder files off
    the disk again unless the transaction commits."""

    store: ev.EvidenceStore
    stored: list[ev.Evidence] = field(default_factory=list)

    def attach(
        self,
        db: Session,
        cycle: Cycle,
        uploads: list[ev.Upload],
        by_id: int,
        *,
        session: ElementSession | None = None,
        observation: Observation | None = None,
    ) -> list[ev.Evidence]:
        """Store the uploads on a session or an observation (EvidenceRefused: none of them is kept)."""
        stored = ev.store_evidence(db, self.store, cycle, uploads, by_id, session=session, observation=observation)
        self.stored += stored
        return stored


def may_see(db: Session, viewer: Membership, evidence: ev.Evidence) -> bool:
    """An observation's files: whoever may read the observation. A session's (or a cycle's) files: the team's
    members and facilitator, and the course's trainers."""
    if evidence.observation_id is not None:
        observation = db.get(Observation, evidence.observation_id)
        return observation is not None and may_read_observation(viewer, observation)
    return may_record_for_team(viewer, evidence.cycle.team)


def open_evidence(db: Session, actor: Actor, evidence_id: int) -> ev.Evidence:
    """A file of the actor's course that they may read (NotFoundInCourse, NotYourFile otherwise)."""
    evidence = get_in_course(db, actor.scope, ev.Evidence, evidence_id)
    if not may_see(db, actor.membership, evidence):
        raise NotYourFile(actor.membership_id, evidence_id)
    return evidence


def remove_evidence(db: Session, actor: Actor, evidence_id: int) -> ev.Evidence:
    """Take a wrongly attached file off its record (its uploader or a trainer, while the program runs). The row is
    gone; the caller deletes its file, `Evidence.stored_name` in the evidence folder, once the transaction commits."""
    evidence = get_in_course(db, actor.scope, ev.Evidence, evidence_id)
    ev.remove_evidence(db, evidence, actor.membership, program_day(utcnow()))
    return evidence
