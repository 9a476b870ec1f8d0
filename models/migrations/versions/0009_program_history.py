"""program history: cancelled, reopened, approval date corrected

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plc_program_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=True),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "cancelled",
                "reopened",
                "approval_corrected",
                name="program_change_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("before", sa.String(length=64), nullable=False),
        sa.Column("after", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["memberships.id"],
            name=op.f("fk_plc_program_history_membership_id_memberships"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["plc_programs.id"],
            name=op.f("fk_plc_program_history_program_id_plc_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_program_history")),
    )
    with op.batch_alter_table("plc_program_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plc_program_history_program_id"), ["program_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("plc_program_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plc_program_history_program_id"))
    op.drop_table("plc_program_history")
