"""The example LRS consumer (`plc-bridge lrs competencies`, xapi/consumer.py) against a real Ralph holding the tool's
records: its hours per teacher and competency equal the tool's own progress figures, with a corrected session's
voided statements left out, over more than one page of results; `since`, one teacher (`agent`) and one competency
(`activity` + `related_activities`) narrow it as the xAPI queries say.

Ralph lives for the whole test run and holds other tests' statements too: this test's course is on a platform of its
own (a fresh issuer), so its course activity and its teachers' accounts are its alone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from click.testing import CliRunner
from sqlalchemy.orm import Session

from lti_tool.cli.main import main
from lti_tool.services import competencies as service
from lti_tool.services.actor import Actor
from models.assessments import Phase
from models.catalog import elements
from models.corrections import SessionValues, correct_session
from models.eligibility import eligibility, program_facts
from models.facts import team_facts
from models.people import Membership
from models.programs import end
from models.sessions import open_session
from models.teams import Team
from tests.conftest import ToolServer
from tests.factories import ENDED_ON, TODAY, make_course, record, running
from tests.support.lrs import PASSWORD, USER, RalphServer
from tests.support.waiting import wait_until
from xapi import events, outbox, statements
from xapi.delivery import OutboxDelivery
from xapi.vocabulary import ActivityType

HELD_ON = date(2026, 6, 20)  # sessions in the program's first weeks; the assessments are stamped with today
SINCE = "2026-11-01T00:00:00+00:00"


@dataclass
class Course:
    iri: str
    issuer: str
    subs: dict[int, str]
    tool_hours: dict[str, dict[str, Decimal]]  # sub → competency (and "*" for all) → hours, as the tool counts them


def _actor(db: Session, membership: Membership) -> Actor:
    return Actor(open_session(db, membership, None, locale="th", claims={"name": "x"}, ttl=timedelta(hours=1)))


def _tool_hours(db: Session, team: Team) -> dict[str, dict[str, Decimal]]:
    """The tool's own figures: each teacher's hours by element (the progress page's) summed per competency tag."""
    figures = {}
    for member_id in team.member_ids:
        progress = eligibility(member_id, program_facts(team.program), team_facts(db, team))
        member = db.get(Membership, member_id)
        assert member is not None
        hours = {"*": progress.total_hours}
        for element in elements():
            for code in element.competencies:
                hours[code] = hours.get(code, Decimal(0)) + progress.hours_by_element[element.number]
        figures[member.person.sub] = hours
    return figures


def _run_a_program(tool: ToolServer) -> Course:
    settings = tool.settings
    with tool.database.transaction() as db:
        course = make_course(db, f"lrs-{uuid.uuid4().hex[:8]}", teachers=3)
        program, team = running(db, course)
        sessions = []
        for cycle in (1, 2, 3):
            for element in (1, 2, 3, 4, 5):
                recorded = record(db, team, element, cycle, held_on=HELD_ON, hours=Decimal("1.5"))
                events.session_recorded(db, settings, team, recorded)
                sessions.append(recorded.session)
        teachers = [db.get(Membership, m) for m in team.member_ids]
        for n, teacher in enumerate(teachers):
            assert teacher is not None
            service.assess_self(db, settings, _actor(db, teacher), Phase.START, {"C3": 1 + n, "C4": 2, "F5": 1})
        # A corrected session: 1.5 hours became 3, its earlier statements are voided and the new ones recorded.
        corrected = SessionValues.of(sessions[0])
        changed = correct_session(
            db, sessions[0], SessionValues(**{**corrected.__dict__, "hours": Decimal("3")}), changer=course.trainer,
            reason="พิมพ์ชั่วโมงผิด", today=TODAY, now=datetime.now(UTC),
        )  # fmt: skip
        events.session_changed(db, settings, team, changed, course.trainer)
        end(program, ENDED_ON)
        teacher = teachers[0]
        assert teacher is not None
        service.assess_self(db, settings, _actor(db, teacher), Phase.END, {"C3": 4, "C4": 4, "F5": 3})
        service.rate_teacher(
            db, settings, _actor(db, course.trainer), teacher.id, Phase.END, {"C3": 3, "C4": 4, "F5": 3}
        )
        platform = course.trainer.context.platform
        iri = statements.activity_iri(
            settings.public_base_url, "course", platform.issuer, course.trainer.context.context_id
        )
        subs = {m: db.get(Membership, m).person.sub for m in team.member_ids}  # type: ignore[union-attr]
        return Course(iri, platform.issuer, subs, _tool_hours(db, team))


def _deliver(tool: ToolServer, ralph: RalphServer) -> None:
    with tool.database.transaction() as db:
        outbox.resend(db, "ralph")
    worker = OutboxDelivery(tool.database, [ralph.destination()])
    wait_until(lambda: worker.run_once().handled == 0, 60, 0, "the outbox did not drain into Ralph")


def _consume(ralph: RalphServer, *extra: str) -> tuple[dict[tuple[str, str], list[str]], int]:
    """The command's lines by (teacher's account name, competency), and how many result pages it read."""
    args = ["lrs", "competencies", "--endpoint", ralph.base_url + "/xAPI/", "--username", USER, "--password", PASSWORD]
    result = CliRunner().invoke(main, [*args, *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("teacher\tcompetency\thours")
    rows = {}
    for line in lines[1:-1]:
        cells = line.split("\t")
        rows[(cells[0].split("|", 1)[1], cells[1])] = cells[2:]
    pages = int(lines[-1].split(", ")[1].split()[0])
    return rows, pages


def test_the_consumers_totals_equal_the_tools_over_many_pages_without_voided_statements(
    tool: ToolServer, ralph: RalphServer
) -> None:
    course = _run_a_program(tool)
    _deliver(tool, ralph)

    rows, pages = _consume(ralph, "--activity", course.iri, "--page-size", "10")

    assert pages > 3  # 45 attended statements alone need five pages of ten
    for sub, hours in course.tool_hours.items():
        for code, expected in hours.items():
            if expected:
                assert Decimal(rows[(sub, code)][0]) == expected, (sub, code)
    first = next(iter(course.subs.values()))
    assert rows[(first, "*")][0] == "24"  # 15 sessions × 1.5 hours, one corrected to 3: the voided 1.5 is not counted
    assert rows[(first, "C3")][1:] == ["4 (end)", "3 (end)"]  # the latest own level, and the trainer's
    assert all(rows[(sub, "C4")][1] == "2 (start)" for sub in list(course.subs.values())[1:])


def test_since_one_teacher_and_one_competency_narrow_the_report(tool: ToolServer, ralph: RalphServer) -> None:
    course = _run_a_program(tool)
    _deliver(tool, ralph)
    first = next(iter(course.subs.values()))

    recent, _ = _consume(ralph, "--activity", course.iri, "--since", SINCE)
    mine, _ = _consume(ralph, "--agent-home-page", course.issuer, "--agent-name", first)
    c4, _ = _consume(ralph, "--competency", "C4", "--since", "2026-01-01T00:00:00+07:00")

    # Since November: only the assessments (stamped today) and the corrected session's new statements (stamped with
    # the day the session was held, June) are not in it: no hours but the levels.
    assert {row[0] for key, row in recent.items() if key[1] != "*"} == {"0"}
    assert recent[(first, "C3")][1] == "4 (end)"
    assert {key[0] for key in mine} == {first} and mine[(first, "*")][0] == "24"
    ours = {key: row for key, row in c4.items() if key[0] in course.subs.values()}
    assert {key[1] for key in ours} == {"C4"}
    for sub in course.subs.values():
        assert Decimal(ours[(sub, "C4")][0]) == course.tool_hours[sub]["C4"]


def test_the_assessment_statements_reach_ralph_as_competency_activities(tool: ToolServer, ralph: RalphServer) -> None:
    course = _run_a_program(tool)
    _deliver(tool, ralph)
    stored = [s for s in ralph.statements() if s["actor"].get("account", {}).get("homePage") == course.issuer]
    assessed = [s for s in stored if s["object"].get("definition", {}).get("type") == ActivityType.COMPETENCY]
    assert len(assessed) == 3 * 3 + 3 + 3  # everyone at the start, one teacher at the end, and the trainer's rating
