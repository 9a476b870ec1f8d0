"""`plc-bridge` commands for the district: its structure, its leaders, the dashboard's figures, synthetic data."""

from __future__ import annotations

import time
from datetime import date

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.cli.context import open_database, settings_or_exit
from models.dashboard_stats import refresh_all, refresh_district
from models.database import Database
from models.district import (
    District,
    DistrictError,
    Leader,
    Network,
    School,
    add_leader,
    find_unit,
    import_structure,
    place_program,
    read_structure_csv,
    remove_leader,
)
from models.platform import Platform
from models.programs import Program
from models.synthetic import SIZES, AlreadySeeded, seed_district


def _platform(db: Session, issuer: str | None) -> Platform:
    """The registered platform with this issuer; without one, the only platform registered."""
    query = select(Platform).order_by(Platform.id)
    if issuer:
        query = query.where(Platform.issuer == issuer)
    found = list(db.scalars(query))
    if not found:
        raise click.ClickException(
            f"no platform {issuer!r} is registered"
            if issuer
            else "no platform is registered: run `plc-bridge platform add`"
        )
    if len(found) > 1:
        raise click.ClickException("several platforms are registered: name one with --issuer")
    return found[0]


def _database() -> Database:
    return open_database(settings_or_exit())


@click.command(
    "seed-demo", help="Create a synthetic district (Thai names, labelled synthetic) for demos and benchmarks."
)
@click.option("--size", type=click.Choice(sorted(SIZES)), default="small", show_default=True)
@click.option("--issuer", default=None, help="The platform whose courses the district uses (default: the only one).")
@click.option("--leader-sub", default=None, help="Make this LTI sub (on that platform) leader of the whole district.")
def seed_demo(size: str, issuer: str | None, leader_sub: str | None) -> None:
    started = time.perf_counter()

    def progress(message: str) -> None:
        click.echo(f"  {time.perf_counter() - started:6.1f} s  {message}")

    with _database().transaction() as db:
        platform = _platform(db, issuer)
        try:
            report = seed_district(
                db, platform, SIZES[size], today=date.today(), leader_sub=leader_sub, progress=progress
            )
        except AlreadySeeded as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(
        f"synthetic district {report.district_code} on {platform.issuer}: "
        + ", ".join(f"{count} {table}" for table, count in report.rows.items())
        + f" in {time.perf_counter() - started:.1f} s"
    )
    if leader_sub:
        click.echo(f"{leader_sub} leads it; open /dashboard after a launch")


@click.group(help="Districts, networks of schools and schools; where programs belong; the public summary.")
def districts() -> None:
    pass


@districts.command("import", help="Add districts, networks and schools from a CSV with the columns "
                   "district_code,district_name,network_code,network_name,school_code,school_name.")  # fmt: skip
@click.argument("csv_file", type=click.File(encoding="utf-8-sig"))
@click.option("--issuer", default=None)
def districts_import(csv_file: click.utils.LazyFile, issuer: str | None) -> None:
    with _database().transaction() as db:
        platform = _platform(db, issuer)
        try:
            added = import_structure(db, platform, read_structure_csv(csv_file))  # type: ignore[arg-type]
        except DistrictError as exc:
            raise click.ClickException(f"{exc}; nothing was imported") from exc
    click.echo(f"added {added[0]} districts, {added[1]} networks, {added[2]} schools")


@districts.command("list", help="Districts with their networks and school counts.")
@click.option("--issuer", default=None)
def districts_list(issuer: str | None) -> None:
    with _database().transaction() as db:
        platform = _platform(db, issuer)
        for district in db.scalars(select(District).where(District.platform_id == platform.id)):
            public = "public summary on" if district.public_summary else "public summary off"
            click.echo(f"{district.code}  {district.name}  ({public}, id {district.id})")
            for network in district.networks:
                click.echo(f"  {network.code}  {network.name}  {len(network.schools)} schools")


@districts.command("place-program", help="Tie a program to a school or a network of a district.")
@click.option("--program-id", type=int, required=True)
@click.option("--district", "district_code", required=True)
@click.option("--unit", "code", required=True, help="The school's or the network's code")
def districts_place_program(program_id: int, district_code: str, code: str) -> None:
    with _database().transaction() as db:
        program = db.get(Program, program_id)
        if program is None:
            raise click.ClickException(f"no program {program_id}")
        try:
            platform = db.get(Platform, program.platform_id)
            assert platform is not None  # a program's platform is a foreign key
            unit = find_unit(db, platform, district_code, code)
            place_program(db, program, unit)
        except DistrictError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"program {program_id} now belongs to {code} of {district_code}")


@districts.command("publish", help="Switch the district's public summary (aggregates only) on or off.")
@click.argument("district_code")
@click.option("--off", is_flag=True)
@click.option("--issuer", default=None)
def districts_publish(district_code: str, off: bool, issuer: str | None) -> None:
    with _database().transaction() as db:
        try:
            unit = find_unit(db, _platform(db, issuer), district_code)
        except DistrictError as exc:
            raise click.ClickException(str(exc)) from exc
        unit.district.public_summary = not off
        district_id = unit.district.id
    click.echo(f"public summary of {district_code}: {'off' if off else f'on at /public/districts/{district_id}'}")


@click.group(help="Who leads a district, a network or a school (and sees it on the dashboard).")
def leaders() -> None:
    pass


@leaders.command("add", help="Make a person (platform issuer + LTI sub) leader of a district, network or school.")
@click.option("--sub", required=True, help="The person's LTI sub (the user id the LMS sends)")
@click.option("--district", "district_code", required=True)
@click.option("--unit", "code", default=None, help="A network's or school's code; without it, the whole district")
@click.option("--issuer", default=None)
def leaders_add(sub: str, district_code: str, code: str | None, issuer: str | None) -> None:
    with _database().transaction() as db:
        platform = _platform(db, issuer)
        try:
            unit = find_unit(db, platform, district_code, code)
            add_leader(db, platform, sub, unit)
        except DistrictError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"{sub} now leads {code or 'the whole district'} of {district_code}")


@leaders.command("list", help="Leaders and what each leads.")
@click.option("--issuer", default=None)
def leaders_list(issuer: str | None) -> None:
    with _database().transaction() as db:
        platform = _platform(db, issuer)
        for leader in db.scalars(select(Leader).where(Leader.platform_id == platform.id).order_by(Leader.sub)):
            if leader.district_id is not None:
                district = db.get(District, leader.district_id)
                what = f"district {district.code if district else '?'}"
            elif leader.network_id is not None:
                network = db.get(Network, leader.network_id)
                what = f"network {network.code if network else '?'}"
            else:
                school = db.get(School, leader.school_id)
                what = f"school {school.code if school else '?'}"
            click.echo(f"{leader.sub}  {what}")


@leaders.command("remove", help="Take every leadership from a person.")
@click.option("--sub", required=True)
@click.option("--issuer", default=None)
def leaders_remove(sub: str, issuer: str | None) -> None:
    with _database().transaction() as db:
        count = remove_leader(db, _platform(db, issuer), sub)
    click.echo(f"{count} leaderships removed")


@click.group("dashboard", help="The district dashboard's figures.")
def dashboard() -> None:
    pass


@dashboard.command(
    "refresh",
    help="Rebuild the dashboard's figures in full (a repair: every change updates its program's figures live).",
)
@click.option("--district", "district_code", default=None)
@click.option("--issuer", default=None)
def dashboard_refresh(district_code: str | None, issuer: str | None) -> None:
    started = time.perf_counter()
    with _database().transaction() as db:
        if district_code:
            try:
                unit = find_unit(db, _platform(db, issuer), district_code)
            except DistrictError as exc:
                raise click.ClickException(str(exc)) from exc
            done = {district_code: refresh_district(db, unit.district)}
        else:
            done = refresh_all(db)
    for code, programs in done.items():
        click.echo(f"{code}: {programs} programs")
    click.echo(f"refreshed in {time.perf_counter() - started:.1f} s")


COMMANDS = (seed_demo, districts, leaders, dashboard)
