"""What the PLC pages say for a code: the rules' and use cases' refusals, every form's field problems, notices after a
save, and the names of states, roles and eligibility reasons (Thai in the catalog); `refusal` and `field_problems` put
a refusal or a problem in the person's words. Messages name their details as `%(name)s`, as their msgids in the Thai
catalog always have. The launch's and registration's refusals are in web/protocol_messages.py."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, NamedTuple

from flask_babel import lazy_gettext as _l

from lti_tool.web.i18n import format_date_local
from models.errors import Problem, ProgramError

# --- The PLC pages: domain refusals (models.errors), field problems, notices and names ---------------------------

# Why a rule refused a change (models' ProgramError codes and the refusals of the pages), one message per code.
REFUSALS: dict[str, Any] = {
    "assessment_closed": _l("This competency assessment is not open while the program is “%(state)s”."),
    "wrong_state": _l("This step is not possible while the program is “%(current)s”."),
    "approval_required": _l(
        "Nothing may start before the Council approves the program: enter the approval date first."
    ),
    "program_expired": _l("The program's year has run out (one year from the Council's approval)."),
    "certificate_window_closed": _l("Certificates had to be requested within 30 days after the program ended."),
    "plan_frozen": _l(
        "The Council's guideline, clause 2.6: a program is not changed while it runs. The plan the Council approved "
        "is the plan that runs: it can be read, not changed."
    ),
    "plan_submitted": _l(
        "The plan was submitted to the Council and is kept as it was sent. To change it, withdraw the submission "
        "first (with a reason), change the plan, and submit it again as a new version."
    ),
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
    "cycle_beyond_plan": _l("The program plans %(planned)s cycles."),
    "not_a_buddy": _l("Only a Buddy Teacher of cycle %(cycle)s fills in its observation form."),
    "no_model_teacher": _l("Cycle %(number)s has no Model Teacher in your team's plan."),
    "not_your_observation": _l(
        "Only the Buddy who wrote an observation, the Model Teacher observed and the course's trainers may read it."
    ),
    "not_your_evidence": _l("Only the person who attached this file, or a trainer of the course, may remove it."),
    "not_your_file": _l("This file belongs to a record you may not read."),
    "not_found": _l("There is nothing at this address. Open the activity again from your course in the LMS."),
    "not_an_administrator": _l("Only the platform's administrators may see this page."),
    "score_not_failed": _l("Only a failed score can be dismissed: this one is %(state)s."),
    "already_erased": _l("This person is already erased: PLC Bridge shows them under their pseudonym."),
    "cannot_erase_yourself": _l("You cannot erase yourself: another site administrator of the platform does it."),
    "not_an_instructor": _l("Only the course's trainers and administrators may add PLC Bridge activities."),
    "not_your_record": _l("Only the person who recorded this, or a trainer of the course, may correct or withdraw it."),
    "correction_closed": _l(
        "The program is %(state)s: its records stand as they are. Records can be corrected while the program runs, and by a trainer after it ends until certificates are requested."
    ),
    "trainer_only_after_end": _l("The program has ended: only a trainer of the course may correct its records now."),
    "record_locked": _l(
        "This record is locked: the issued certificates of %(holders)s count it. A certificate states the hours and cycles it certified, so revoke the certificate first, then correct the record and issue it again."
    ),
    "possible_duplicate": _l("A session like this one is already recorded."),
    "certificates_stand": _l(
        "%(issued)s certificates of this program stand: revoke them first, then the program can be reopened."
    ),
    "approval_after_records": _l(
        "The approval date cannot be later than the program's start or its first recorded session (%(earliest)s)."
    ),
    "approval_in_future": _l("The Council's approval date cannot be in the future."),
    "next_program_not_yet": _l(
        "The course's current program is “%(current)s”. A new program can be set up once the current one has "
        "requested its certificates, or when 30 days have passed since it ended."
    ),
    "letter_not_ready": _l("The letter needs the agency's details first: %(missing)s."),
    "certificates_letter_not_yet": _l(
        "The letter requesting the certificates is written once the program has ended (it is “%(state)s”)."
    ),
}

# --- The agency that runs the program (seed 004 §1, §2.1) and its letters to the Council ----------------------------

AGENCY_PROBLEMS: dict[str, Any] = {
    "required": _l("Please fill this in."),
    "too_long": _l("This is too long (at most %(most)s characters)."),
    "not_a_date": _l("Please enter a date."),
    "in_the_future": _l("The date is in the future."),
    "before_the_end": _l("The request for certificates cannot be dated before the program's end (%(ended)s)."),
    "unknown_kind": _l("Choose one of the kinds of agency in the Council's guideline."),
    "unknown_agency": _l("Choose one of this course's agencies."),
}

# The kinds of agency in the guideline's §1 (their Thai is the guideline's own words).
AGENCY_KINDS: dict[str, Any] = {
    "supervisors": _l("Supervisors"),
    "provincial_supervisors": _l("Provincial supervisors"),
    "education_division": _l("Education division"),
    "service_area_office": _l("Educational service area office"),
    "local_government": _l("Local government organisation"),
    "university": _l("Higher education institution"),
    "other": _l("Other education body"),
}

# What a letter needs from the agency, by field (models.agencies.letter_gaps).
AGENCY_FIELDS: dict[str, Any] = {
    "agency": _l("the agency that runs the program"),
    "name": _l("its name"),
    "address": _l("its address"),
    "signatory_name": _l("the name of who signs"),
    "signatory_position": _l("the position of who signs"),
    "contact_unit": _l("the unit to contact"),
    "telephone": _l("the telephone number"),
}

# A weighty step's reason (models/program_history.py).
REASON_PROBLEMS: dict[str, Any] = {
    "required": _l("Please give the reason: it is kept in the program's history."),
    "too_long": _l("Please keep the reason under %(most)s characters (it has %(have)s)."),
}

# A field of a program's cancellation (models/cancellations.py); its reason as for every weighty step.
CANCEL_PROBLEMS: dict[str, Any] = {
    **REASON_PROBLEMS,
    "who_cancels_required": _l("Please choose who cancels: the agency or the Council."),
    "council_not_asked": _l(
        "The program has not been submitted to the Council, so there is no co-operation for the Council to cancel: the agency cancels it."
    ),
    "letter_number_required": _l("Please enter the number of the Council's letter."),
    "letter_number_too_long": _l("This is too long (at most %(most)s characters)."),
    "letter_date_required": _l("Please enter the date of the Council's letter."),
    "letter_date_in_future": _l("The date is in the future."),
    "letter_before_submission": _l(
        "The Council's letter cannot be dated before the program was submitted to it (%(submitted)s)."
    ),
}

# Who cancelled a program (models/cancellations.py).
CANCELLED_BY_NAMES: dict[str, Any] = {
    "agency": _l("The agency that runs the program"),
    "council": _l("The Teachers' Council (the Office of the Secretary-General of the Teachers' Council)"),
}

# Why teachers would not be eligible, said of a group on a confirmation page (models/eligibility.py codes).
ELIGIBILITY_SUMMARIES: dict[str, Any] = {
    "left_course": _l("left the course before the program ended"),
    "program_cancelled": _l("the program was cancelled"),
    "program_not_approved": _l("the Council has not approved the program"),
    "not_a_member": _l("not in a team of the program"),
    "too_few_cycles": _l("fewer than 3 complete cycles"),
    "missing_role": _l("has not played both roles (Model Teacher and Buddy Teacher)"),
    "too_few_hours": _l("fewer hours than the program's minimum"),
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
    "too_long": _l("This is too long (at most %(most)s characters)."),
    "before_submission": _l("The Council cannot have approved the program before it was submitted (%(submitted)s)."),
    "in_the_future": _l("The date is in the future."),
    "before_creation": _l("The date is before the program was set up here (%(created)s)."),
    "before_withdrawal": _l("The date is before the previous version was withdrawn (%(withdrawn)s)."),
    "not_in_list": _l("“%(have)s” is not on the curriculum's list: please choose one from the list."),
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
    "reason_required": _l("Please give the reason for this change."),
    "too_long": _l("This is too long (at most %(most)s characters)."),
}

# What a save of an element session says, with a link to the item.
SESSION_SAVED: dict[str, Any] = {
    "recorded": _l("Recorded the meeting of element %(element)s, cycle %(cycle)s."),
    "corrected": _l("Corrected the meeting of element %(element)s, cycle %(cycle)s."),
    "withdrawn": _l("Withdrew the meeting of element %(element)s, cycle %(cycle)s: it no longer counts."),
}

# A field of a team's tracking form or a cycle's target.
FORM_PROBLEMS: dict[str, Any] = {
    "required": _l("Please fill this in."),
    "too_long": _l("This is too long (at most %(most)s characters)."),
    "not_a_number": _l("Please enter a number."),
    "not_a_date": _l("Please enter a date."),
    "not_a_choice": _l("Please choose one of the answers offered."),
    "outside_program_year": _l("The date must fall inside the program's year, from %(first)s to %(last)s."),
    "unknown": _l("There is no such form."),
    "not_in_team": _l("Only the team's members fill in its forms."),
    "reason_required": _l("Please give the reason for this change."),
    "not_in_list": _l("“%(have)s” is not on the curriculum's list: please choose one from the list."),
    "out_of_range": _l("Please enter a number from %(least)s to %(most)s."),
    "beyond_measure": _l("In this measure a value runs from 0 to %(most)s."),
    "whole_pupils": _l("A count of pupils is a whole number."),
}

# A field of the Buddy-observation form.
OBSERVATION_PROBLEMS: dict[str, Any] = {
    "required": _l("Please fill this in."),
    "too_long": _l("Please keep this under %(most)s characters."),
    "student_missing": _l("Name the student (a nickname or class number is enough)."),
    "note_missing": _l("Write what you saw of this student."),
    "too_many_students": _l("Notes on at most %(most)s students."),
    "reason_required": _l("Please give the reason for this change."),
}

# What a correction or withdrawal of a Buddy observation says.
OBSERVATION_CHANGED: dict[str, Any] = {
    "corrected": _l("Corrected the observation of cycle %(cycle)s."),
    "withdrawn": _l("Withdrew the observation of cycle %(cycle)s: it no longer counts."),
}

# A reflection, or a field of the rubric when grading it.
REFLECTION_PROBLEMS: dict[str, Any] = {
    "required": _l("Please fill this in."),
    "too_long": _l("This is too long (at most %(most)s characters)."),
    "not_a_level": _l("Choose one of the rubric's levels."),
    "unknown_criterion": _l("This is not a criterion of the rubric."),
}

# The reason given for revoking a certificate.
ASSESSMENT_PROBLEMS: dict[str, Any] = {
    "required": _l("Choose a level for this competency."),
    "not_a_level": _l("Choose one of the levels of the scale."),
    "not_a_target": _l("This competency is not one of the program's targets."),
    "no_targets": _l("Choose at least one competency."),
}

REVOKE_PROBLEMS: dict[str, Any] = {
    "required": _l("Please give the reason for revoking."),
    "too_long": _l("Please keep the reason under %(most)s characters."),
}

# The reason for issuing certificates after the Council's 30 days (models/certificates.py `late_issue`).
ISSUE_PROBLEMS: dict[str, Any] = {
    "late_without_reason": _l(
        "The Council's 30 days after the program's end ended on %(last_day)s: give the reason for issuing the certificates now."
    ),
    "too_long": _l("Please keep the reason under %(most)s characters (it has %(have)s)."),
}

# The LINE account's settings (lti_tool/services/line_linking.py).
LINE_PROBLEMS: dict[str, Any] = {
    "line_basic_id": _l(
        "The account's basic ID starts with @ and has no spaces, as LINE Official Account Manager shows it."
    ),
    "line_channel_secret": _l("The channel secret is the 32 letters and digits shown in the LINE Developers console."),
    "line_access_token_missing": _l(
        "Enter the channel access token too: LINE notices work only with both the token and the channel secret."
    ),
    "line_channel_secret_missing": _l(
        "Enter the channel secret too: LINE notices work only with both the token and the channel secret."
    ),
}

# Something allowed but worth saying after a save.
NOTICES: dict[str, Any] = {
    "element_out_of_order": _l(
        "Recorded. Note: the elements before this one are not recorded yet in this cycle; the Council lists them in order but does not require it."
    ),
}

# What a save saved, by the short code its redirect carries (`?saved=<code>`: no cookie, so it works in an LMS iframe).
SAVED: dict[str, Any] = {
    "program": _l("Saved the program's details."),
    "next_program": _l("Set up the course's new program. The earlier one stays readable below."),
    "team": _l("Formed the team “%(name)s” with its plan of roles."),
    "team_removed": _l("Removed the team."),
    "approved": _l("Recorded the Council's approval and its letter: the plan is kept as approved."),
    "withdrawn": _l("Withdrew the submission: the plan is a draft again. Change it, then submit it as a new version."),
    "target": _l("Saved the problem and results of cycle %(number)s."),
    "form": _l("Saved “%(form)s” of cycle %(number)s."),
    "agency": _l("Saved the agency “%(name)s”."),
    "agency_chosen": _l("The program is now run by “%(name)s”."),
    "staff_added": _l("Added %(name)s to the agency's staff."),
    "staff_corrected": _l("Corrected the details of %(name)s."),
    "staff_removed": _l("Removed %(name)s from the agency's staff."),
}


class Saved(NamedTuple):
    """A page's notice that something was saved, and where it is."""

    text: str
    link: str


def saved(code: str, link: str, **params: object) -> Saved | None:
    """The notice for a save's code (None for a code we did not send), its details filled in."""
    message = SAVED.get(code)
    return Saved(str(message) % params, link) if message is not None else None


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

# A weighty step in a program's history (models/program_history.py).
CHANGE_NAMES: dict[str, Any] = {
    "cancelled": _l("Cancelled"),
    "reopened": _l("Reopened"),
    "approval_corrected": _l("Approval date corrected"),
    "approval_letter_corrected": _l("Number of the Council's approval letter corrected"),
    "withdrawn": _l("Submission withdrawn"),
}

# A teacher's role in a cycle.
ROLE_NAMES: dict[str, Any] = {"model": _l("Model Teacher"), "buddy": _l("Buddy Teacher")}

# Why a teacher is not yet eligible for a certificate (models/eligibility.py).
ELIGIBILITY_REASONS: dict[str, Any] = {
    "left_course": _l("Left the course on %(on)s: the LMS no longer lists them in it."),
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
        params = {k: format_date_local(v) if isinstance(v, date) else v for k, v in problem.params.items()}
        found.setdefault(problem.field, str(catalog.get(problem.code, problem.code)) % params)
    return found


# --- Error pages: HTTP errors without a message of our own, and a database that refused or is away ----------------

# For errors raised without a message of our own (an unknown address, a wrong method, a rate limit).
GENERIC_MESSAGES: dict[int, Any] = {
    400: _l("The request could not be understood. Go back and try again."),
    404: _l("There is nothing at this address. Open the activity again from your course in the LMS."),
    405: _l("This address does not take that kind of request. Open the activity again from your course."),
    429: _l("Too many requests from this address in a short time. Wait a minute, then try again."),
}

DATABASE_MESSAGES: dict[str, Any] = {
    "changed_meanwhile": _l(
        "This could not be saved: it conflicts with what is already stored (perhaps the same thing was saved at the same moment from another page). Nothing was changed. Reload the page and check."
    ),
    "value_out_of_range": _l(
        "This could not be saved: a value is larger or longer than the tool can keep. Nothing was changed. Go back, correct it and try again."
    ),
    "database_unavailable": _l("The database is unavailable for a moment. Please try again shortly."),
}


# Where a grade is on its way to the LMS gradebook (models/scores.py), for the trainer who grades and the site
# administrator: the state, and why a score waits or failed (its ScoreProblem code).
SCORE_STATES: dict[str, Any] = {
    "delivered": _l("The grade reached the LMS gradebook on %(when)s."),
    "pending": _l("The grade waits to go to the LMS gradebook; it is tried again by itself."),
    "failed": _l("The grade did not reach the LMS gradebook. The LMS's site administrator can send it again."),
    "superseded": _l("A newer grade of this reflection replaced this one in the LMS gradebook."),
    "dismissed": _l("The LMS's site administrator closed this grade's delivery: %(reason)s"),
}
SCORE_STATE_SHORT: dict[str, Any] = {
    "delivered": _l("in the LMS gradebook"),
    "pending": _l("waiting for the LMS"),
    "failed": _l("not in the LMS gradebook"),
    "superseded": _l("replaced by a newer grade"),
    "dismissed": _l("closed by the site administrator"),
}
SCORE_PROBLEMS: dict[str, Any] = {
    "no_activity": _l(
        "The course has no reflection activity for cycle %(cycle)s yet. Add it to the course with Select content (Deep Linking): the grade goes to its gradebook column by itself."
    ),
    "no_gradebook": _l(
        "The LMS offers no gradebook for this course to PLC Bridge (no launch carried its grade service, or it does not accept scores)."
    ),
    "keyset_unreachable": _l(
        "The LMS could not verify PLC Bridge's signature because it cannot fetch the tool's public keyset. The LMS's site administrator must allow the tool's address and port in Moodle's HTTP security settings."
    ),
    "token_refused": _l(
        "The LMS does not accept PLC Bridge's signed request for its services: check the tool's registration in the LMS."
    ),
    "platform_down": _l("The LMS is not answering as expected just now."),
    "platform_refused": _l("The LMS refused the score."),
}
DISMISS_PROBLEMS: dict[str, Any] = {
    "required": _l("Please give the reason for dismissing the score: it is kept with the score."),
    "too_long": _l("Please keep the reason under %(most)s characters."),
}

ERASURE_PROBLEMS: dict[str, Any] = {
    "required": _l("Please fill this in: it is kept with the erasure."),
    "too_long": _l("Please keep this under %(most)s characters."),
    "taken": _l("Someone on this platform already has this name or pseudonym: choose another."),
}

READ_LOG_PROBLEMS: dict[str, Any] = {
    "too_long": _l("This is too long (at most %(most)s characters)."),
    "not_a_date": _l("Please enter a date."),
    "backwards": _l("The last day comes before the first day."),
}
# What was read, as the read log names it (models/read_log.ReadKind).
READ_KINDS: dict[str, Any] = {
    "reflection": _l("Reflection"),
    "observation": _l("Buddy observation"),
    "logbook": _l("Hours logbook"),
    "certificate": _l("Certificate"),
    "progress": _l("Progress towards the certificate"),
    "evidence": _l("Evidence file"),
    "results_report": _l("Results report"),
}
