"""the Council's windows and who cancelled: certificates issued after the 30 days keep that day and the reason (and so
does the bulk job that issues them); a cancelled program keeps whether the agency or the Council cancelled it, with
the Council's letter

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plc_certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("late_after", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("late_reason", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("plc_certificate_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("late_reason", sa.Text(), server_default="", nullable=False))
    op.create_table(
        "plc_program_cancellations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column(
            "cancelled_by",
            sa.Enum("agency", "council", name="cancelled_by", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("letter_number", sa.String(length=64), nullable=False),
        sa.Column("letter_date", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "cancelled_by <> 'council' OR (letter_number <> '' AND letter_date IS NOT NULL)",
            name=op.f("ck_plc_program_cancellations_council_cancellation_has_letter"),
        ),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["plc_program_history.id"],
            name=op.f("fk_plc_program_cancellations_change_id_plc_program_history"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["plc_programs.id"],
            name=op.f("fk_plc_program_cancellations_program_id_plc_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_program_cancellations")),
        sa.UniqueConstraint("change_id", name=op.f("uq_plc_program_cancellations_change_id")),
        sa.UniqueConstraint("program_id", name=op.f("uq_plc_program_cancellations_program_id")),
    )


def downgrade() -> None:
    op.drop_table("plc_program_cancellations")
    with op.batch_alter_table("plc_certificate_jobs", schema=None) as batch_op:
        batch_op.drop_column("late_reason")
    with op.batch_alter_table("plc_certificates", schema=None) as batch_op:
        batch_op.drop_column("late_reason")
        batch_op.drop_column("late_after")
