"""Filings (备案) as a lifecycle: the authority that accepted a filing, its date and number,
how it ended, and its history (filed, extended, renewed, ended) in ``filing_event``

Revision ID: 0007
Revises: 0006

Plain ADD COLUMN on ``filing`` (no table rebuild on SQLite). Every existing filing gets its
``filed`` event, dated from its first valid day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("filing", sa.Column("authority", sa.Text(), nullable=False, server_default=""))
    op.add_column("filing", sa.Column("filed_on", sa.Date(), nullable=True))
    op.add_column(
        "filing", sa.Column("number", sa.String(length=64), nullable=False, server_default="")
    )
    op.add_column("filing", sa.Column("ended_on", sa.Date(), nullable=True))
    op.add_column("filing", sa.Column("end_reason", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "filing_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("authority", sa.Text(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("contract_no", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["filing_id"], ["filing.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_filing_event_filing_id", "filing_event", ["filing_id"])
    op.execute(
        'INSERT INTO filing_event (filing_id, action, "on", valid_from, valid_to, authority, '
        "number, reason, recorded_at) SELECT id, 'filed', valid_from, valid_from, valid_to, '', "
        "'', '', CURRENT_TIMESTAMP FROM filing"
    )


def downgrade() -> None:
    op.drop_index("ix_filing_event_filing_id", table_name="filing_event")
    op.drop_table("filing_event")
    with op.batch_alter_table("filing") as batch:
        for column in ("end_reason", "ended_on", "number", "filed_on", "authority"):
            batch.drop_column(column)
