"""national and school test results: O-NET, NT and RT means per school, district and nation, subject and year;
the policy level: provinces, the districts in them, and province and OBEC leaders

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exam_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("test", sa.String(length=8), nullable=False),
        sa.Column("grade_level", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("mean", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("pupils", sa.Integer(), nullable=True),
        sa.Column("imported_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_exam_results_district_id_districts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["district_schools.id"],
            name=op.f("fk_exam_results_school_id_district_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_results")),
    )
    op.create_index("ix_exam_results_district_year", "exam_results", ["district_id", "year"])
    op.create_index("ix_exam_results_school", "exam_results", ["school_id"])
    op.create_index("ix_exam_results_key", "exam_results", ["test", "grade_level", "subject", "year"])
    op.create_table(
        "provinces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_provinces_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provinces")),
        sa.UniqueConstraint("platform_id", "code", name=op.f("uq_provinces_platform_id_code")),
    )
    op.create_index(op.f("ix_provinces_platform_id"), "provinces", ["platform_id"])
    op.create_table(
        "province_districts",
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("province_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_province_districts_district_id_districts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["province_id"],
            ["provinces.id"],
            name=op.f("fk_province_districts_province_id_provinces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("district_id", name=op.f("pk_province_districts")),
    )
    op.create_index(op.f("ix_province_districts_province_id"), "province_districts", ["province_id"])
    op.create_table(
        "policy_leaders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("province_id", sa.Integer(), nullable=True),
        sa.Column("obec", sa.Boolean(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(CASE WHEN province_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN obec THEN 1 ELSE 0 END) = 1",
            name=op.f("ck_policy_leaders_leads_one_level"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_policy_leaders_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["province_id"], ["provinces.id"], name=op.f("fk_policy_leaders_province_id_provinces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_leaders")),
    )
    op.create_index("ix_policy_leaders_person", "policy_leaders", ["platform_id", "sub"])


def downgrade() -> None:
    op.drop_index("ix_policy_leaders_person", table_name="policy_leaders")
    op.drop_table("policy_leaders")
    op.drop_index(op.f("ix_province_districts_province_id"), table_name="province_districts")
    op.drop_table("province_districts")
    op.drop_index(op.f("ix_provinces_platform_id"), table_name="provinces")
    op.drop_table("provinces")
    op.drop_index("ix_exam_results_key", table_name="exam_results")
    op.drop_index("ix_exam_results_school", table_name="exam_results")
    op.drop_index("ix_exam_results_district_year", table_name="exam_results")
    op.drop_table("exam_results")
