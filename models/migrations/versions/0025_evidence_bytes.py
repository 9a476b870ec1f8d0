"""evidence bytes in the database (for web processes on several hosts): plc_evidence_chunks, and where each
evidence's bytes are (the evidence folder, or the database)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plc_evidence") as batch:
        batch.add_column(sa.Column("storage", sa.String(length=16), server_default="folder", nullable=False))
    op.create_table(
        "plc_evidence_chunks",
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["plc_evidence.id"],
            name=op.f("fk_plc_evidence_chunks_evidence_id_plc_evidence"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("evidence_id", "seq", name=op.f("pk_plc_evidence_chunks")),
    )


def downgrade() -> None:
    """Refused while files are kept in the database: dropping their chunks would lose them. Move them to the folder
    first (PLC_EVIDENCE_STORE=folder does not move them; delete or re-upload them), then downgrade."""
    evidence = sa.table("plc_evidence", sa.column("storage", sa.String))
    in_database = op.get_bind().scalar(
        sa.select(sa.func.count()).select_from(evidence).where(evidence.c.storage == "database")
    )
    if in_database:
        raise RuntimeError(
            f"{in_database} evidence files are kept in the database; downgrading would lose them. "
            "Keep this revision, or remove those files first."
        )
    op.drop_table("plc_evidence_chunks")
    with op.batch_alter_table("plc_evidence") as batch:
        batch.drop_column("storage")
