"""launches and sessions bound to the browser: the login's browser fingerprint, the session's browser key (hashed),
when the browser was seen keeping its cookie, and sign out

Revision ID: 0021
Revises: 0017
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("login_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("browser_binding", sa.String(length=64), nullable=True))
    with op.batch_alter_table("app_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("browser_key_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("browser_bound_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("ended_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_app_sessions_browser_key_hash"), ["browser_key_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("app_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_sessions_browser_key_hash"))
        batch_op.drop_column("ended_at")
        batch_op.drop_column("browser_bound_at")
        batch_op.drop_column("browser_key_hash")
    with op.batch_alter_table("login_requests", schema=None) as batch_op:
        batch_op.drop_column("browser_binding")
