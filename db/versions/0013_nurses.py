"""Nurses (护士区域注册): a practitioner's profession, nurse minima in the staffing table,
nurse figures in the stored validation base

Revision ID: 0013
Revises: 0012

``physician`` stays the practitioners' table: ``profession`` is ``physician`` (the default, so
every row already stored stays a physician with its registrations, agreements, feed tokens
and audit rows) or ``nurse``. ``staffing_minimum`` gains the nurse minimum of a kind
(``min_nurses``, ``nurses_per_physician`` — e.g. one nurse per general practitioner — with
their own ``nurse_confirmed`` flag and ``nurse_source``); ``base_cache`` stores the nurse
figures the region-wide report shows (``nurse_required``, ``nurse_counted``), so its covering
index is rebuilt with them. The physician UPDATE trigger of revision 0005 (redone by 0009)
also fires on ``profession``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPORT_INDEX = [
    *("code", "valid_from", "valid_until", "policy_key", "name", "kind", "beds", "county_code"),
    *("required", "counted", "contributors", "next_validation", "risk_count", "risk_from"),
    "title_short",
]
NURSE_INDEX = [*REPORT_INDEX, "nurse_required", "nurse_counted"]

PHYSICIAN_MARK = (
    "INSERT INTO base_stale (institution_id) SELECT DISTINCT id FROM "
    "(SELECT institution_id AS id FROM agreement WHERE physician_id = NEW.id) "
    "AS touched WHERE id IS NOT NULL;\n"
)


def _physician_trigger(columns: str) -> None:
    """Re-create the physician UPDATE trigger (revisions 0005, 0009) to fire on ``columns``."""
    name = "base_stale_physician_update"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON physician")
        op.execute(
            f"CREATE TRIGGER {name} AFTER UPDATE OF {columns} ON physician "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(
            f"CREATE TRIGGER {name} AFTER UPDATE OF {columns} ON physician "
            f"FOR EACH ROW BEGIN\n{PHYSICIAN_MARK}END"
        )


def upgrade() -> None:
    # plain ADD COLUMN (never a batch "move and copy" on SQLite: that would drop the tables'
    # base_stale triggers of revisions 0005 and 0009)
    op.add_column(
        "physician",
        sa.Column("profession", sa.String(length=12), nullable=False, server_default="physician"),
    )
    op.add_column(
        "staffing_minimum", sa.Column("min_nurses", sa.Float(), nullable=False, server_default="0")
    )
    op.add_column(
        "staffing_minimum",
        sa.Column("nurses_per_physician", sa.Float(), nullable=False, server_default="0"),
    )
    op.add_column(
        "staffing_minimum",
        sa.Column("nurse_confirmed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "staffing_minimum", sa.Column("nurse_source", sa.Text(), nullable=False, server_default="")
    )
    op.drop_index("ix_base_cache_report", table_name="base_cache")
    op.add_column("base_cache", sa.Column("nurse_required", sa.Float(), nullable=True))
    op.add_column("base_cache", sa.Column("nurse_counted", sa.Float(), nullable=True))
    op.create_index("ix_base_cache_report", "base_cache", NURSE_INDEX)
    # every stored result predates the nurse figures: all of them are stale
    op.execute("INSERT INTO base_stale (institution_id) VALUES (NULL)")
    _physician_trigger("title, level, scopes, practising_since, profession")


def downgrade() -> None:
    _physician_trigger("title, level, scopes, practising_since")
    op.drop_index("ix_base_cache_report", table_name="base_cache")
    op.drop_column("base_cache", "nurse_counted")
    op.drop_column("base_cache", "nurse_required")
    op.create_index("ix_base_cache_report", "base_cache", REPORT_INDEX)
    for name in ("nurse_source", "nurse_confirmed", "nurses_per_physician", "min_nurses"):
        op.drop_column("staffing_minimum", name)
    op.drop_column("physician", "profession")
