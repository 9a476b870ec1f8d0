"""xapi outbox: statements and deliveries per destination

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "xapi_statements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=True),
        sa.Column("verb", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_xapi_statements_platform_id_platforms"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_statements")),
    )
    with op.batch_alter_table("xapi_statements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_xapi_statements_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_xapi_statements_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "xapi_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["xapi_statements.id"],
            name=op.f("fk_xapi_deliveries_statement_id_xapi_statements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_deliveries")),
        sa.UniqueConstraint("statement_id", "destination", name=op.f("uq_xapi_deliveries_statement_id_destination")),
    )
    with op.batch_alter_table("xapi_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_xapi_deliveries_claim", ["destination", "state", "next_attempt_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("xapi_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_xapi_deliveries_claim")

    op.drop_table("xapi_deliveries")
    with op.batch_alter_table("xapi_statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_xapi_statements_platform_id"))
        batch_op.drop_index(batch_op.f("ix_xapi_statements_created_at"))

    op.drop_table("xapi_statements")
