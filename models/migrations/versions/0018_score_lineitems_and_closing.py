"""scores find their line item by the course's line-items service; a score says why it waits or failed, and is closed
as superseded or dismissed (with who, when and why) instead of staying failed

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contexts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ags_lineitems", sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column("ags_scopes", sa.JSON(), nullable=True))

    with op.batch_alter_table("ags_score_posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("closed_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("close_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_ags_score_posts_closed_by_id_people"),
            "people",
            ["closed_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("ags_score_posts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_ags_score_posts_closed_by_id_people"), type_="foreignkey")
        batch_op.drop_column("close_reason")
        batch_op.drop_column("closed_by_id")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("reason_code")

    with op.batch_alter_table("contexts", schema=None) as batch_op:
        batch_op.drop_column("ags_scopes")
        batch_op.drop_column("ags_lineitems")
