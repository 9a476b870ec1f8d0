"""Reflections: a team member writes one per cycle; a trainer grades it with the rubric, and the grade goes to the
LMS gradebook (LTI AGS) through the score outbox, in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from lti_tool.lti import activities
from lti_tool.services import notices
from lti_tool.services.actor import Actor
from lti_tool.services.scores import queue_grade
from models import reflections
from models.base import utcnow
from models.errors import InvalidInput
from models.reflections import Grade, Reflection
from models.rubrics import rubric, rubric_problems
from models.scope import get_in_course
from models.teams import Team
from xapi import events
from xapi.events import EventContext


def write_reflection(
    db: Session,
    settings: EventContext,
    actor: Actor,
    team: Team,
    cycle_number: int,
    text: str,
    *,
    now: datetime | None = None,
) -> Reflection:
    """The actor's reflection on a cycle of their team, written or rewritten until it is graded."""
    reflection = reflections.submit_reflection(db, team, cycle_number, actor.membership_id, text, now or utcnow())
    # The grade goes to this cycle's reflection activity in the LMS, whichever page the teacher came from.
    link = activities.reflection_link(db, actor.session.context_id, cycle_number)
    reflection.resource_link_id = link.id if link is not None else None
    events.reflection_submitted(db, settings, team, reflection)
    return reflection


def grade_reflection(
    db: Session,
    settings: EventContext,
    actor: Actor,
    reflection_id: int,
    scores: Mapping[str, Decimal | int],
    comment: str,
    *,
    now: datetime | None = None,
) -> Grade:
    """A trainer's rubric grade of a reflection of their course (a regrade adds one), with its learning record and
    its score for the LMS gradebook. InvalidInput names each criterion not scored with one of the rubric's levels."""
    reflection = get_in_course(db, actor.scope, Reflection, reflection_id)
    chosen = rubric()
    if problems := rubric_problems(chosen, scores):
        raise InvalidInput(problems)
    grade = reflections.grade_reflection(
        db,
        reflection,
        grader_id=actor.membership_id,
        grader_role=actor.role,
        rubric_id=chosen.id,
        scores=scores,
        max_score=chosen.max_score,
        comment=comment,
        now=now or utcnow(),
    )
    events.reflection_graded(db, settings, reflection.cycle.team, grade)
    queue_grade(db, grade)  # the score for the LMS gradebook, in the outbox with the grade
    notices.reflection_graded(db, grade)
    return grade
