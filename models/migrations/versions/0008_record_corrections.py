"""record corrections: withdrawn sessions, the history of changes, the statement ids that corrections void

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plc_record_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["plc_programs.id"],
            name=op.f("fk_plc_record_changes_program_id_plc_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["memberships.id"],
            name=op.f("fk_plc_record_changes_changed_by_id_memberships"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_record_changes")),
    )
    with op.batch_alter_table("plc_record_changes", schema=None) as batch_op:
        batch_op.create_index("ix_plc_record_changes_kind_record_id", ["kind", "record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plc_record_changes_program_id"), ["program_id"], unique=False)

    with op.batch_alter_table("plc_element_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", models.base.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("plc_session_attendance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("statement_id", sa.String(length=36), nullable=True))
    with op.batch_alter_table("plc_completions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("statement_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plc_completions", schema=None) as batch_op:
        batch_op.drop_column("statement_id")
    with op.batch_alter_table("plc_session_attendance", schema=None) as batch_op:
        batch_op.drop_column("statement_id")
    with op.batch_alter_table("plc_element_sessions", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
    with op.batch_alter_table("plc_record_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plc_record_changes_program_id"))
        batch_op.drop_index("ix_plc_record_changes_kind_record_id")
    op.drop_table("plc_record_changes")
