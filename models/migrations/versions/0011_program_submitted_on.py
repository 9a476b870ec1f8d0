"""the day a program was submitted to the Council, before which it cannot have been approved

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plc_programs") as batch:
        batch.add_column(sa.Column("submitted_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plc_programs") as batch:
        batch.drop_column("submitted_on")
