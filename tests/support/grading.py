"""Factories for grading tests and the grades benchmark: a running program whose teachers wrote reflections from
one LMS activity, and a trainer's grade of each, written with its score-outbox row in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.services.scores import queue_grade
from models.base import utcnow
from models.cycles import Cycle
from models.database import Database
from models.people import Context, Membership, Person, ResourceLink
from models.programs import Program
from models.reflections import Reflection, grade_reflection
from models.roles import AppRole
from models.scores import ScorePost
from models.states import ProgramState
from models.teams import Team, TeamMember


@dataclass(frozen=True)
class Course:
    context_id: int  # contexts.id
    trainer_id: int  # memberships.id
    resource_link_id: int  # resource_links.id


def course_of(database: Database, context_id: str, resource_link_id: str, trainer_sub: str) -> Course:
    """The tool's rows for a course where the trainer has launched from the activity `resource_link_id`."""
    with database.transaction() as db:
        context = db.scalars(select(Context).where(Context.context_id == context_id)).one()
        trainer = db.scalars(
            select(Membership).join(Person).where(Membership.context_id == context.id, Person.sub == trainer_sub)
        ).one()
        link = db.scalars(
            select(ResourceLink).where(
                ResourceLink.context_id == context.id, ResourceLink.resource_link_id == resource_link_id
            )
        ).one()
        return Course(context.id, trainer.id, link.id)


def add_teachers(database: Database, course: Course, how_many: int, prefix: str = "t") -> list[int]:
    """Teachers known to the course (as a roster would add them); their membership ids."""
    with database.transaction() as db:
        context = db.get(Context, course.context_id)
        assert context is not None
        ids = []
        for n in range(how_many):
            person = Person(platform_id=context.platform_id, sub=f"{prefix}-{n}", name=f"Teacher {n}")
            membership = Membership(context_id=context.id, person=person, app_role=AppRole.TEACHER.value)
            db.add(membership)
            db.flush()
            ids.append(membership.id)
        return ids


def reflections(database: Database, course: Course, teacher_ids: list[int]) -> list[int]:
    """A running program with one team of these teachers; each wrote a reflection on cycle 1 from the activity."""
    with database.transaction() as db:
        context = db.get(Context, course.context_id)
        assert context is not None
        program = Program(
            platform_id=context.platform_id,
            context_id=context.id,
            name="PLC (grading test)",
            state=ProgramState.RUNNING,
            approved_on=date.today() - timedelta(days=30),
            started_on=date.today() - timedelta(days=20),
        )
        team = Team(name="ทีมทดสอบ", members=[TeamMember(membership_id=t) for t in teacher_ids])
        program.teams.append(team)
        cycle = Cycle(team=team, number=1)
        db.add(program)
        rows = [
            Reflection(cycle=cycle, membership_id=t, text="นักเรียนเข้าใจมากขึ้น", resource_link_id=course.resource_link_id)
            for t in teacher_ids
        ]
        db.add_all(rows)
        db.flush()
        return [r.id for r in rows]


def grade(db: Session, reflection_id: int, grader_id: int, total: int = 7, comment: str = "ดีมาก") -> ScorePost:
    """The grading transaction's work: the trainer's grade and its score in the outbox, together."""
    reflection = db.get(Reflection, reflection_id)
    assert reflection is not None
    graded = grade_reflection(
        db,
        reflection,
        grader_id=grader_id,
        grader_role=AppRole.TRAINER,
        rubric_id="reflection-v1",
        scores={"depth": Decimal(total - 3), "evidence": Decimal(3)},
        max_score=8,
        comment=comment,
        now=utcnow(),
    )
    return queue_grade(db, graded)
