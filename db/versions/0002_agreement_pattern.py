"""agreement.pattern: the sessions as canonical text, for the region sweep

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def upgrade() -> None:
    with op.batch_alter_table("agreement") as batch:
        batch.add_column(sa.Column("pattern", sa.Text(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT agreement_id, weekday, start_minute, end_minute FROM work_session "
            "ORDER BY agreement_id, weekday, start_minute, end_minute"
        )
    )
    patterns: dict[int, list[str]] = {}
    for agreement_id, weekday, start, end in rows:
        patterns.setdefault(agreement_id, []).append(f"{CODES[weekday]} {_hhmm(start)}-{_hhmm(end)}")
    update = sa.text("UPDATE agreement SET pattern = :pattern WHERE id = :id")
    values = [{"id": k, "pattern": "; ".join(v)} for k, v in patterns.items()]
    if values:
        connection.execute(update, values)
    connection.execute(sa.text("UPDATE agreement SET pattern = '' WHERE pattern IS NULL"))


def downgrade() -> None:
    with op.batch_alter_table("agreement") as batch:
        batch.drop_column("pattern")
