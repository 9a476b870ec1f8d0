"""`plc-bridge lrs competencies`: an example LRS consumer (xapi/consumer.py) that reads PLC Bridge's records from
any xAPI LRS with the standard queries and prints, per teacher and competency, the hours and the latest assessed
level. It needs no database or settings of the tool: only the LRS's address and credentials."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import click

from models.catalog import competencies
from xapi.consumer import ForeignMoreLink, LrsReader, Query, TeacherCompetencies, competency_report
from xapi.vocabulary import competency_iri


@click.group(help="Read PLC Bridge's learning records back from an LRS, as an LRS consumer does.")
def lrs() -> None:
    """Commands that only talk to an LRS."""


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 moment such as 2026-12-01T00:00:00+07:00") from error
    if moment.tzinfo is None:
        raise click.BadParameter("give the moment with its time zone, such as 2026-12-01T00:00:00+07:00")
    return moment


@lrs.command(
    "competencies",
    help="Hours per teacher and competency, and the latest assessed level, from the statements that match.",
)
@click.option("--endpoint", required=True, envvar="PLC_LRS_ENDPOINT", help="The LRS's xAPI base URL")
@click.option("--username", default="", envvar="PLC_LRS_USERNAME")
@click.option("--password", default="", envvar="PLC_LRS_PASSWORD")
@click.option("--since", callback=_since, help="Only statements since this moment (ISO 8601 with a time zone)")
@click.option("--competency", type=click.Choice(sorted(competencies())), help="One competency across people")
@click.option("--activity", help="Statements about this activity or with it in their context (a course, a program)")
@click.option("--agent-home-page", help="One teacher: their platform (the account's homePage)")
@click.option("--agent-name", help="One teacher: their account name on that platform (the LTI sub)")
@click.option("--page-size", default=100, show_default=True, type=click.IntRange(1, 1000))
def competencies_command(
    endpoint: str,
    username: str,
    password: str,
    since: datetime | None,
    competency: str | None,
    activity: str | None,
    agent_home_page: str | None,
    agent_name: str | None,
    page_size: int,
) -> None:
    if competency and activity:
        raise click.UsageError("give --competency or --activity, not both: an xAPI query names one activity")
    if bool(agent_home_page) != bool(agent_name):
        raise click.UsageError("one teacher needs both --agent-home-page and --agent-name")
    agent = (
        {"objectType": "Agent", "account": {"homePage": agent_home_page, "name": agent_name}} if agent_name else None
    )
    query = Query(
        agent=agent,
        activity=competency_iri(competency) if competency else activity,
        related_activities=bool(competency or activity),
        since=since,
        limit=page_size,
    )
    reader = LrsReader(endpoint, username, password)
    try:
        teachers = competency_report(reader, query, voided_since=since)
    except ForeignMoreLink as refused:
        raise click.ClickException(str(refused)) from refused
    click.echo("teacher\tcompetency\thours\tlatest self-assessment\tlatest trainer rating")
    for teacher, found in sorted(teachers.items()):
        for line in _lines(teacher, found, competency):
            click.echo(line)
    click.echo(f"# {len(teachers)} teachers, {reader.pages} result pages read")


def _lines(teacher: str, found: TeacherCompetencies, only: str | None) -> list[str]:
    codes = sorted(set(found.hours) | {code for code, _ in found.latest})
    lines = []
    for code in codes:
        if only and code != only:
            continue
        own, trainer = found.latest.get((code, "self")), found.latest.get((code, "trainer"))
        lines.append(
            "\t".join(
                [
                    teacher,
                    code,
                    _hours(found.hours.get(code, Decimal(0))),
                    f"{own.level:g} ({own.phase})" if own else "-",
                    f"{trainer.level:g} ({trainer.phase})" if trainer else "-",
                ]
            )
        )
    if not only:
        lines.append(f"{teacher}\t*\t{_hours(found.total_hours)}\t\t")
    return lines


def _hours(hours: Decimal) -> str:
    return f"{hours.normalize():f}" if hours else "0"


COMMANDS = (lrs,)
