"""personal data (PDPA): the read log (who read another person's record) and the retention runs

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "read_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=True),
        sa.Column("reader_membership_id", sa.Integer(), nullable=True),
        sa.Column("reader_person_id", sa.Integer(), nullable=True),
        sa.Column("subject_membership_id", sa.Integer(), nullable=True),
        sa.Column("subject_person_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("read_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_id"], ["contexts.id"], name=op.f("fk_read_log_context_id_contexts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_read_log_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reader_membership_id"],
            ["memberships.id"],
            name=op.f("fk_read_log_reader_membership_id_memberships"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reader_person_id"], ["people.id"], name=op.f("fk_read_log_reader_person_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["subject_membership_id"],
            ["memberships.id"],
            name=op.f("fk_read_log_subject_membership_id_memberships"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subject_person_id"], ["people.id"], name=op.f("fk_read_log_subject_person_id_people"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_read_log")),
    )
    with op.batch_alter_table("read_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_read_log_platform_id"), ["platform_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_read_log_read_at"), ["read_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_read_log_reader_person_id"), ["reader_person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_read_log_subject_person_id"), ["subject_person_id"], unique=False)
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ran_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
    )
    with op.batch_alter_table("retention_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retention_runs_ran_at"), ["ran_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("retention_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retention_runs_ran_at"))
    op.drop_table("retention_runs")
    with op.batch_alter_table("read_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_read_log_subject_person_id"))
        batch_op.drop_index(batch_op.f("ix_read_log_reader_person_id"))
        batch_op.drop_index(batch_op.f("ix_read_log_read_at"))
        batch_op.drop_index(batch_op.f("ix_read_log_platform_id"))
    op.drop_table("read_log")
