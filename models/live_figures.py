"""Live dashboard figures (issue 17): every change that affects a dashboard figure (a session or its attendance, a
cycle's target and result, a reflection or its grade, an observation, a tracking form, a team and its members, the
program itself, a certificate) recomputes that program's summary rows in the same transaction, just before it
commits, so a leader sees it on the next page load. `plc-bridge dashboard refresh` stays, for repairs.

Two writers on one program never lose an update: the recomputation first locks the program's row (SELECT ... FOR
UPDATE on PostgreSQL), so the second writer waits for the first to commit and then recomputes from both changes
(PostgreSQL's READ COMMITTED reads what the first committed). SQLite has one writer at a time anyway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from models import dashboard_rollup as rollup
from models.assessments import Assessment
from models.certificates import Certificate
from models.cycles import Cycle, ElementSession, SessionAttendance
from models.dashboard_stats import move_programs, refresh_programs
from models.district import ProgramPlacement, place_programs_by_name
from models.forms import RESULTS_FORM, FormEntry
from models.observations import Observation
from models.people import Membership
from models.programs import Program
from models.reflections import Grade, Reflection
from models.team_figures import recompute_teams, team_names
from models.teams import CycleAssignment, Team, TeamMember

_KEY = "plc_live_figures"
# What a changed row names, by kind. A change inside a team moves its program's figures by the team's difference
# (models/team_figures.py): a member, a role, a session or its attendance, a reflection or its grade, an observation,
# a tracking form, a teacher leaving the course.
_TEAM_LEVEL: dict[type[Any], tuple[str, str]] = {
    TeamMember: ("team", "team_id"),
    CycleAssignment: ("team", "team_id"),
    ElementSession: ("cycle", "cycle_id"),
    FormEntry: ("cycle", "cycle_id"),
    Observation: ("cycle", "cycle_id"),
    Reflection: ("cycle", "cycle_id"),
    SessionAttendance: ("session", "session_id"),
    Grade: ("reflection", "reflection_id"),
    Membership: ("membership", "id"),  # a teacher who left the course no longer counts among a program's teachers
}
# A change to the program itself, its place, its teams, its cycles' targets and results or its teachers' assessments
# recomputes the program whole.
_PROGRAM_LEVEL: dict[type[Any], tuple[str, str]] = {
    Program: ("program", "id"),
    Assessment: ("program", "program_id"),
    ProgramPlacement: ("program", "program_id"),
    Certificate: ("program", "program_id"),
    Team: ("program", "program_id"),
    Cycle: ("program_of_team", "team_id"),
}


def _changed(session: Session) -> dict[str, set[int]]:
    found: dict[str, set[int]] = session.info.setdefault(_KEY, defaultdict(set))
    return found


# Of a changed (not new, not deleted) row of these kinds, only these attributes move a figure: a launch stamps the
# membership's last launch, which must not recompute (and lock) its program on every launch of a PLC day.
_FIGURE_ATTRIBUTES: dict[type[Any], tuple[str, ...]] = {
    Membership: ("status", "inactive_since", "app_role"),
    Team: ("program_id",),  # a team's name moves nothing
    # A cycle's problem, plan and texts move nothing; what it targeted and its results do (the student results).
    Cycle: ("team_id", "learning_area", "grade_level", "measure_kind", "measure_out_of", "baseline_value",
            "result_value"),
}  # fmt: skip


def _moves_a_figure(session: Session, instance: Any) -> bool:
    if isinstance(instance, FormEntry):  # of the tracking forms only the results report's goal is a figure
        form = inspect(instance).dict.get("form")
        if form is None and instance not in session.deleted:
            form = instance.form
        if form != RESULTS_FORM:
            return False
    attributes = _FIGURE_ATTRIBUTES.get(type(instance))
    if attributes is None or instance in session.new or instance in session.deleted:
        return True
    state = inspect(instance)
    return any(state.attrs[name].history.has_changes() for name in attributes)


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: Any) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        named = _TEAM_LEVEL.get(type(instance)) or _PROGRAM_LEVEL.get(type(instance))
        if named is None or not _moves_a_figure(session, instance):
            continue
        # What the row holds in memory, never a load: a deleted row's expired attribute cannot be read again.
        value = inspect(instance).dict.get(named[1])
        if value is None and instance not in session.deleted:
            value = getattr(instance, named[1], None)
        values = {value} if value is not None else set()
        if instance in session.dirty:  # a row moved (a team to another program): where it was changes too
            values.update(inspect(instance).attrs[named[1]].history.deleted or ())
        for each in values - {None}:
            kind, name = _nearer(session, named[0], int(each))
            _changed(session)[kind].add(name)


# What a name leads to, when the row it names is in the session already: a session's cycle, a reflection's cycle, a
# cycle's team (so the recomputation finds the team by its id).
_NEARER: dict[str, tuple[type[Any], str, str]] = {
    "session": (ElementSession, "cycle", "cycle_id"),
    "reflection": (Reflection, "cycle", "cycle_id"),
    "cycle": (Cycle, "team", "team_id"),
}


def _nearer(session: Session, kind: str, value: int) -> tuple[str, int]:
    while kind in _NEARER:
        model, next_kind, attribute = _NEARER[kind]
        row = session.identity_map.get(identity_key(model, value))
        found = inspect(row).dict.get(attribute) if row is not None else None
        if found is None:
            break
        kind, value = next_kind, int(found)
    return kind, value


def note_memberships(session: Session, membership_ids: Iterable[int]) -> None:
    """Name memberships changed by a bulk statement (a roster read), which the flush never sees: the figures of
    their teams' programs are recomputed when the session commits."""
    _changed(session)["membership"].update(int(i) for i in membership_ids)


def _programs(session: Session, changed: dict[str, set[int]]) -> set[int]:
    """The programs recomputed whole: those named, and those of the teams whose cycles changed their targets."""
    programs = set(changed.get("program", ()))
    if teams := changed.get("program_of_team"):
        programs |= set(session.scalars(select(Team.program_id).where(Team.id.in_(sorted(teams)))))
    return programs


@event.listens_for(Session, "before_commit")
def _recompute(session: Session) -> None:
    for _round in range(3):  # the recomputation's own flush may name nothing new; a safety bound all the same
        session.flush()
        changed = session.info.pop(_KEY, None)
        if not changed:
            break
        if named := changed.get("program"):
            place_programs_by_name(session, named)  # a new or edited program reaches the dashboard on its own
        whole = _programs(session, changed)
        if whole:  # programs first, then teams: the order every writer locks in (models/team_figures.py)
            refresh_programs(session, whole)
        teams = recompute_teams(session, team_names(changed), skip_programs=whole)
        if unfinished := move_programs(session, teams):
            refresh_programs(session, unfinished)
    rollup.apply(session)  # last: the district rows are every writer's last lock (models/dashboard_rollup.py)


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, *_args: Any) -> None:
    """What a rolled-back transaction changed is gone: nothing of it is recomputed at the next commit."""
    session.info.pop(_KEY, None)


def recompute_now(session: Session) -> None:
    """Recompute the figures of what the session changed so far (what commit would do), for callers that measure."""
    _recompute(session)
