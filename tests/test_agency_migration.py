"""Migration 0014 on both databases: each program's free-text agency becomes an agency of kind "other" of its course,
one per course and name, and the text stays readable where it was."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.agencies import Agency, AgencyKind
from models.database import Database
from models.migrate import downgrade, upgrade
from models.programs import Program, ProgramDetails, new_program
from tests.factories import make_course


@pytest.fixture
def database(fresh_database: Database) -> Database:
    return fresh_database


def downgrade_to(database: Database, revision: str) -> None:
    downgrade(database.engine, revision)


def test_free_text_agencies_become_agencies_of_kind_other_of_their_course(database: Database) -> None:
    upgrade(database.engine)
    with Session(database.engine) as db, db.begin():
        math, science = make_course(db, "math"), make_course(db, "science")
        for course, name, agency in ((math, "ปี 1", "สพป. ตัวอย่าง"), (math, "ปี 2", "สพป. ตัวอย่าง "),
                                     (science, "ปี 1", "สพป. ตัวอย่าง"), (science, "ปี 2", "")):  # fmt: skip
            new_program(db, course.scope, ProgramDetails(name=name, agency=agency))
    downgrade_to(database, "0012")  # as before this release: text only

    upgrade(database.engine)

    with Session(database.engine) as db:
        agencies = db.scalars(select(Agency).order_by(Agency.id)).all()
        assert [(a.name, a.kind, a.context_id) for a in agencies] == [
            ("สพป. ตัวอย่าง", AgencyKind.OTHER, math.scope.context_id),
            ("สพป. ตัวอย่าง", AgencyKind.OTHER, science.scope.context_id),
        ]
        by_program = {(p.context_id, p.name): (p.agency_id, p.agency) for p in db.scalars(select(Program))}
    assert by_program == {
        (math.scope.context_id, "ปี 1"): (agencies[0].id, "สพป. ตัวอย่าง"),
        (math.scope.context_id, "ปี 2"): (agencies[0].id, "สพป. ตัวอย่าง "),
        (science.scope.context_id, "ปี 1"): (agencies[1].id, "สพป. ตัวอย่าง"),
        (science.scope.context_id, "ปี 2"): (None, ""),
    }
    database.dispose()
