"""The validation base's per-institution results, and stale marks written by triggers

Revision ID: 0005
Revises: 0004

``base_cache`` holds, per institution, the last validation base (医师基数) computed and the
dates it holds for, with the institution's code, name, kind, beds and county (the report is
one scan of ``ix_base_cache_report``, every column it reads in code order). A row goes with
its institution (foreign key, ``ON DELETE CASCADE``).

``base_stale`` is where the database itself marks results stale: a trigger on every table a
result depends on *inserts* a mark, in the writing transaction, whoever writes (the service,
an import, a hand-written statement); writers never update a shared row, so they never wait
on one another here:

* ``agreement`` insert, delete, and an update of a column the base is computed from
  (``COLUMNS``): the institution of the old and of the new row;
* ``institution`` update of its code, name, kind, beds, county or licence date;
* ``physician`` update of the title: every institution where the physician has an agreement;
* ``registration_event`` insert, update, delete, and ``registration`` update of its
  physician: every institution of the physicians concerned (suspensions, cancellations);
* ``staffing_minimum`` and ``policy``, any change: one mark with no institution (all).

A report reads the marks first, then the data, stores what it computed and deletes exactly
the marks it read: a mark committed meanwhile stays, so nothing is served older than the data.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from multisite.migrations.triggers import create_row_trigger, drop_row_trigger

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# every column the report reads, code first (a revision keeps its own copy of the list)
REPORT_INDEX = [
    *("code", "valid_from", "valid_until", "policy_key", "name", "kind", "beds", "county_code"),
    *("required", "counted", "contributors", "next_validation", "risk_count", "risk_from"),
    "title_short",
]


def _mark(institutions: str) -> str:
    """Mark the institutions selected by ``institutions`` (a SELECT of ``id``) stale."""
    return (
        "INSERT INTO base_stale (institution_id) "
        f"SELECT DISTINCT id FROM ({institutions}) AS touched WHERE id IS NOT NULL"
    )


def _of_physician(physician: str) -> str:
    return f"SELECT institution_id AS id FROM agreement WHERE physician_id = {physician}"


def _of_registration(registration: str) -> str:
    return (
        "SELECT a.institution_id AS id FROM agreement a JOIN registration r "
        f"ON r.physician_id = a.physician_id WHERE r.id = {registration}"
    )


ALL = "INSERT INTO base_stale (institution_id) VALUES (NULL)"

# what a base is computed from, per table (an UPDATE of other columns changes nothing)
COLUMNS = {
    "agreement": (
        "institution_id, physician_id, contract_no, role, start, \"end\", terminated_on, "
        "weekly_minutes, status"
    ),
    "institution": "code, name, kind, beds, county_code, licensed_on",
    "physician": "title",
    "registration": "physician_id",
}

# (table, operation) → statements with NEW./OLD. references
TRIGGERS: dict[tuple[str, str], list[str]] = {
    ("agreement", "INSERT"): [_mark("SELECT NEW.institution_id AS id")],
    ("agreement", "UPDATE"): [
        _mark("SELECT OLD.institution_id AS id UNION SELECT NEW.institution_id")
    ],
    ("agreement", "DELETE"): [_mark("SELECT OLD.institution_id AS id")],
    ("institution", "UPDATE"): [_mark("SELECT NEW.id AS id")],
    ("physician", "UPDATE"): [_mark(_of_physician("NEW.id"))],
    ("registration_event", "INSERT"): [_mark(_of_registration("NEW.registration_id"))],
    ("registration_event", "UPDATE"): [
        _mark(_of_registration("OLD.registration_id")),
        _mark(_of_registration("NEW.registration_id")),
    ],
    ("registration_event", "DELETE"): [_mark(_of_registration("OLD.registration_id"))],
    ("registration", "UPDATE"): [
        _mark(_of_physician("OLD.physician_id")),
        _mark(_of_physician("NEW.physician_id")),
    ],
    **{
        (table, operation): [ALL]
        for table in ("staffing_minimum", "policy")
        for operation in ("INSERT", "UPDATE", "DELETE")
    },
}


def _name(table: str, operation: str) -> str:
    return f"base_stale_{table}_{operation.lower()}"


def upgrade() -> None:
    op.create_table(
        "base_cache",
        sa.Column("institution_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("policy_key", sa.String(length=64), nullable=True),
        sa.Column("code", sa.String(length=18), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("beds", sa.Integer(), nullable=True),
        sa.Column("county_code", sa.String(length=6), nullable=True),
        sa.Column("required", sa.Float(), nullable=True),
        sa.Column("counted", sa.Float(), nullable=True),
        sa.Column("contributors", sa.Integer(), nullable=True),
        sa.Column("next_validation", sa.Date(), nullable=True),
        sa.Column("risk_count", sa.Integer(), nullable=True),
        sa.Column("risk_from", sa.Date(), nullable=True),
        sa.Column("title_short", sa.String(length=64), nullable=True),
        sa.Column("document", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["institution_id"], ["institution.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("institution_id"),
    )
    op.create_index("ix_base_cache_report", "base_cache", REPORT_INDEX)
    op.create_table(
        "base_stale",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_base_stale_institution_id", "base_stale", ["institution_id"])
    for (table, operation), statements in TRIGGERS.items():
        event = operation
        if operation == "UPDATE" and table in COLUMNS:
            event = f"UPDATE OF {COLUMNS[table]}"
        create_row_trigger(_name(table, operation), event, table, statements)


def downgrade() -> None:
    for table, operation in TRIGGERS:
        drop_row_trigger(_name(table, operation), table)
    op.drop_index("ix_base_stale_institution_id", table_name="base_stale")
    op.drop_table("base_stale")
    op.drop_index("ix_base_cache_report", table_name="base_cache")
    op.drop_table("base_cache")
