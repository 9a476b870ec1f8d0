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

from models.assessments import Assessment
from models.certificates import Certificate
from models.cycles import Cycle, ElementSession, SessionAttendance
from models.dashboard_stats import refresh_programs
from models.district import ProgramPlacement, place_programs_by_name
from models.forms import FormEntry
from models.observations import Observation
from models.people import Membership
from models.programs import Program
from models.reflections import Grade, Reflection
from models.teams import CycleAssignment, Team, TeamMember

_KEY = "plc_live_figures"
# What a changed row names, by kind: the program itself, a team, a cycle, an element session, a reflection.
_NAMES: dict[type[Any], tuple[str, str]] = {
    Program: ("program", "id"),
    Assessment: ("program", "program_id"),
    ProgramPlacement: ("program", "program_id"),
    Certificate: ("program", "program_id"),
    Team: ("program", "program_id"),
    TeamMember: ("team", "team_id"),
    CycleAssignment: ("team", "team_id"),
    Cycle: ("team", "team_id"),
    ElementSession: ("cycle", "cycle_id"),
    FormEntry: ("cycle", "cycle_id"),
    Observation: ("cycle", "cycle_id"),
    Reflection: ("cycle", "cycle_id"),
    SessionAttendance: ("session", "session_id"),
    Grade: ("reflection", "reflection_id"),
    Membership: ("membership", "id"),  # a teacher who left the course no longer counts among a program's teachers
}


def _changed(session: Session) -> dict[str, set[int]]:
    found: dict[str, set[int]] = session.info.setdefault(_KEY, defaultdict(set))
    return found


# Of a changed (not new, not deleted) row of these kinds, only these attributes move a figure: a launch stamps the
# membership's last launch, which must not recompute (and lock) its program on every launch of a PLC day.
_FIGURE_ATTRIBUTES: dict[type[Any], tuple[str, ...]] = {Membership: ("status", "inactive_since", "app_role")}


def _moves_a_figure(session: Session, instance: Any) -> bool:
    attributes = _FIGURE_ATTRIBUTES.get(type(instance))
    if attributes is None or instance in session.new or instance in session.deleted:
        return True
    state = inspect(instance)
    return any(state.attrs[name].history.has_changes() for name in attributes)


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: Any) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        named = _NAMES.get(type(instance))
        if named is None or not _moves_a_figure(session, instance):
            continue
        # What the row holds in memory, never a load: a deleted row's expired attribute cannot be read again.
        value = inspect(instance).dict.get(named[1])
        if value is None and instance not in session.deleted:
            value = getattr(instance, named[1], None)
        if value is not None:
            _changed(session)[named[0]].add(int(value))


def note_memberships(session: Session, membership_ids: Iterable[int]) -> None:
    """Name memberships changed by a bulk statement (a roster read), which the flush never sees: the figures of
    their teams' programs are recomputed when the session commits."""
    _changed(session)["membership"].update(int(i) for i in membership_ids)


def _programs(session: Session, changed: dict[str, set[int]]) -> set[int]:
    """The programs the changed rows belong to, by a few joined reads."""
    programs = set(changed.get("program", ()))
    cycles = set(changed.get("cycle", ()))
    teams = set(changed.get("team", ()))
    if memberships := sorted(changed.get("membership", ())):
        for start in range(0, len(memberships), 500):
            chunk = memberships[start : start + 500]
            teams |= set(session.scalars(select(TeamMember.team_id).where(TeamMember.membership_id.in_(chunk))))
    if sessions := changed.get("session"):
        cycles |= set(session.scalars(select(ElementSession.cycle_id).where(ElementSession.id.in_(sorted(sessions)))))
    if reflections := changed.get("reflection"):
        cycles |= set(session.scalars(select(Reflection.cycle_id).where(Reflection.id.in_(sorted(reflections)))))
    if cycles:
        teams |= set(session.scalars(select(Cycle.team_id).where(Cycle.id.in_(sorted(cycles)))))
    if teams:
        programs |= set(session.scalars(select(Team.program_id).where(Team.id.in_(sorted(teams)))))
    return programs


@event.listens_for(Session, "before_commit")
def _recompute(session: Session) -> None:
    for _round in range(3):  # the recomputation's own flush may name nothing new; a safety bound all the same
        session.flush()
        changed = session.info.pop(_KEY, None)
        if not changed:
            return
        if named := changed.get("program"):
            place_programs_by_name(session, named)  # a new or edited program reaches the dashboard on its own
        program_ids = _programs(session, changed)
        if program_ids:
            refresh_programs(session, program_ids)


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, *_args: Any) -> None:
    """What a rolled-back transaction changed is gone: nothing of it is recomputed at the next commit."""
    session.info.pop(_KEY, None)


def recompute_now(session: Session) -> None:
    """Recompute the figures of what the session changed so far (what commit would do), for callers that measure."""
    _recompute(session)
