"""observation corrections: withdrawn Buddy observations and the id of their `observed` statement (to void it)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plc_observations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("statement_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plc_observations", schema=None) as batch_op:
        batch_op.drop_column("statement_id")
        batch_op.drop_column("withdrawn_at")
