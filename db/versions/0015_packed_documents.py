"""Validation base documents stored compressed by the client

Revision ID: 0015
Revises: 0014

``base_cache.document`` (text, revision 0005) held each institution's JSON document as
`base --json` prints it. PostgreSQL kept it compressed (pglz) out of line: the region-wide
report spent most of its time de-TOASTing and decompressing ~160 MB at 300,000 physicians.
``base_cache.packed`` holds the UTF-8 document compressed by the client
(``multisite.storage.validation_base.pack``: LZ4 block, its size first); on PostgreSQL with
``STORAGE EXTERNAL``, out of line but never compressed again. The old documents are derived
data: they are dropped, and the next `base --json` computes and stores the missing ones.

``document`` is dropped with a native ``ALTER TABLE … DROP COLUMN`` (SQLite ≥ 3.35), never
SQLite's copy-and-move: that would drop the table's triggers and indexes (no index or
trigger names the column).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("base_cache", sa.Column("packed", sa.LargeBinary(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE base_cache ALTER COLUMN packed SET STORAGE EXTERNAL")
    op.execute("UPDATE base_cache SET document = NULL WHERE document IS NOT NULL")
    op.drop_column("base_cache", "document")


def downgrade() -> None:
    op.add_column("base_cache", sa.Column("document", sa.Text(), nullable=True))
    op.drop_column("base_cache", "packed")
