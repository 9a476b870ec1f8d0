"""national and school test results: O-NET, NT and RT means per school, district and nation, subject and year

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exam_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("test", sa.String(length=8), nullable=False),
        sa.Column("grade_level", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("mean", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("pupils", sa.Integer(), nullable=True),
        sa.Column("imported_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_exam_results_district_id_districts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["district_schools.id"],
            name=op.f("fk_exam_results_school_id_district_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_results")),
    )
    op.create_index("ix_exam_results_district_year", "exam_results", ["district_id", "year"])
    op.create_index("ix_exam_results_school", "exam_results", ["school_id"])
    op.create_index("ix_exam_results_key", "exam_results", ["test", "grade_level", "subject", "year"])


def downgrade() -> None:
    op.drop_index("ix_exam_results_key", table_name="exam_results")
    op.drop_index("ix_exam_results_school", table_name="exam_results")
    op.drop_index("ix_exam_results_district_year", table_name="exam_results")
    op.drop_table("exam_results")
