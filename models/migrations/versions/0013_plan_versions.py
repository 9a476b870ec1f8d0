"""plan versions: each submission to the Council kept as a numbered snapshot, withdrawn or approved by its letter;
a withdrawn submission in the program's history

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

KINDS_BEFORE = ("cancelled", "reopened", "approval_corrected")
KINDS = (*KINDS_BEFORE, "withdrawn")


def _kinds(values: tuple[str, ...]) -> str:
    return "kind IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def upgrade() -> None:
    op.create_table(
        "plc_plan_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=False),
        sa.Column("council_letter_number", sa.String(length=100), nullable=False),
        sa.Column("council_letter_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["plc_programs.id"],
            name=op.f("fk_plc_plan_versions_program_id_plc_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_plan_versions")),
        sa.UniqueConstraint("program_id", "number", name=op.f("uq_plc_plan_versions_program_id_number")),
    )
    with op.batch_alter_table("plc_plan_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plc_plan_versions_program_id"), ["program_id"], unique=False)
    # A new kind of step in the history: the check of the kinds is widened (it only ever allows more).
    with op.batch_alter_table("plc_program_history", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_plc_program_history_program_change_kind"), type_="check")
        batch_op.create_check_constraint("program_change_kind", _kinds(KINDS))


def downgrade() -> None:
    with op.batch_alter_table("plc_program_history", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_plc_program_history_program_change_kind"), type_="check")
        batch_op.create_check_constraint("program_change_kind", _kinds(KINDS_BEFORE))
    with op.batch_alter_table("plc_plan_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plc_plan_versions_program_id"))
    op.drop_table("plc_plan_versions")
