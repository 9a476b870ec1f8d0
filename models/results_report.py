"""The results report that the agency sends the Teachers' Council with the certificates, "one volume" within 30 days
after the program ends (seed 004 §3.3): the program, its teams and members, each cycle's problem, plan, results
and reflections, the hours, a summary of the Buddy observations and the eligible teachers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.calendar import last_day_for_certificates
from models.cycles import Cycle
from models.eligibility import Eligibility
from models.facts import program_eligibility
from models.forms import FormEntry, FormTemplate, form_entries, form_templates
from models.observations import Observation
from models.people import Membership
from models.plan import team_plan
from models.plan_versions import PlanVersion, followed_version
from models.programs import Program
from models.reflections import Reflection
from models.teams import Team


@dataclass(frozen=True)
class FormAnswers:
    template: FormTemplate
    answers: list[tuple[str, str]]  # (field id, answer) in the template's order, empty answers left out


@dataclass(frozen=True)
class ObservationSummary:
    buddy: str
    lesson: str
    students_did: str
    students_learned: str
    suggestions: str


@dataclass(frozen=True)
class CycleReport:
    number: int
    model: str
    buddies: list[str]
    cycle: Cycle | None
    forms: list[FormAnswers]
    reflections: list[tuple[str, str]]  # (teacher, text)
    observations: list[ObservationSummary]
    hours: Decimal  # the team's meeting hours in the cycle (each session counted once)
    sessions: int


@dataclass(frozen=True)
class TeamReport:
    team: Team
    facilitator: str
    members: list[str]
    cycles: list[CycleReport]


@dataclass(frozen=True)
class MemberLine:
    name: str
    team: str
    eligibility: Eligibility


@dataclass(frozen=True)
class ResultsReport:
    program: Program
    due_on: date | None
    teams: list[TeamReport]
    members: list[MemberLine]
    plan_version: PlanVersion | None = None  # the version of the plan the program followed

    @property
    def eligible(self) -> list[MemberLine]:
        return [m for m in self.members if m.eligibility.eligible]

    @property
    def total_hours(self) -> Decimal:
        return sum((m.eligibility.total_hours for m in self.members), Decimal(0))


def _name(people: dict[int, Membership], membership_id: int | None) -> str:
    member = people.get(membership_id) if membership_id is not None else None
    return member.person.name if member is not None else ""


def results_report(db: Session, program: Program) -> ResultsReport:
    eligibility = program_eligibility(db, program)
    ids = {m for t in program.teams for m in t.member_ids} | {t.facilitator_id for t in program.teams}
    people = {m.id: m for m in db.scalars(select(Membership).where(Membership.id.in_([i for i in ids if i])))}
    templates = form_templates()
    teams: list[TeamReport] = []
    members: list[MemberLine] = []
    for team in program.teams:
        plan = team_plan(team)
        cycles = {c.number: c for c in team.cycles}
        reports: list[CycleReport] = []
        for number in range(1, program.planned_cycles + 1):
            model_id, buddy_ids = plan.get(number, (None, []))
            cycle = cycles.get(number)
            forms: list[FormAnswers] = []
            reflections: list[tuple[str, str]] = []
            observations: list[ObservationSummary] = []
            if cycle is not None:
                entries: dict[str, FormEntry] = form_entries(db, cycle)
                for slug, entry in entries.items():
                    template = templates.get(slug)
                    if template is None:
                        continue
                    answered = [(f.id, entry.answers.get(f.id, "")) for f in template.fields]
                    forms.append(FormAnswers(template, [(k, v) for k, v in answered if v]))
                forms.sort(key=lambda f: list(templates).index(f.template.slug))
                for reflection in db.scalars(
                    select(Reflection).where(Reflection.cycle_id == cycle.id).order_by(Reflection.id)
                ):
                    reflections.append((_name(people, reflection.membership_id), reflection.text))
                for observation in db.scalars(
                    select(Observation)
                    .where(Observation.cycle_id == cycle.id, Observation.withdrawn_at.is_(None))
                    .order_by(Observation.id)
                ):
                    observations.append(
                        ObservationSummary(
                            _name(people, observation.buddy_id),
                            observation.lesson,
                            observation.students_did,
                            observation.students_learned,
                            observation.suggestions,
                        )
                    )
            reports.append(
                CycleReport(
                    number=number,
                    model=_name(people, model_id),
                    buddies=[_name(people, b) for b in buddy_ids],
                    cycle=cycle,
                    forms=forms,
                    reflections=reflections,
                    observations=observations,
                    hours=sum((s.hours for s in cycle.sessions), Decimal(0)) if cycle else Decimal(0),
                    sessions=len(cycle.sessions) if cycle else 0,
                )
            )
        teams.append(
            TeamReport(team, _name(people, team.facilitator_id), [_name(people, m) for m in team.member_ids], reports)
        )
        members.extend(MemberLine(_name(people, m), team.name, eligibility[m]) for m in team.member_ids)
    due_on = last_day_for_certificates(program.ended_on) if program.ended_on else None
    return ResultsReport(program, due_on, teams, members, followed_version(db, program))
