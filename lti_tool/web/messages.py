"""Every message a page shows for a code: refusals, field problems, notices and names, in English msgids that the
Thai catalog translates. Views and error pages look codes up here; nothing else holds user-facing text for a code."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l

from models.errors import Problem, ProgramError

# Why a rule refused a change (models' ProgramError codes and the refusals of the pages), one message per code.
REFUSALS: dict[str, Any] = {
    "wrong_state": _l("This step is not possible while the program is “%(current)s”."),
    "approval_required": _l(
        "Nothing may start before the Council approves the program: enter the approval date first."
    ),
    "program_expired": _l("The program's year has run out (one year from the Council's approval)."),
    "certificate_window_closed": _l("Certificates had to be requested within 30 days after the program ended."),
    "plan_frozen": _l("The plan is frozen while the program runs (the Council's rule): it can be read, not changed."),
    "plan_incomplete": _l(
        "The program cannot start yet: form the teams and plan a Model Teacher and Buddies for every cycle, so that everyone plays both roles."
    ),
    "already_in_team": _l(
        "A teacher belongs to one team per program: someone you chose is already in team “%(team)s”."
    ),
    "not_in_course": _l("Someone you chose is not a member of this course."),
    "member_inactive": _l("%(name)s is inactive in this course on the LMS and cannot join a new team."),
    "invalid_input": _l("Please check the form: a team of that name may already exist."),
    "reflection_graded": _l("Your reflection has been graded, so it is kept as it was graded."),
    "not_a_team_member": _l("Only members of the team write reflections on its cycles."),
    "certificates_not_yet": _l("Certificates are issued once the program has ended."),
    "already_revoked": _l("This certificate is already revoked."),
    "not_a_trainer": _l("Only the course's trainers issue or revoke certificates."),
}

# Why an evidence file was refused (models/evidence.py reasons).
EVIDENCE_REFUSALS: dict[str, Any] = {
    "empty": _l("“%(filename)s” is empty."),
    "too_large": _l("“%(filename)s” is larger than %(most_mb)s MB."),
    "type_not_allowed": _l(
        "“%(filename)s” is not a PDF, JPEG, PNG or WebP picture, Word, PowerPoint or Excel file (judged by its content, not its name)."
    ),
    "too_many_files": _l("Attach at most %(most)s files at a time."),
}

# A field of the program's set-up form.
PROGRAM_PROBLEMS: dict[str, Any] = {
    "required": _l("Please fill this in."),
    "too_few": _l("A program runs at least %(need)s cycles (the Council's rule)."),
    "negative": _l("Hours cannot be negative."),
    "too_precise": _l("Use at most two decimal places."),
    "too_many": _l("That is more hours than a program can hold (at most %(most)s)."),
    "too_many_cycles": _l("At most %(most)s cycles fit in the program's one year."),
    "not_a_number": _l("Please enter a number."),
    "not_a_date": _l("Please enter a date."),
}

# A field of the element-session form.
SESSION_PROBLEMS: dict[str, Any] = {
    "not_positive": _l("Hours must be more than zero."),
    "more_than_a_day": _l("A session cannot last more than %(most)s hours."),
    "too_precise": _l("Use at most two decimal places."),
    "before_approval": _l("The date is before the Council approved the program."),
    "in_the_future": _l("The date is in the future."),
    "after_program_year": _l("The date is outside the program's year."),
    "beyond_plan": _l("The program plans %(planned)s cycles."),
    "unknown": _l("Choose one of the five elements."),
    "none_present": _l("Tick at least one teacher who was there."),
    "not_in_team": _l("Only members of the team can be ticked."),
    "not_a_number": _l("Please enter a number."),
    "not_a_date": _l("Please enter a date."),
}

# A field of a team's tracking form or a cycle's target.
FORM_PROBLEMS: dict[str, Any] = {
    "required": _l("Please fill this in."),
    "too_long": _l("This is too long (at most %(most)s characters)."),
    "not_a_number": _l("Please enter a number."),
    "not_a_date": _l("Please enter a date."),
    "unknown": _l("There is no such form."),
    "not_in_team": _l("Only the team's members fill in its forms."),
}

# A field of the Buddy-observation form.
OBSERVATION_PROBLEMS: dict[str, Any] = {
    "required": _l("Please fill this in."),
    "too_long": _l("Please keep this under %(most)s characters."),
    "student_missing": _l("Name the student (a nickname or class number is enough)."),
    "note_missing": _l("Write what you saw of this student."),
    "too_many_students": _l("Notes on at most %(most)s students."),
}

# A reflection, or a field of the rubric when grading it.
REFLECTION_PROBLEMS: dict[str, Any] = {
    "required": _l("Please fill this in."),
    "too_long": _l("This is too long (at most %(most)s characters)."),
    "not_a_level": _l("Choose one of the rubric's levels."),
    "unknown_criterion": _l("This is not a criterion of the rubric."),
}

# The reason given for revoking a certificate.
REVOKE_PROBLEMS: dict[str, Any] = {
    "required": _l("Please give the reason for revoking."),
    "too_long": _l("Please keep the reason under %(most)s characters."),
}

# Something allowed but worth saying after a save.
NOTICES: dict[str, Any] = {
    "element_out_of_order": _l(
        "Recorded. Note: the elements before this one are not recorded yet in this cycle; the Council lists them in order but does not require it."
    ),
}

# Why the rotation planner cannot give everyone both roles (models/rotation.py).
ROTATION: dict[str, Any] = {
    "team_too_small": _l(
        "A team needs at least %(need)s teachers: a Model Teacher needs a Buddy to observe the lesson."
    ),
    "too_few_cycles": _l(
        "%(cycles)s cycles are too few for a team of %(team_size)s: each member must be the Model Teacher in a cycle of their own. Plan more cycles or form smaller teams."
    ),
    "member_listed_twice": _l("Someone is listed twice."),
}

# A program's state, as the person reads it.
STATE_NAMES: dict[str, Any] = {
    "draft": _l("draft"),
    "submitted": _l("submitted to the Council"),
    "approved": _l("approved"),
    "running": _l("running"),
    "ended": _l("ended"),
    "certificates_requested": _l("certificates requested"),
    "cancelled": _l("cancelled"),
}

# A teacher's role in a cycle.
ROLE_NAMES: dict[str, Any] = {
}

# Why a teacher is not yet eligible for a certificate (models/eligibility.py).
ELIGIBILITY_REASONS: dict[str, Any] = {
    "program_cancelled": _l("The program was cancelled."),
    "program_not_approved": _l("The Council has not approved the program yet."),
    "not_a_member": _l("Not a member of a team of this program."),
    "too_few_cycles": _l("%(have)s of the %(need)s complete cycles the Council requires."),
    "missing_role": _l("Has not yet played the role of %(role)s in a complete cycle."),
    "too_few_hours": _l("%(have)s of the program's %(need)s hours."),
}


def refusal(refused: ProgramError) -> str:
    """The message for a refused change, its parameters (a program state, say) put in the person's words."""
    params = {k: str(STATE_NAMES.get(str(v), v)) for k, v in getattr(refused, "params", {}).items()}
    message = REFUSALS.get(refused.code)
    if message is None:
        return str(refused)
    try:
        return str(message) % params
    except (KeyError, TypeError):
        return str(message)


def field_problems(problems: Iterable[Problem], catalog: dict[str, Any]) -> dict[str, str]:
    """The message for each field's first problem, from the catalog of the form's problems (PROGRAM_PROBLEMS, ...)."""
    found: dict[str, str] = {}
    for problem in problems:
        found.setdefault(problem.field, str(catalog.get(problem.code, problem.code)) % problem.params)
    return found
