"""the day a course member became inactive: left out of a complete roster read (Moodle omits suspended and unenrolled
members) or listed as Inactive; kept in history, out of new teams and out of eligibility from that day

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inactive_since", models.base.UTCDateTime(timezone=True), nullable=True))
    # A member already marked Inactive became so at the latest when the course's roster was last read (or, for a
    # course never read since, when their membership was last touched).
    memberships = sa.table(
        "memberships",
        sa.column("context_id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("last_launch_at", models.base.UTCDateTime(timezone=True)),
        sa.column("inactive_since", models.base.UTCDateTime(timezone=True)),
    )
    contexts = sa.table(
        "contexts", sa.column("id", sa.Integer), sa.column("roster_synced_at", models.base.UTCDateTime(timezone=True))
    )
    synced = sa.select(contexts.c.roster_synced_at).where(contexts.c.id == memberships.c.context_id).scalar_subquery()
    inactive = memberships.c.status == "Inactive"
    bind = op.get_bind()
    bind.execute(sa.update(memberships).where(inactive).values(inactive_since=synced))
    bind.execute(
        sa.update(memberships)
        .where(inactive, memberships.c.inactive_since.is_(None))
        .values(inactive_since=memberships.c.last_launch_at)
    )


def downgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("inactive_since")
