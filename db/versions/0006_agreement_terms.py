"""agreement.tasks and agreement.employment: the contract terms seed 004 names, beside
liability, pay and insurance (工作任务、人事关系), kept verbatim as free text

Revision ID: 0006
Revises: 0005

Plain ADD COLUMN (no table rebuild on SQLite, so revision 0005's triggers on ``agreement``
stay); existing agreements get the empty text.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("agreement", sa.Column("tasks", sa.Text(), nullable=False, server_default=""))
    op.add_column(
        "agreement", sa.Column("employment", sa.Text(), nullable=False, server_default="")
    )


def downgrade() -> None:
    with op.batch_alter_table("agreement") as batch:
        batch.drop_column("employment")
        batch.drop_column("tasks")
