"""The validation base's per-institution results, kept fresh by triggers

Revision ID: 0005
Revises: 0004

``base_cache`` holds, per institution, the last validation base (医师基数) computed and the
dates it holds for. The database itself marks a row stale: a trigger on every table the
result depends on bumps the row's ``generation`` and clears ``valid_until``, in the writing
transaction, whoever writes (the service, an import, a hand-written statement):

* ``agreement`` insert, delete, and an update of a column the base is computed from
  (``COLUMNS``): the institution of the old and of the new row;
* ``institution`` update of its code, name, kind, beds, county or licence date; a deleted
  institution's row goes with it;
* ``physician`` update of the title: every institution where the physician has an agreement;
* ``registration_event`` insert, update, delete: every institution of the physician
  (a suspension or cancellation);
* ``staffing_minimum`` and ``policy``, any change: every row.

A report stores what it computed only where the generation it read is unchanged, so a
result computed from data that changed meanwhile is dropped, never served. The row also
copies the institution's code, name, kind, beds and county (an institution update marks it
stale), so the region-wide report is one scan of one index (``ix_base_cache_report``, every
column the report reads, in code order).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

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
STALE = "generation = base_cache.generation + 1, valid_until = NULL"


def _bump(institutions: str) -> str:
    """Mark the institutions selected by ``institutions`` (a SELECT of ``id``) stale."""
    return (
        f"INSERT INTO base_cache (institution_id, generation) "
        f"SELECT DISTINCT id, 1 FROM ({institutions}) AS touched WHERE id IS NOT NULL "
        f"ON CONFLICT (institution_id) DO UPDATE SET {STALE}"
    )


def _of_physician(physician: str) -> str:
    return f"SELECT institution_id AS id FROM agreement WHERE physician_id = {physician}"


def _of_registration(registration: str) -> str:
    return (
        "SELECT a.institution_id AS id FROM agreement a JOIN registration r "
        f"ON r.physician_id = a.physician_id WHERE r.id = {registration}"
    )


ALL = f"UPDATE base_cache SET {STALE}"

# what a base is computed from, per table (an UPDATE of other columns changes nothing)
COLUMNS = {
    "agreement": (
        "institution_id, physician_id, contract_no, role, start, \"end\", terminated_on, "
        "weekly_minutes, status"
    ),
    "institution": "code, name, kind, beds, county_code, licensed_on",
    "physician": "title",
}

# (table, operation) → statements with NEW./OLD. references
TRIGGERS: dict[tuple[str, str], list[str]] = {
    ("agreement", "INSERT"): [_bump("SELECT NEW.institution_id AS id")],
    ("agreement", "UPDATE"): [
        _bump("SELECT OLD.institution_id AS id UNION SELECT NEW.institution_id")
    ],
    ("agreement", "DELETE"): [_bump("SELECT OLD.institution_id AS id")],
    ("institution", "UPDATE"): [_bump("SELECT NEW.id AS id")],
    ("institution", "DELETE"): ["DELETE FROM base_cache WHERE institution_id = OLD.id"],
    ("physician", "UPDATE"): [_bump(_of_physician("NEW.id"))],
    ("registration_event", "INSERT"): [_bump(_of_registration("NEW.registration_id"))],
    ("registration_event", "UPDATE"): [
        _bump(_of_registration("OLD.registration_id")),
        _bump(_of_registration("NEW.registration_id")),
    ],
    ("registration_event", "DELETE"): [_bump(_of_registration("OLD.registration_id"))],
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
        sa.Column("generation", sa.Integer(), server_default="0", nullable=False),
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
        sa.PrimaryKeyConstraint("institution_id"),
    )
    op.create_index("ix_base_cache_report", "base_cache", REPORT_INDEX)
    postgresql = op.get_bind().dialect.name == "postgresql"
    for (table, operation), statements in TRIGGERS.items():
        name = _name(table, operation)
        event = operation
        if operation == "UPDATE" and table in COLUMNS:
            event = f"UPDATE OF {COLUMNS[table]}"
        if postgresql:
            body = ";\n  ".join(statements)
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                f"BEGIN\n  {body};\n  RETURN NULL;\nEND $$"
            )
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
        else:
            body = "".join(f"{s};\n" for s in statements)
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW BEGIN\n{body}END"
            )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, operation in TRIGGERS:
        name = _name(table, operation)
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_base_cache_report", table_name="base_cache")
    op.drop_table("base_cache")
