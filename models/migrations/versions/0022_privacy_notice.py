"""the personal-data notice: each person's acknowledgement of each version of it

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_notice_acknowledgements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("acknowledged_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_privacy_notice_acknowledgements_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_notice_acknowledgements")),
        sa.UniqueConstraint("person_id", "version", name=op.f("uq_privacy_notice_acknowledgements_person_id_version")),
    )
    with op.batch_alter_table("privacy_notice_acknowledgements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_notice_acknowledgements_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("privacy_notice_acknowledgements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_notice_acknowledgements_person_id"))
    op.drop_table("privacy_notice_acknowledgements")
