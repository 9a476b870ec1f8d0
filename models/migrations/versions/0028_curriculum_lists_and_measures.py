"""curriculum lists and measures: programs' and cycles' free-text learning areas and grade levels mapped onto the
curriculum's lists where sure (curriculum_mappings keeps every text as it was, and lists those left for a trainer),
and a cycle's measure (what, how, out of N, for how many pupils)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

import models.base
from models import curriculum

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

# The tables whose free text is mapped; the dashboard's summary rows are rebuilt from them.
TABLES = ("plc_programs", "plc_cycles")


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
            for field, text in ((curriculum.LEARNING_AREA, area), (curriculum.GRADE_LEVEL, grade)):
                if not text or curriculum.listed(field, text):
                    continue
                mapped = curriculum.canonical(field, text)
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
    # The mapped texts stay mapped (a list value is a text the earlier release reads as well).
    with op.batch_alter_table("dashboard_result_stats") as batch:
        batch.drop_column("measure")
    with op.batch_alter_table("plc_cycles") as batch:
        batch.drop_column("pupils")
        batch.drop_column("measure_out_of")
        batch.drop_column("measure_kind")
        batch.drop_column("measure")
    op.drop_table("curriculum_mappings")
