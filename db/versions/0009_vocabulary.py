"""Per-region vocabulary changes (scopes, institution kinds); the validation base is marked
stale when a physician's level, scopes or start of practice changes

Revision ID: 0009
Revises: 0008

``vocabulary_change`` is an append-only log: a region adds or removes a value of a list
(``scopes.<category>`` or ``kinds``); the shipped vocabulary with the province's, then the
city's, then the county's changes applied in order is what holds there.

Who counts toward a minimum now reads the physician's level, scopes and start of practice
(only general practitioners at a 社区卫生服务中心, only 执业医师 of five years at a 诊所; the first
registration's date stands in for an unknown start), so revision 0005's ``physician`` trigger
fires on those columns too, and its ``registration`` trigger on ``registered_on``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _mark(physician: str) -> str:
    return (
        "INSERT INTO base_stale (institution_id) SELECT DISTINCT id FROM "
        f"(SELECT institution_id AS id FROM agreement WHERE physician_id = {physician}) "
        "AS touched WHERE id IS NOT NULL"
    )


# (table, the SQLite trigger body) of the two UPDATE triggers of revision 0005 redone here
BODIES = {
    "physician": f"{_mark('NEW.id')};\n",
    "registration": f"{_mark('OLD.physician_id')};\n{_mark('NEW.physician_id')};\n",
}


def _update_trigger(table: str, columns: str) -> None:
    """Re-create revision 0005's UPDATE trigger of ``table`` to fire on ``columns``."""
    name = f"base_stale_{table}_update"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute(
            f"CREATE TRIGGER {name} AFTER UPDATE OF {columns} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(
            f"CREATE TRIGGER {name} AFTER UPDATE OF {columns} ON {table} "
            f"FOR EACH ROW BEGIN\n{BODIES[table]}END"
        )


def upgrade() -> None:
    op.create_table(
        "vocabulary_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("list", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["region_code"], ["region.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_vocabulary_change_region_code", "vocabulary_change", ["region_code"])
    _update_trigger("physician", "title, level, scopes, practising_since")
    _update_trigger("registration", "physician_id, registered_on")


def downgrade() -> None:
    _update_trigger("physician", "title")
    _update_trigger("registration", "physician_id")
    op.drop_index("ix_vocabulary_change_region_code", table_name="vocabulary_change")
    op.drop_table("vocabulary_change")
