"""Where a grade is on its way to the LMS gradebook, in the reader's language: the score outbox's state and the coded
reason a score waits or failed (models/scores.py), for the trainer's reflection pages and the admin's score page."""

from __future__ import annotations

from dataclasses import dataclass

from lti_tool.web import messages
from lti_tool.web.i18n import format_datetime_local
from models.scores import ScorePost, ScoreState


@dataclass(frozen=True)
class Delivery:
    state: str  # a ScoreState value
    short: str  # a few words for a list
    text: str  # the sentence for the grading page
    why: str  # why it waits or failed, in the reader's language ("" when delivered or closed)


def delivery(post: ScorePost, cycle: int, zone: str) -> Delivery:
    state = post.state
    when = format_datetime_local(post.delivered_at, zone) if post.delivered_at is not None else ""
    text = str(messages.SCORE_STATES[state]) % {"when": when, "reason": post.close_reason or ""}
    why = ""
    if state in (ScoreState.PENDING.value, ScoreState.FAILED.value) and post.reason_code in messages.SCORE_PROBLEMS:
        why = str(messages.SCORE_PROBLEMS[post.reason_code]) % {"cycle": cycle}
    return Delivery(state, str(messages.SCORE_STATE_SHORT[state]), text, why)
