"""each team's share of its program's dashboard figures, so that a change inside a team moves its program's row by
the difference alone (models/team_figures.py); empty after the upgrade: a program's first change, or
`plc-bridge dashboard refresh`, fills its teams' rows

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

HOURS = ("teacher_hours", "hours_e1", "hours_e2", "hours_e3", "hours_e4", "hours_e5")
COUNTS = ("teachers", "teachers_eligible", "cycles", "cycles_completed")
LATER_COUNTS = ("model_lessons", "observations", "reflections", "reflections_graded", "goals_met", "goals_not_met",
                "goals_not_reported")  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "dashboard_team_stats",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        *(sa.Column(name, sa.Numeric(precision=14, scale=2), nullable=False) for name in HOURS),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in LATER_COUNTS),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["plc_programs.id"],
            name=op.f("fk_dashboard_team_stats_program_id_plc_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["plc_teams.id"], name=op.f("fk_dashboard_team_stats_team_id_plc_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_dashboard_team_stats")),
    )
    op.create_index(op.f("ix_dashboard_team_stats_program_id"), "dashboard_team_stats", ["program_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_dashboard_team_stats_program_id"), table_name="dashboard_team_stats")
    op.drop_table("dashboard_team_stats")
