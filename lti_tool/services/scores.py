"""A graded reflection's score for the LMS gradebook, queued in the grading transaction (the score outbox,
models/scores.py); lti_tool/workers/scores.py sends it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lti_tool.lti.activities import reflection_link
from lti_tool.lti.ags import score_document
from models.base import utcnow
from models.people import Membership, Person
from models.reflections import Grade, Reflection
from models.scores import ScorePost, ScoreState


def queue_grade(db: Session, grade: Grade) -> ScorePost:
    """Add the grade's score for the LMS gradebook to the caller's unit of work (commit it with the grade)."""
    reflection: Reflection = grade.reflection
    author = db.get(Membership, reflection.membership_id)
    assert author is not None  # a reflection's author is a membership row (foreign key)
    person = db.get(Person, author.person_id)
    assert person is not None
    score = score_document(person.sub, grade.total, grade.max_score, grade.comment, grade.graded_at)
    if reflection.resource_link_id is None:
        # Written before its cycle's reflection activity was added to the course: the column may exist by now.
        link = reflection_link(db, author.context_id, reflection.cycle.number)
        reflection.resource_link_id = link.id if link is not None else None
    post = ScorePost(
        platform_id=person.platform_id,
        grade_id=grade.id,
        resource_link_id=reflection.resource_link_id,
        user_id=person.sub,
        score=score,
        state=ScoreState.PENDING.value,
        next_attempt_at=utcnow(),
    )
    db.add(post)
    db.flush()
    return post
