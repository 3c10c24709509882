"""The public search's name index serves LIKE 'prefix%' on PostgreSQL under any collation

Revision ID: 0012
Revises: 0011

A name prefix is found by ``name >= p AND name < p'`` on SQLite (code-point order), but a
PostgreSQL database with a linguistic collation (zh_CN.UTF-8 sorts by pinyin) need not keep a
prefix's names between ``p`` and ``p'``; there the search is ``LIKE 'p%'``, which an index
with ``text_pattern_ops`` serves byte-wise whatever the collation. SQLite keeps its index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_physician_name", table_name="physician")
        op.create_index(
            "ix_physician_name", "physician", ["name"], postgresql_ops={"name": "text_pattern_ops"}
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_physician_name", table_name="physician")
        op.create_index("ix_physician_name", "physician", ["name"])
