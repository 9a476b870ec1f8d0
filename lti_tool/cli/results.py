"""`plc-bridge results import FILE`: a district's national and school test results (O-NET, NT, RT) from the CSV or
XLSX the testing bodies publish (docs/test-results.md); everything or nothing."""

from __future__ import annotations

from pathlib import Path

import click

from lti_tool.cli.district import _database, _platform
from models.district import DistrictError, find_unit
from models.exam_results import Refused, import_file


def describe(refused: Refused) -> str:
    parts = []
    if refused.unreadable:
        parts.append(f"the file could not be read as a table ({refused.unreadable})")
    if refused.missing_columns:
        parts.append("missing columns: " + ", ".join(refused.missing_columns))
    if refused.unknown_schools:
        parts.append("schools not in the district: " + ", ".join(refused.unknown_schools))
    if refused.unknown_tests:
        parts.append("unknown tests or grades: " + ", ".join(refused.unknown_tests))
    if refused.unknown_subjects:
        parts.append("unknown subjects: " + ", ".join(refused.unknown_subjects))
    if refused.bad_values:
        parts.append("not a number from 0 to 100: " + ", ".join(f"line {n} {c}" for n, c in refused.bad_values))
    return "; ".join(parts) + ". Nothing was written."


@click.group("results", help="National and school test results (O-NET, NT, RT).")
def results() -> None:
    pass


@results.command(
    "import", help="Import a district's test results from CSV or XLSX; a file with any problem is refused whole."
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--district", "district_code", required=True, help="The district's code (plc-bridge districts list).")
@click.option("--issuer", default=None, help="The platform of the district (default: the only one).")
def results_import(file: Path, district_code: str, issuer: str | None) -> None:
    with _database().transaction() as db:
        try:
            unit = find_unit(db, _platform(db, issuer), district_code)
            imported = import_file(db, unit.district, file.name, file.read_bytes())
        except DistrictError as exc:
            raise click.ClickException(str(exc)) from exc
        except Refused as refused:
            raise click.ClickException(describe(refused)) from refused
    years = ", ".join(str(year + 543) for year in imported.years)
    click.echo(f"{district_code}: {imported.results} results of {imported.schools} schools, years {years} (B.E.)")


COMMANDS = (results,)
