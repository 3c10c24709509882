"""The credit register (诚信/黑名单): dated listings of physicians and institutions, and points
for misconduct (不良执业行为记分); the boolean ``dishonest`` flags become open listings

Revision ID: 0008
Revises: 0007

A flag set on a physician or an institution becomes a listing open from the day its row was
last changed (the flag was set on or before that day; nothing older tells when), with the
reason "原失信标记" and no authority on record. Then the flags are dropped (SQLite 3.35+
drops a column in place, keeping the triggers of revision 0005 on those tables).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MIGRATED = "原失信标记"


def upgrade() -> None:
    op.create_table(
        "credit_listing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("physician_id", sa.Integer(), nullable=True),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("authority", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "(physician_id IS NULL) <> (institution_id IS NULL)", name="ck_credit_listing_subject"
        ),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"]),
        sa.ForeignKeyConstraint(["physician_id"], ["physician.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_credit_listing_physician_id", "credit_listing", ["physician_id"])
    op.create_index("ix_credit_listing_institution_id", "credit_listing", ["institution_id"])
    op.create_table(
        "credit_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("physician_id", sa.Integer(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("authority", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["physician_id"], ["physician.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_credit_points_physician_id", "credit_points", ["physician_id"])
    day = "CAST(updated_at AS DATE)"
    if op.get_bind().dialect.name == "sqlite":
        day = "substr(updated_at, 1, 10)"
    for table, column in (("physician", "physician_id"), ("institution", "institution_id")):
        op.execute(
            f"INSERT INTO credit_listing ({column}, start, reason, authority, decision, "
            f"recorded_at) SELECT id, {day}, '{MIGRATED}', '', '', updated_at FROM {table} "
            "WHERE dishonest"
        )
        op.drop_column(table, "dishonest")


def downgrade() -> None:
    for table, column in (("physician", "physician_id"), ("institution", "institution_id")):
        op.add_column(
            table,
            sa.Column("dishonest", sa.Boolean(), nullable=False, server_default=sa.false()),
        )
        op.execute(
            f"UPDATE {table} SET dishonest = TRUE WHERE id IN (SELECT {column} FROM "
            "credit_listing WHERE until IS NULL)"
        )
    op.drop_index("ix_credit_points_physician_id", table_name="credit_points")
    op.drop_table("credit_points")
    op.drop_index("ix_credit_listing_institution_id", table_name="credit_listing")
    op.drop_index("ix_credit_listing_physician_id", table_name="credit_listing")
    op.drop_table("credit_listing")
