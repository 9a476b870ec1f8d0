"""agencies as the Council's guideline defines them (kind, name, letter details, staff with PLC training) and the
agency that runs each program; each program's free-text agency becomes an agency of kind "other" of its course

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KINDS = (
    "supervisors",
    "provincial_supervisors",
    "education_division",
    "service_area_office",
    "local_government",
    "university",
    "other",
)


def upgrade() -> None:
    op.create_table(
        "plc_agencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*KINDS, name="agency_kind", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("signatory_name", sa.String(length=255), nullable=False),
        sa.Column("signatory_position", sa.String(length=255), nullable=False),
        sa.Column("contact_unit", sa.String(length=255), nullable=False),
        sa.Column("telephone", sa.String(length=64), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_id"], ["contexts.id"], name=op.f("fk_plc_agencies_context_id_contexts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_plc_agencies_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_agencies")),
    )
    op.create_index("ix_plc_agencies_course", "plc_agencies", ["platform_id", "context_id"], unique=False)
    op.create_table(
        "plc_agency_staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("position", sa.String(length=255), nullable=False),
        sa.Column("training", sa.String(length=500), nullable=False),
        sa.Column("trained_on", sa.Date(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["plc_agencies.id"],
            name=op.f("fk_plc_agency_staff_agency_id_plc_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_agency_staff")),
    )
    op.create_index(op.f("ix_plc_agency_staff_agency_id"), "plc_agency_staff", ["agency_id"], unique=False)
    with op.batch_alter_table("plc_programs") as batch:
        batch.add_column(sa.Column("agency_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_plc_programs_agency_id"), ["agency_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_plc_programs_agency_id_plc_agencies"),
            "plc_agencies",
            ["agency_id"],
            ["id"],
            ondelete="SET NULL",
        )
    _agencies_from_free_text()


def _agencies_from_free_text() -> None:
    """Additive data: one agency of kind "other" per course and distinct agency text, tied to the programs that
    named it. The text column stays as it was (old processes keep reading it)."""
    bind = op.get_bind()
    programs = sa.table(
        "plc_programs",
        sa.column("id", sa.Integer),
        sa.column("platform_id", sa.Integer),
        sa.column("context_id", sa.Integer),
        sa.column("agency", sa.String),
        sa.column("agency_id", sa.Integer),
    )
    agencies = sa.table(
        "plc_agencies",
        sa.column("id", sa.Integer),
        sa.column("platform_id", sa.Integer),
        sa.column("context_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("name", sa.String),
        sa.column("address", sa.String),
        sa.column("signatory_name", sa.String),
        sa.column("signatory_position", sa.String),
        sa.column("contact_unit", sa.String),
        sa.column("telephone", sa.String),
        sa.column("created_at", models.base.UTCDateTime(timezone=True)),
        sa.column("updated_at", models.base.UTCDateTime(timezone=True)),
    )
    made: dict[tuple[int, int, str], int] = {}
    rows = bind.execute(
        sa.select(programs.c.id, programs.c.platform_id, programs.c.context_id, programs.c.agency)
        .where(programs.c.agency != "")
        .order_by(programs.c.id)
    ).all()
    now = models.base.utcnow()
    for program_id, platform_id, context_id, text in rows:
        name = text.strip()
        if not name:
            continue
        key = (platform_id, context_id, name)
        if key not in made:
            made[key] = bind.execute(
                sa.insert(agencies)
                .values(
                    platform_id=platform_id,
                    context_id=context_id,
                    kind="other",
                    name=name,
                    address="",
                    signatory_name="",
                    signatory_position="",
                    contact_unit="",
                    telephone="",
                    created_at=now,
                    updated_at=now,
                )
                .returning(agencies.c.id)
            ).scalar_one()
        bind.execute(sa.update(programs).where(programs.c.id == program_id).values(agency_id=made[key]))


def downgrade() -> None:
    with op.batch_alter_table("plc_programs") as batch:
        batch.drop_constraint(batch.f("fk_plc_programs_agency_id_plc_agencies"), type_="foreignkey")
        batch.drop_index(batch.f("ix_plc_programs_agency_id"))
        batch.drop_column("agency_id")
    op.drop_index(op.f("ix_plc_agency_staff_agency_id"), table_name="plc_agency_staff")
    op.drop_table("plc_agency_staff")
    op.drop_index("ix_plc_agencies_course", table_name="plc_agencies")
    op.drop_table("plc_agencies")
