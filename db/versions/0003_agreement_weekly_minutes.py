"""agreement.weekly_minutes and a covering index for the validation base

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agreement") as batch:
        batch.add_column(
            sa.Column("weekly_minutes", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE agreement SET weekly_minutes = COALESCE((SELECT SUM((end_minute - start_minute "
        "+ 1440) % 1440) FROM work_session WHERE work_session.agreement_id = agreement.id), 0)"
    )
    op.create_index(
        "ix_agreement_in_force",
        "agreement",
        ["institution_id", "physician_id", "start", "end", "terminated_on", "weekly_minutes"]
        + ["role", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_agreement_in_force", table_name="agreement")
    with op.batch_alter_table("agreement") as batch:
        batch.drop_column("weekly_minutes")
