"""the dashboard's figures added up per district (district, year, learning area and grade; results also by measure;
the teachers' own levels by district, year, competency and phase), kept with the program rows, so that a leader of
whole districts (a province, the OBEC level) reads 25,000 rows instead of the nation's program rows
(models/dashboard_rollup.py); empty after the upgrade: `models.migrate.upgrade` fills them from the program rows

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

HOURS = ("teacher_hours", "hours_e1", "hours_e2", "hours_e3", "hours_e4", "hours_e5")
COUNTS = ("teachers", "teachers_eligible", "cycles", "cycles_completed")
LATER_COUNTS = ("model_lessons", "observations", "reflections", "reflections_graded", "goals_met", "goals_not_met",
                "goals_not_reported")  # fmt: skip


def _district(table: str) -> list[sa.Column[int] | sa.ForeignKeyConstraint]:
    return [
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f(f"fk_{table}_district_id_districts"), ondelete="CASCADE"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "dashboard_district_stats",
        *_district("dashboard_district_stats"),
        sa.Column("learning_area", sa.String(length=255), nullable=False),
        sa.Column("grade_level", sa.String(length=64), nullable=False),
        sa.Column("programs", sa.Integer(), nullable=False),
        sa.Column("programs_running", sa.Integer(), nullable=False),
        sa.Column("teams", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        *(sa.Column(name, sa.Numeric(precision=14, scale=2), nullable=False) for name in HOURS),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in LATER_COUNTS),
        sa.Column("refreshed_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "district_id", "year", "learning_area", "grade_level", name=op.f("pk_dashboard_district_stats")
        ),
    )
    op.create_index(op.f("ix_dashboard_district_stats_refreshed_at"), "dashboard_district_stats", ["refreshed_at"])
    op.create_table(
        "dashboard_district_result_stats",
        *_district("dashboard_district_result_stats"),
        sa.Column("learning_area", sa.String(length=255), nullable=False),
        sa.Column("grade_level", sa.String(length=64), nullable=False),
        sa.Column("measure", sa.String(length=8), nullable=False),
        sa.Column("cycles", sa.Integer(), nullable=False),
        sa.Column("baseline_sum", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("result_sum", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("improved", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "district_id",
            "year",
            "learning_area",
            "grade_level",
            "measure",
            name=op.f("pk_dashboard_district_result_stats"),
        ),
    )
    op.create_table(
        "dashboard_district_competency_stats",
        *_district("dashboard_district_competency_stats"),
        sa.Column("competency", sa.String(length=8), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("teachers", sa.Integer(), nullable=False),
        sa.Column("level_sum", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "district_id", "year", "competency", "phase", name=op.f("pk_dashboard_district_competency_stats")
        ),
    )


def downgrade() -> None:
    op.drop_table("dashboard_district_competency_stats")
    op.drop_table("dashboard_district_result_stats")
    op.drop_index(op.f("ix_dashboard_district_stats_refreshed_at"), table_name="dashboard_district_stats")
    op.drop_table("dashboard_district_stats")
