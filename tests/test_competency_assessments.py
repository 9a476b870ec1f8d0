"""Competency assessments (lti_tool/services/competencies.py): a teacher rates themself at the program's start and
end on its target competencies, can change a rating while the phase is open (the earlier learning record is voided),
a trainer may add a rating; every rating is an `assessed` statement that follows the profile's template."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.services import competencies as service
from lti_tool.services.actor import Actor
from models.assessments import AssessmentClosed, Phase, targets
from models.catalog import assessment_scale, default_target_competencies
from models.errors import InvalidInput, NotATrainer, PlanFrozen
from models.outbox import OutboxStatement
from models.people import Membership, Person
from models.personal_data import held_about
from models.programs import end
from models.roles import AppRole
from models.sessions import open_session
from models.states import ProgramState
from tests.factories import ENDED_ON, Course, make_course, planned_program, running
from xapi.profile import check_statement
from xapi.vocabulary import Extension, Verb, competency_iri


@dataclass(frozen=True)
class Destinations:
    public_base_url: str = "https://plc.example.org"
    default_locale: str = "th"
    lrs_names: list[str] = field(default_factory=lambda: ["ralph"])


SETTINGS = Destinations()
START = {"C3": 2, "C4": 3, "F5": 1}


@pytest.fixture
def course(db: Session) -> Course:
    return make_course(db, "assess-p4")


def _actor(db: Session, membership: Membership) -> Actor:
    return Actor(open_session(db, membership, None, locale="th", claims={"name": "x"}, ttl=timedelta(hours=1)))


def _statements(db: Session, verb: str) -> list[dict[str, Any]]:
    """The outbox's statements with this verb, by competency (their order within a transaction is not kept)."""
    rows = db.scalars(select(OutboxStatement).where(OutboxStatement.verb == verb)).all()
    return sorted((row.payload for row in rows), key=lambda s: (s["object"].get("id", ""), s["timestamp"]))


def test_a_new_program_aims_at_the_three_competencies_plc_develops(db: Session, course: Course) -> None:
    program = planned_program(db, course)
    db.flush()
    assert default_target_competencies() == ("C3", "C4", "F5")
    assert targets(program) == ("C3", "C4", "F5")


def test_a_trainer_chooses_other_targets_while_the_program_is_a_draft(db: Session, course: Course) -> None:
    program = planned_program(db, course)
    db.flush()
    service.choose_targets(db, _actor(db, course.trainer), ["F1", "C3"])
    assert targets(program) == ("C3", "F1")
    with pytest.raises(InvalidInput):
        service.choose_targets(db, _actor(db, course.trainer), ["X9"])


def test_targets_are_frozen_with_the_plan_once_submitted(db: Session, course: Course) -> None:
    program, _ = running(db, course)
    with pytest.raises(PlanFrozen):
        service.choose_targets(db, _actor(db, course.trainer), ["C1"])
    assert targets(program) == ("C3", "C4", "F5")


def test_a_teachers_start_assessment_is_one_statement_per_competency_following_the_template(
    db: Session, course: Course
) -> None:
    _, team = running(db, course)
    teacher = db.get(Membership, team.member_ids[0])
    assert teacher is not None

    service.assess_self(db, SETTINGS, _actor(db, teacher), Phase.START, START)

    sent = _statements(db, Verb.ASSESSED)
    assert [s["object"]["id"] for s in sent] == [competency_iri(c) for c in ("C3", "C4", "F5")]
    scale = assessment_scale()
    first = sent[0]
    assert first["result"]["score"] == {"scaled": 0.25, "raw": 2, "min": scale.minimum, "max": scale.maximum}
    assert first["context"]["extensions"][Extension.ASSESSMENT_PHASE] == "start"
    assert first["context"]["extensions"][Extension.RATER] == "self"
    assert all(check_statement(s) == [] for s in sent)


def test_changing_a_rating_voids_only_the_statement_it_replaces(db: Session, course: Course) -> None:
    _, team = running(db, course)
    teacher = db.get(Membership, team.member_ids[0])
    assert teacher is not None
    rows = service.assess_self(db, SETTINGS, _actor(db, teacher), Phase.START, START)
    c4_statement = next(r.statement_id for r in rows if r.competency == "C4")

    service.assess_self(db, SETTINGS, _actor(db, teacher), Phase.START, {**START, "C4": 4})

    voided = _statements(db, Verb.VOIDED)
    assert [v["object"]["id"] for v in voided] == [c4_statement]
    assessed = _statements(db, Verb.ASSESSED)
    assert sorted(s["result"]["score"]["raw"] for s in assessed if s["object"]["id"] == competency_iri("C4")) == [3, 4]
    assert len(assessed) == 4


def test_the_same_rating_again_records_nothing(db: Session, course: Course) -> None:
    _, team = running(db, course)
    teacher = db.get(Membership, team.member_ids[0])
    assert teacher is not None
    service.assess_self(db, SETTINGS, _actor(db, teacher), Phase.START, START)
    service.assess_self(db, SETTINGS, _actor(db, teacher), Phase.START, START)
    assert len(_statements(db, Verb.ASSESSED)) == 3 and _statements(db, Verb.VOIDED) == []


def test_every_target_needs_a_level_of_the_scale(db: Session, course: Course) -> None:
    _, team = running(db, course)
    teacher = db.get(Membership, team.member_ids[0])
    assert teacher is not None
    with pytest.raises(InvalidInput) as refused:
        service.assess_self(db, SETTINGS, _actor(db, teacher), Phase.START, {"C3": 9, "C4": 3, "C1": 2})
    assert {(p.field, p.code) for p in refused.value.problems} == {
        ("C3", "not_a_level"),
        ("C1", "not_a_target"),
        ("F5", "required"),
    }


def test_the_end_assessment_opens_when_the_program_ends_and_the_start_one_closes(db: Session, course: Course) -> None:
    program, team = running(db, course)
    teacher = db.get(Membership, team.member_ids[0])
    assert teacher is not None
    with pytest.raises(AssessmentClosed):
        service.assess_self(db, SETTINGS, _actor(db, teacher), Phase.END, START)
    service.assess_self(db, SETTINGS, _actor(db, teacher), Phase.START, START)
    end(program, ENDED_ON)
    assert program.state is ProgramState.ENDED

    service.assess_self(db, SETTINGS, _actor(db, teacher), Phase.END, {"C3": 4, "C4": 4, "F5": 3})
    with pytest.raises(AssessmentClosed):
        service.assess_self(db, SETTINGS, _actor(db, teacher), Phase.START, START)

    _, profile = service.own_profile(db, _actor(db, teacher))
    assert [(p.competency, p.start, p.end, p.growth) for p in profile] == [
        ("C3", 2, 4, 2),
        ("C4", 3, 4, 1),
        ("F5", 1, 3, 2),
    ]


def test_a_trainer_rates_a_teacher_as_the_statements_instructor(db: Session, course: Course) -> None:
    _, team = running(db, course)
    teacher = db.get(Membership, team.member_ids[0])
    assert teacher is not None

    service.rate_teacher(db, SETTINGS, _actor(db, course.trainer), teacher.id, Phase.START, START)

    sent = _statements(db, Verb.ASSESSED)
    assert {s["context"]["extensions"][Extension.RATER] for s in sent} == {"trainer"}
    assert all(s["context"]["instructor"]["account"]["name"] == "trainer" for s in sent)
    assert all(s["actor"]["account"]["name"] == teacher.person.sub for s in sent)
    _, profiles = service.team_profiles(db, _actor(db, course.trainer), team.id)
    assert profiles[teacher.id][0].trainer_start == 2 and profiles[teacher.id][0].start is None


def test_a_second_trainers_rating_is_the_trainers_rating_and_voids_the_first_ones_records(
    db: Session, course: Course
) -> None:
    """One trainer's rating per teacher, competency and phase: the latest trainer's, even where the level is the
    same (the statement's instructor changes); the first trainer's statements are voided, the page names the rater."""
    _, team = running(db, course)
    teacher = db.get(Membership, team.member_ids[0])
    assert teacher is not None
    second = Membership(context=course.trainer.context, person=Person(platform=course.trainer.person.platform,
                        sub="trainer-2", name="trainer-2"), app_role=AppRole.TRAINER.value)  # fmt: skip
    db.add(second)
    db.flush()
    first_rows = service.rate_teacher(db, SETTINGS, _actor(db, course.trainer), teacher.id, Phase.START, START)
    first_statements = sorted(str(r.statement_id) for r in first_rows)

    service.rate_teacher(db, SETTINGS, _actor(db, second), teacher.id, Phase.START, {**START, "C4": 4})

    assert sorted(v["object"]["id"] for v in _statements(db, Verb.VOIDED)) == first_statements
    _, profiles = service.team_profiles(db, _actor(db, course.trainer), team.id)
    assert [(p.trainer_start, p.trainer_start_by) for p in profiles[teacher.id]] == [
        (2, second.id), (4, second.id), (1, second.id)
    ]  # fmt: skip


def test_a_teacher_may_neither_rate_a_colleague_nor_read_the_teams_levels(db: Session, course: Course) -> None:
    _, team = running(db, course)
    teacher, colleague = (db.get(Membership, m) for m in team.member_ids[:2])
    assert teacher is not None and colleague is not None
    with pytest.raises(NotATrainer):
        service.rate_teacher(db, SETTINGS, _actor(db, teacher), colleague.id, Phase.START, START)
    with pytest.raises(NotATrainer):
        service.team_profiles(db, _actor(db, teacher), team.id)


def test_a_teachers_assessments_are_in_what_the_tool_holds_about_them(db: Session, course: Course) -> None:
    _, team = running(db, course)
    teacher = db.get(Membership, team.member_ids[0])
    assert teacher is not None
    service.assess_self(db, SETTINGS, _actor(db, teacher), Phase.START, START)
    service.rate_teacher(db, SETTINGS, _actor(db, course.trainer), teacher.id, Phase.START, START)

    held = held_about(db, teacher.person_id).competency_assessments

    assert sorted((a.competency, a.rater, a.level) for a in held) == sorted(
        [(code, rater, level) for code, level in START.items() for rater in ("self", "trainer")]
    )
