"""`plc-bridge provinces …` and `plc-bridge leaders add-policy`: the policy level above districts (models/policy.py)."""

from __future__ import annotations

import click

from lti_tool.cli.district import _database, _platform, leaders
from models.district import DistrictError, find_unit
from models.policy import add_policy_leader, add_province, assign_district, find_province


@click.group("provinces", help="Provinces above districts, for the policy level.")
def provinces() -> None:
    pass


@provinces.command("add", help="Add a province (or rename it).")
@click.argument("code")
@click.argument("name")
@click.option("--issuer", default=None)
def provinces_add(code: str, name: str, issuer: str | None) -> None:
    with _database().transaction() as db:
        try:
            add_province(db, _platform(db, issuer), code, name)
        except DistrictError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"province {code}: {name}")


@provinces.command("assign", help="Put a district in a province.")
@click.argument("province_code")
@click.argument("district_code")
@click.option("--issuer", default=None)
def provinces_assign(province_code: str, district_code: str, issuer: str | None) -> None:
    with _database().transaction() as db:
        platform = _platform(db, issuer)
        try:
            assign_district(
                db, find_province(db, platform, province_code), find_unit(db, platform, district_code).district
            )
        except DistrictError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"district {district_code} is in province {province_code}")


@leaders.command("add-policy", help="Make a person leader of a province, or of the OBEC level (every district).")
@click.option("--sub", required=True, help="The person's LTI sub (the user id the LMS sends)")
@click.option("--province", "province_code", default=None, help="A province's code")
@click.option("--obec", is_flag=True, help="The OBEC level: every district of the platform")
@click.option("--issuer", default=None)
def leaders_add_policy(sub: str, province_code: str | None, obec: bool, issuer: str | None) -> None:
    if bool(province_code) == obec:
        raise click.ClickException("give either --province CODE or --obec")
    with _database().transaction() as db:
        platform = _platform(db, issuer)
        try:
            province = find_province(db, platform, province_code) if province_code else None
            add_policy_leader(db, platform, sub, province)
        except DistrictError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"{sub} now leads {'province ' + province_code if province_code else 'the OBEC level'}")


COMMANDS = (provinces,)
