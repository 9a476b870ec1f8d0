"""dashboard goals: per program, the cycles whose results report met its goal, did not, or did not say

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

COLUMNS = ("goals_met", "goals_not_met", "goals_not_reported")


def upgrade() -> None:
    # The rows already there count nothing until the next refresh recomputes them (every 15 minutes in production).
    with op.batch_alter_table("dashboard_program_stats", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("dashboard_program_stats", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
