"""an OIDC login's state signed by the tool instead of stored: a login writes no row, and a launch spends its nonce
in `spent_nonces` (one INSERT that cannot be repeated). `login_requests` is no longer written; it stays until a later
release drops it (old processes serve during the upgrade). A login started on one side of the upgrade and launched
on the other is refused as unknown, and the person launches again.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spent_nonces",
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("spent_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_spent_nonces")),
    )
    with op.batch_alter_table("spent_nonces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spent_nonces_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("spent_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spent_nonces_expires_at"))
    op.drop_table("spent_nonces")
