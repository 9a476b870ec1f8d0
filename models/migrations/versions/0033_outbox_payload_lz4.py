"""learning records' JSON compressed with lz4 on PostgreSQL: a statement's JSON (2-3 kB) passes the 2 kB past which
PostgreSQL compresses a row's values, and pglz cost 22 µs of the server's 130 per outbox write (bench/xapi_delivery.py);
lz4 compresses about as well in a fraction of the time. Only values written from now on; the ones stored stay as they
are and read the same. Nothing on SQLite, nor on a PostgreSQL built without lz4.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06
"""

from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

LZ4_BUILT_IN = "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"


def _compress_payload_with(method: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and bind.exec_driver_sql(LZ4_BUILT_IN).scalar():
        op.execute(f"ALTER TABLE xapi_statements ALTER COLUMN payload SET COMPRESSION {method}")


def upgrade() -> None:
    _compress_payload_with("lz4")


def downgrade() -> None:
    _compress_payload_with("pglz")
