"""a person erased at their request (PDPA): when, on the person's row, and each erasure kept with who, when, why and
the district's pseudonym

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", models.base.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "person_erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("erased_by_id", sa.Integer(), nullable=True),
        sa.Column("erased_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["erased_by_id"], ["people.id"], name=op.f("fk_person_erasures_erased_by_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_person_erasures_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_person_erasures_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_erasures")),
        sa.UniqueConstraint("platform_id", "pseudonym", name=op.f("uq_person_erasures_platform_id_pseudonym")),
    )
    with op.batch_alter_table("person_erasures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_erasures_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_erasures_platform_id"), ["platform_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("person_erasures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_erasures_platform_id"))
        batch_op.drop_index(batch_op.f("ix_person_erasures_person_id"))
    op.drop_table("person_erasures")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
