"""Disclosure: random inspections (双随机) with the commission's inspectors, feeds of an
institution's due items, and an index for the public search by name

Revision ID: 0010
Revises: 0009

``inspector`` is the list the commission keeps (name, unit, region; disabled, never deleted:
past draws name them). ``inspection_draw`` records a draw (its seed, who drew and when, how
many institutions and inspectors, in which region); ``inspection`` is one institution drawn
with the inspectors drawn for it, and the result once recorded. ``feed_token.kind`` tells a
schedule subscription (``schedule``) from an institution's due items (``due``, VTODO).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inspector",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=128), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["region_code"], ["region.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("region_code", "name", "unit"),
    )
    op.create_table(
        "inspection_draw",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("institutions", sa.Integer(), nullable=False),
        sa.Column("inspectors", sa.Integer(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(), nullable=False),
        sa.Column("drawn_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["region_code"], ["region.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("inspector_ids", sa.JSON(), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("findings", sa.Text(), nullable=False, server_default=""),
        sa.Column("recorded_at", sa.DateTime(), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["draw_id"], ["inspection_draw.id"]),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("draw_id", "institution_id"),
    )
    op.create_index("ix_inspection_institution_id", "inspection", ["institution_id"])
    op.add_column(
        "feed_token",
        sa.Column("kind", sa.String(length=12), nullable=False, server_default="schedule"),
    )
    op.create_index("ix_physician_name", "physician", ["name"])


def downgrade() -> None:
    op.drop_index("ix_physician_name", table_name="physician")
    op.drop_column("feed_token", "kind")
    op.drop_index("ix_inspection_institution_id", table_name="inspection")
    op.drop_table("inspection")
    op.drop_table("inspection_draw")
    op.drop_table("inspector")
