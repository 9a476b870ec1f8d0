"""Migration 0028 on both databases: free-text learning areas and grade levels of programs and cycles become the
curriculum's list values where the spelling is sure, the rest stay as typed and are listed for a trainer, and every
text as it was is kept (nothing lost)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from models.curriculum import CurriculumMapping
from models.cycles import Cycle, off_the_lists
from models.database import Database
from models.migrate import downgrade, upgrade
from models.programs import Program
from tests.factories import make_course, planned_program

# (typed, what it becomes: the list value, or None when the migration is not sure and leaves it)
AREAS = [
    ("คณิต", "คณิตศาสตร์"),
    ("กลุ่มสาระการเรียนรู้วิทยาศาสตร์", "วิทยาศาสตร์และเทคโนโลยี"),
    (" ภาษาอังกฤษ ", "ภาษาต่างประเทศ"),
    ("Thai language", "ภาษาไทย"),
    ("คณิต+วิทย์ บูรณาการ", None),
    ("STEM", None),
]
GRADES = [
    ("ป 4", "ป.4"),
    ("ประถมศึกษาปีที่ ๖", "ป.6"),
    ("ม1", "ม.1"),
    ("อนุบาล 2", "อ.2"),
    ("ป.4-6", None),
    ("ช่วงชั้นที่ 2", None),
]


@pytest.fixture
def database(fresh_database: Database) -> Database:
    return fresh_database


def test_free_text_is_mapped_where_sure_and_the_rest_listed_with_nothing_lost(database: Database) -> None:
    upgrade(database.engine)
    with Session(database.engine) as db, db.begin():
        course = make_course(db, "free-text")
        program = planned_program(db, course)
        team = program.teams[0]
        cycles = [Cycle(team_id=team.id, number=n + 1) for n in range(len(AREAS))]
        db.add_all(cycles)
        db.flush()
        # Typed before the lists: written straight to the rows, as the earlier release kept them.
        db.execute(update(Program).where(Program.id == program.id).values(learning_area="คณิตศาสตร์ ", grade_level="ป4"))
        for cycle, (area, _), (grade, _) in zip(cycles, AREAS, GRADES, strict=True):
            db.execute(update(Cycle).where(Cycle.id == cycle.id).values(learning_area=area, grade_level=grade))
        program_id, cycle_ids = program.id, [c.id for c in cycles]
    downgrade(database.engine, "0025")

    upgrade(database.engine)

    with Session(database.engine) as db:
        program = db.get(Program, program_id)
        assert program is not None and (program.learning_area, program.grade_level) == ("คณิตศาสตร์", "ป.4")
        found = {c.id: (c.learning_area, c.grade_level) for c in db.scalars(select(Cycle))}
        for cycle_id, (typed_area, area), (typed_grade, grade) in zip(cycle_ids, AREAS, GRADES, strict=True):
            # Mapped where sure; left exactly as typed where not.
            assert found[cycle_id] == (area or typed_area, grade or typed_grade)
        mappings = db.scalars(select(CurriculumMapping).order_by(CurriculumMapping.id)).all()
        kept = {(m.table_name, m.row_id, m.field): (m.original, m.mapped) for m in mappings}
        # Nothing lost: every text that was not a list value already is kept as it was, with what it became.
        assert kept[("plc_programs", program_id, "learning_area")] == ("คณิตศาสตร์ ", "คณิตศาสตร์")
        assert kept[("plc_programs", program_id, "grade_level")] == ("ป4", "ป.4")
        for cycle_id, (typed_area, area), (typed_grade, grade) in zip(cycle_ids, AREAS, GRADES, strict=True):
            assert kept[("plc_cycles", cycle_id, "learning_area")] == (typed_area, area)
            assert kept[("plc_cycles", cycle_id, "grade_level")] == (typed_grade, grade)
        # The unsure ones are listed for the trainer, on the program's page.
        listed = {(item.number, item.field, item.text) for item in off_the_lists(db, program)}
        assert listed == {
            (5, "learning_area", "คณิต+วิทย์ บูรณาการ"),
            (6, "learning_area", "STEM"),
            (5, "grade_level", "ป.4-6"),
            (6, "grade_level", "ช่วงชั้นที่ 2"),
        }
        edited = cycle_ids[0]
        db.execute(update(Cycle).where(Cycle.id == edited).values(learning_area="ภาษาไทย"))  # changed since: kept
        db.commit()

    downgrade(database.engine, "0027")

    with database.engine.connect() as connection:
        program_texts = connection.execute(
            text("SELECT learning_area, grade_level FROM plc_programs WHERE id = :id"), {"id": program_id}
        ).one()
        cycle_texts = dict(
            (row[0], (row[1], row[2]))
            for row in connection.execute(text("SELECT id, learning_area, grade_level FROM plc_cycles"))
        )
    assert tuple(program_texts) == ("คณิตศาสตร์ ", "ป4")  # the originals are back
    for cycle_id, (typed_area, _), (typed_grade, _) in zip(cycle_ids, AREAS, GRADES, strict=True):
        assert cycle_texts[cycle_id] == ("ภาษาไทย" if cycle_id == edited else typed_area, typed_grade)
    database.dispose()
