"""The whole-region sweep's per-physician verdicts, and stale marks written by triggers

Revision ID: 0014
Revises: 0013

``multisite check`` decides per physician whether the full rules must run (the
preconditions of ``storage.sweep.physician_rows`` and the weekly patterns). The verdicts are
kept between runs: ``sweep_cache`` lists the physicians flagged, ``sweep_key`` the fingerprint
of what the verdicts were reached under (policies, holiday years, travel buffers, listed
institutions, the code's version); a physician absent from ``sweep_cache`` was cleared.

``sweep_stale`` is where the database marks a physician's verdict stale, as ``base_stale``
(revision 0005) does for institutions: a trigger *inserts* a mark in the writing transaction,
whoever writes, on

* ``agreement`` insert, update, delete: the physician of the old and of the new row;
* ``registration`` insert, update, delete: its physician (old and new);
* ``physician`` update of its scopes or profession;
* ``institution`` update of its county or departments: every physician with an agreement there.

A check reads the marks first, then the data, stores the verdicts it reached and deletes
exactly the marks it read: a mark committed meanwhile stays. Derived data: no audit rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from multisite.migrations.triggers import create_row_trigger, drop_row_trigger

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _mark(physicians: str) -> str:
    """Mark the physicians selected by ``physicians`` (a SELECT of ``id``) stale."""
    return (
        "INSERT INTO sweep_stale (physician_id) "
        f"SELECT DISTINCT id FROM ({physicians}) AS touched WHERE id IS NOT NULL"
    )


AT_INSTITUTION = "SELECT physician_id AS id FROM agreement WHERE institution_id = NEW.id"

# (table, operation) → (the columns an UPDATE fires on, or "" for any; statements)
TRIGGERS: dict[tuple[str, str], tuple[str, list[str]]] = {
    ("agreement", "INSERT"): ("", [_mark("SELECT NEW.physician_id AS id")]),
    ("agreement", "UPDATE"): (
        "",
        [_mark("SELECT OLD.physician_id AS id UNION SELECT NEW.physician_id")],
    ),
    ("agreement", "DELETE"): ("", [_mark("SELECT OLD.physician_id AS id")]),
    ("registration", "INSERT"): ("", [_mark("SELECT NEW.physician_id AS id")]),
    ("registration", "UPDATE"): (
        "",
        [_mark("SELECT OLD.physician_id AS id UNION SELECT NEW.physician_id")],
    ),
    ("registration", "DELETE"): ("", [_mark("SELECT OLD.physician_id AS id")]),
    ("physician", "UPDATE"): ("scopes, profession", [_mark("SELECT NEW.id AS id")]),
    ("institution", "UPDATE"): ("county_code, departments", [_mark(AT_INSTITUTION)]),
}


def _name(table: str, operation: str) -> str:
    return f"sweep_stale_{table}_{operation.lower()}"


def upgrade() -> None:
    op.create_table(
        "sweep_cache",
        sa.Column("physician_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(["physician_id"], ["physician.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("physician_id"),
    )
    op.create_table(
        "sweep_key",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "sweep_stale",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("physician_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sweep_stale_physician_id", "sweep_stale", ["physician_id"])
    for (table, operation), (columns, statements) in TRIGGERS.items():
        event = f"UPDATE OF {columns}" if columns else operation
        create_row_trigger(_name(table, operation), event, table, statements)


def downgrade() -> None:
    for table, operation in TRIGGERS:
        drop_row_trigger(_name(table, operation), table)
    op.drop_index("ix_sweep_stale_physician_id", table_name="sweep_stale")
    op.drop_table("sweep_stale")
    op.drop_table("sweep_key")
    op.drop_table("sweep_cache")
