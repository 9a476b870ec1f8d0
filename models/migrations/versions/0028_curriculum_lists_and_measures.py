"""curriculum lists and measures: programs' and cycles' free-text learning areas and grade levels mapped onto the
curriculum's lists where sure (curriculum_mappings keeps every text as it was, and lists those left for a trainer),
and a cycle's measure (what, how, out of N, for how many pupils)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06
"""

import re

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

# The tables whose free text is mapped; the dashboard's summary rows are rebuilt from them.
TABLES = ("plc_programs", "plc_cycles")
LEARNING_AREA, GRADE_LEVEL = "learning_area", "grade_level"

# The curriculum's lists as they were when this migration was written (config/curriculum.json then), frozen here so
# that a later change of the lists never changes what this migration does: each value with the spellings it names.
LISTS: dict[str, dict[str, tuple[str, ...]]] = {
    "learning_area": {
        "ภาษาไทย": ("ไทย", "ภาษาไทย", "วิชาภาษาไทย", "thai", "thai language", "Thai Language"),
        "คณิตศาสตร์": ("คณิต", "คณิตศาสตร์", "คณิตฯ", "วิชาคณิตศาสตร์", "math", "maths", "mathematics", "Mathematics"),
        "วิทยาศาสตร์และเทคโนโลยี": (
            "วิทย์",
            "วิทยาศาสตร์",
            "วิทยาศาสตร์และเทคโนโลยี",
            "วิทยาศาสตร์ฯ",
            "วิทยาการคำนวณ",
            "science",
            "science and technology",
            "Science and Technology",
        ),
        "สังคมศึกษา ศาสนา และวัฒนธรรม": (
            "สังคม",
            "สังคมศึกษา",
            "สังคมศึกษาศาสนาและวัฒนธรรม",
            "สังคมศึกษาฯ",
            "social studies",
            "social studies, religion and culture",
            "สังคมศึกษา ศาสนา และวัฒนธรรม",
            "Social Studies, Religion and Culture",
        ),
        "สุขศึกษาและพลศึกษา": (
            "สุขศึกษา",
            "พลศึกษา",
            "สุขศึกษาและพลศึกษา",
            "สุขศึกษาพลศึกษา",
            "สุขศึกษาฯ",
            "health",
            "physical education",
            "health and physical education",
            "Health and Physical Education",
        ),
        "ศิลปะ": ("ศิลปะ", "ศิลป์", "ทัศนศิลป์", "ดนตรี", "นาฏศิลป์", "arts", "art", "Arts"),
        "การงานอาชีพ": (
            "การงาน",
            "การงานอาชีพ",
            "การงานอาชีพและเทคโนโลยี",
            "การงานฯ",
            "occupations",
            "careers",
            "Occupations",
        ),
        "ภาษาต่างประเทศ": (
            "ภาษาต่างประเทศ",
            "ต่างประเทศ",
            "ภาษาอังกฤษ",
            "อังกฤษ",
            "english",
            "foreign languages",
            "foreign language",
            "Foreign Languages",
        ),
    },
    "grade_level": {
        "อ.1": ("อนุบาล1", "อนุบาลปีที่1", "อ1", "k1", "อ.1", "Kindergarten 1"),
        "อ.2": ("อนุบาล2", "อนุบาลปีที่2", "อ2", "k2", "อ.2", "Kindergarten 2"),
        "อ.3": ("อนุบาล3", "อนุบาลปีที่3", "อ3", "k3", "อ.3", "Kindergarten 3"),
        "ป.1": ("ป1", "ประถมศึกษาปีที่1", "ประถม1", "p1", "grade1", "ป.1", "Primary 1 (Grade 1)"),
        "ป.2": ("ป2", "ประถมศึกษาปีที่2", "ประถม2", "p2", "grade2", "ป.2", "Primary 2 (Grade 2)"),
        "ป.3": ("ป3", "ประถมศึกษาปีที่3", "ประถม3", "p3", "grade3", "ป.3", "Primary 3 (Grade 3)"),
        "ป.4": ("ป4", "ประถมศึกษาปีที่4", "ประถม4", "p4", "grade4", "ป.4", "Primary 4 (Grade 4)"),
        "ป.5": ("ป5", "ประถมศึกษาปีที่5", "ประถม5", "p5", "grade5", "ป.5", "Primary 5 (Grade 5)"),
        "ป.6": ("ป6", "ประถมศึกษาปีที่6", "ประถม6", "p6", "grade6", "ป.6", "Primary 6 (Grade 6)"),
        "ม.1": ("ม1", "มัธยมศึกษาปีที่1", "มัธยม1", "m1", "grade7", "ม.1", "Secondary 1 (Grade 7)"),
        "ม.2": ("ม2", "มัธยมศึกษาปีที่2", "มัธยม2", "m2", "grade8", "ม.2", "Secondary 2 (Grade 8)"),
        "ม.3": ("ม3", "มัธยมศึกษาปีที่3", "มัธยม3", "m3", "grade9", "ม.3", "Secondary 3 (Grade 9)"),
        "ม.4": ("ม4", "มัธยมศึกษาปีที่4", "มัธยม4", "m4", "grade10", "ม.4", "Secondary 4 (Grade 10)"),
        "ม.5": ("ม5", "มัธยมศึกษาปีที่5", "มัธยม5", "m5", "grade11", "ม.5", "Secondary 5 (Grade 11)"),
        "ม.6": ("ม6", "มัธยมศึกษาปีที่6", "มัธยม6", "m6", "grade12", "ม.6", "Secondary 6 (Grade 12)"),
    },
}
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_PREFIXES = ("กลุ่มสาระการเรียนรู้", "กลุ่มสาระฯ", "กลุ่มสาระ", "ระดับชั้น", "ชั้น", "วิชา")


def _comparable(text: str) -> str:
    """As models/curriculum.py compared texts when this migration was written."""
    found = text.translate(_THAI_DIGITS).casefold().strip()
    found = re.sub(r"[\s.,()\[\]/]+", "", found)
    for prefix in _PREFIXES:
        if found.startswith(prefix) and len(found) > len(prefix):
            found = found[len(prefix) :]
    return found


def _listed(field: str, text: str) -> bool:
    return text in LISTS[field]


def _canonical(field: str, text: str) -> str | None:
    index = {_comparable(spelling): value for value, spellings in LISTS[field].items() for spelling in spellings}
    return index.get(_comparable(text))


def upgrade() -> None:
    op.create_table(
        "curriculum_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("original", sa.Text(), nullable=False),
        sa.Column("mapped", sa.String(length=255), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_curriculum_mappings")),
    )
    with op.batch_alter_table("plc_cycles") as batch:
        batch.add_column(sa.Column("measure", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("measure_kind", sa.String(length=16), server_default="", nullable=False))
        batch.add_column(sa.Column("measure_out_of", sa.Numeric(precision=12, scale=3), nullable=True))
        batch.add_column(sa.Column("pupils", sa.Integer(), nullable=True))
    # The summary rows already there count as measures not stated until they are rebuilt (plc-bridge dashboard
    # refresh), which never mixes them with stated ones.
    with op.batch_alter_table("dashboard_result_stats") as batch:
        batch.add_column(sa.Column("measure", sa.String(length=8), server_default="", nullable=False))
    map_free_text(op.get_bind())


def restore_originals(bind: sa.engine.Connection) -> None:
    """Every text the upgrade mapped goes back to what it was, where the row still holds what it was mapped to (a
    text changed since is the newer one, kept)."""
    mappings = sa.table(
        "curriculum_mappings",
        sa.column("table_name", sa.String),
        sa.column("row_id", sa.Integer),
        sa.column("field", sa.String),
        sa.column("original", sa.Text),
        sa.column("mapped", sa.String),
    )
    rows = bind.execute(
        sa.select(
            mappings.c.table_name, mappings.c.row_id, mappings.c.field, mappings.c.original, mappings.c.mapped
        ).where(mappings.c.mapped.is_not(None), mappings.c.mapped != "")
    ).all()
    for name, row_id, field, original, mapped in rows:
        if name not in TABLES or field not in (LEARNING_AREA, GRADE_LEVEL):
            continue
        table = sa.table(name, sa.column("id", sa.Integer), sa.column(field))
        bind.execute(sa.update(table).where(table.c.id == row_id, table.c[field] == mapped).values({field: original}))


def map_free_text(bind: sa.engine.Connection) -> None:
    """Every non-empty text that is not a list value already: replaced by the list value it names for sure, else
    left as it is; either way recorded in curriculum_mappings with the text as it was."""
    mappings = sa.table(
        "curriculum_mappings",
        sa.column("table_name", sa.String),
        sa.column("row_id", sa.Integer),
        sa.column("field", sa.String),
        sa.column("original", sa.Text),
        sa.column("mapped", sa.String),
        sa.column("created_at", models.base.UTCDateTime(timezone=True)),
    )
    now = models.base.utcnow()
    for name in TABLES:
        table = sa.table(name, sa.column("id", sa.Integer), sa.column("learning_area"), sa.column("grade_level"))
        rows = bind.execute(
            sa.select(table.c.id, table.c.learning_area, table.c.grade_level).order_by(table.c.id)
        ).all()
        for row_id, area, grade in rows:
            changes = {}
            for field, text in ((LEARNING_AREA, area), (GRADE_LEVEL, grade)):
                if not text or _listed(field, text):
                    continue
                mapped = _canonical(field, text) if text.strip() else ""
                bind.execute(
                    sa.insert(mappings).values(
                        table_name=name, row_id=row_id, field=field, original=text, mapped=mapped, created_at=now
                    )
                )
                if mapped:
                    changes[field] = mapped
            if changes:
                bind.execute(sa.update(table).where(table.c.id == row_id).values(**changes))


def downgrade() -> None:
    restore_originals(op.get_bind())
    with op.batch_alter_table("dashboard_result_stats") as batch:
        batch.drop_column("measure")
    with op.batch_alter_table("plc_cycles") as batch:
        batch.drop_column("pupils")
        batch.drop_column("measure_out_of")
        batch.drop_column("measure_kind")
        batch.drop_column("measure")
    op.drop_table("curriculum_mappings")
