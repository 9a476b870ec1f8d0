"""the Council's approval letter number corrected (or recorded for a program approved before letters were kept), kept
in the program's history

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

KINDS_BEFORE = ("cancelled", "reopened", "approval_corrected", "withdrawn")
KINDS = (*KINDS_BEFORE, "approval_letter_corrected")


def _kinds(values: tuple[str, ...]) -> str:
    return "kind IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def upgrade() -> None:
    # A new kind of step in the history: the check of the kinds is widened (it only ever allows more).
    with op.batch_alter_table("plc_program_history", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_plc_program_history_program_change_kind"), type_="check")
        batch_op.create_check_constraint("program_change_kind", _kinds(KINDS))


def downgrade() -> None:
    with op.batch_alter_table("plc_program_history", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_plc_program_history_program_change_kind"), type_="check")
        batch_op.create_check_constraint("program_change_kind", _kinds(KINDS_BEFORE))
