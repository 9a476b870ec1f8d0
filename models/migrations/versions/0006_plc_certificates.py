"""plc certificates and their bulk-issue jobs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plc_certificate_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                name="certificate_job_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["plc_programs.id"],
            name=op.f("fk_plc_certificate_jobs_program_id_plc_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["memberships.id"],
            name=op.f("fk_plc_certificate_jobs_requested_by_id_memberships"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_certificate_jobs")),
    )
    with op.batch_alter_table("plc_certificate_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plc_certificate_jobs_program_id"), ["program_id"], unique=False)

    op.create_table(
        "plc_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("holder_name", sa.String(length=255), nullable=False),
        sa.Column("program_name", sa.String(length=255), nullable=False),
        sa.Column("agency", sa.String(length=255), nullable=False),
        sa.Column("school_or_network", sa.String(length=255), nullable=False),
        sa.Column("cycles", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=False),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["issued_by_id"],
            ["memberships.id"],
            name=op.f("fk_plc_certificates_issued_by_id_memberships"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["memberships.id"],
            name=op.f("fk_plc_certificates_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["plc_programs.id"],
            name=op.f("fk_plc_certificates_program_id_plc_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["memberships.id"],
            name=op.f("fk_plc_certificates_revoked_by_id_memberships"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_certificates")),
        sa.UniqueConstraint("code", name=op.f("uq_plc_certificates_code")),
        sa.UniqueConstraint("program_id", "membership_id", name=op.f("uq_plc_certificates_program_id_membership_id")),
    )
    with op.batch_alter_table("plc_certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plc_certificates_membership_id"), ["membership_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plc_certificates_program_id"), ["program_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("plc_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plc_certificates_program_id"))
        batch_op.drop_index(batch_op.f("ix_plc_certificates_membership_id"))

    op.drop_table("plc_certificates")
    with op.batch_alter_table("plc_certificate_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plc_certificate_jobs_program_id"))

    op.drop_table("plc_certificate_jobs")
