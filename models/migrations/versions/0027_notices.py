"""notices: the notice list, its deliveries by LINE and e-mail (an outbox), per-person preferences; the platforms'
LINE Official Accounts, the people's LINE links, their one-time link codes and the webhook events taken

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "line_channels",
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("channel_secret", sa.String(length=128), nullable=False),
        sa.Column("basic_id", sa.String(length=64), nullable=False),
        sa.Column("quota_spent_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("quota_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_line_channels_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("platform_id", name=op.f("pk_line_channels")),
    )
    op.create_table(
        "line_webhook_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_line_webhook_events_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_line_webhook_events")),
    )
    op.create_index(op.f("ix_line_webhook_events_platform_id"), "line_webhook_events", ["platform_id"], unique=False)
    op.create_table(
        "line_link_codes",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_line_link_codes_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_line_link_codes_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_line_link_codes")),
    )
    op.create_index(op.f("ix_line_link_codes_person_id"), "line_link_codes", ["person_id"], unique=False)
    op.create_table(
        "line_links",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("line_user_id", sa.String(length=64), nullable=False),
        sa.Column("linked_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_line_links_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_line_links_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_line_links")),
        sa.UniqueConstraint("platform_id", "line_user_id", name=op.f("uq_line_links_platform_id_line_user_id")),
    )
    op.create_index(op.f("ix_line_links_platform_id"), "line_links", ["platform_id"], unique=False)
    op.create_table(
        "notice_preferences",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_notice_preferences_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", "kind", name=op.f("pk_notice_preferences")),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=True),
        sa.Column("endpoint_args", sa.JSON(), nullable=False),
        sa.Column("once_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["membership_id"], ["memberships.id"], name=op.f("fk_notices_membership_id_memberships"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_notices_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_notices_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("once_key", name=op.f("uq_notices_once_key")),
    )
    op.create_index(op.f("ix_notices_membership_id"), "notices", ["membership_id"], unique=False)
    op.create_index("ix_notices_person_list", "notices", ["person_id", "created_at"], unique=False)
    op.create_index(op.f("ix_notices_platform_id"), "notices", ["platform_id"], unique=False)
    op.create_table(
        "notice_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name=op.f("fk_notice_deliveries_notice_id_notices"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_notice_deliveries_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_deliveries")),
    )
    op.create_index("ix_notice_deliveries_claim", "notice_deliveries", ["state", "next_attempt_at"], unique=False)
    op.create_index(op.f("ix_notice_deliveries_notice_id"), "notice_deliveries", ["notice_id"], unique=False)
    op.create_index(op.f("ix_notice_deliveries_platform_id"), "notice_deliveries", ["platform_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_notice_deliveries_platform_id"), table_name="notice_deliveries")
    op.drop_index(op.f("ix_notice_deliveries_notice_id"), table_name="notice_deliveries")
    op.drop_index("ix_notice_deliveries_claim", table_name="notice_deliveries")
    op.drop_table("notice_deliveries")
    op.drop_index(op.f("ix_notices_platform_id"), table_name="notices")
    op.drop_index("ix_notices_person_list", table_name="notices")
    op.drop_index(op.f("ix_notices_membership_id"), table_name="notices")
    op.drop_table("notices")
    op.drop_table("notice_preferences")
    op.drop_index(op.f("ix_line_links_platform_id"), table_name="line_links")
    op.drop_table("line_links")
    op.drop_index(op.f("ix_line_link_codes_person_id"), table_name="line_link_codes")
    op.drop_table("line_link_codes")
    op.drop_index(op.f("ix_line_webhook_events_platform_id"), table_name="line_webhook_events")
    op.drop_table("line_webhook_events")
    op.drop_table("line_channels")
