"""indexes on the dashboard's result and competency rows by network and by school: a network's or a school's
leader read every row of the nation without them (bench/national.py: one school's view 117 ms at the national size,
of which 58 ms reading all 390,000 competency rows)

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06
"""

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_dashboard_result_stats_network", "dashboard_result_stats", "network_id"),
    ("ix_dashboard_result_stats_school", "dashboard_result_stats", "school_id"),
    ("ix_dashboard_competency_stats_network", "dashboard_competency_stats", "network_id"),
    ("ix_dashboard_competency_stats_school", "dashboard_competency_stats", "school_id"),
]


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _column in reversed(INDEXES):
        op.drop_index(name, table_name=table)
