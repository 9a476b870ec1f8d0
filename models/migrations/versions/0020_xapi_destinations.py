"""the LRS destinations the workers deliver to, with the mark up to which the outbox is queued for each (an LRS
configured later gets every statement written before it)

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No row for the LRSs already configured: the worker's first pass finds the statements written before them
    # (the outbox's "No LRS yet" backlog included) and queues each once.
    op.create_table(
        "xapi_destinations",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("queued_through_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("queued_through_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_xapi_destinations")),
    )


def downgrade() -> None:
    op.drop_table("xapi_destinations")
