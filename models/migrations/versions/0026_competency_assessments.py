"""competency assessments (plc_competency_assessments), a program's target competencies, and the dashboard's
assessed levels per program, competency and phase (dashboard_competency_stats)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plc_programs") as batch:
        batch.add_column(
            sa.Column("target_competencies", sa.String(length=64), server_default="C3,C4,F5", nullable=False)
        )
    op.create_table(
        "plc_competency_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("rater_id", sa.Integer(), nullable=False),
        sa.Column(
            "rater_kind",
            sa.Enum("self", "trainer", name="rater_kind", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column(
            "phase",
            sa.Enum("start", "end", name="assessment_phase", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("competency", sa.String(length=8), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("scale_id", sa.String(length=64), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=True),
        sa.CheckConstraint("level >= 0", name=op.f("ck_plc_competency_assessments_level_not_negative")),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["memberships.id"],
            name=op.f("fk_plc_competency_assessments_membership_id_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["plc_programs.id"],
            name=op.f("fk_plc_competency_assessments_program_id_plc_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rater_id"], ["memberships.id"], name=op.f("fk_plc_competency_assessments_rater_id_memberships")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_competency_assessments")),
        sa.UniqueConstraint(
            "program_id",
            "membership_id",
            "rater_kind",
            "phase",
            "competency",
            name="uq_plc_competency_assessments_one_rating",
        ),
    )
    op.create_index(
        "ix_plc_competency_assessments_program", "plc_competency_assessments", ["program_id", "phase"], unique=False
    )
    op.create_index(
        op.f("ix_plc_competency_assessments_membership_id"),
        "plc_competency_assessments",
        ["membership_id"],
        unique=False,
    )

    op.create_table(
        "dashboard_competency_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("learning_area", sa.String(length=255), nullable=False),
        sa.Column("grade_level", sa.String(length=64), nullable=False),
        sa.Column("competency", sa.String(length=8), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("teachers", sa.Integer(), nullable=False),
        sa.Column("level_sum", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_dashboard_competency_stats_district_id_districts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["district_networks.id"],
            name=op.f("fk_dashboard_competency_stats_network_id_district_networks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["plc_programs.id"],
            name=op.f("fk_dashboard_competency_stats_program_id_plc_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["district_schools.id"],
            name=op.f("fk_dashboard_competency_stats_school_id_district_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_competency_stats")),
    )
    op.create_index(
        "ix_dashboard_competency_stats_district_year",
        "dashboard_competency_stats",
        ["district_id", "year"],
        unique=False,
    )
    op.create_index(
        op.f("ix_dashboard_competency_stats_program_id"), "dashboard_competency_stats", ["program_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_dashboard_competency_stats_program_id"), table_name="dashboard_competency_stats")
    op.drop_index("ix_dashboard_competency_stats_district_year", table_name="dashboard_competency_stats")
    op.drop_table("dashboard_competency_stats")
    op.drop_index(op.f("ix_plc_competency_assessments_membership_id"), table_name="plc_competency_assessments")
    op.drop_index("ix_plc_competency_assessments_program", table_name="plc_competency_assessments")
    op.drop_table("plc_competency_assessments")
    with op.batch_alter_table("plc_programs") as batch:
        batch.drop_column("target_competencies")
