"""Trust: a hash-chained, append-only audit log; clerks with a region and a role; the national
ID as a keyed hash with its masked form; row-level security by region on PostgreSQL

Revision ID: 0011
Revises: 0010

* ``audit_entry`` gains ``principal`` (who authenticated when an admin acted as another clerk)
  and ``chain`` (the hash chain, ``storage.audit``); the rows already stored are chained here,
  in id order, and ``audit_head`` holds the chain's end. Triggers then refuse ``UPDATE`` and
  ``DELETE`` of audit rows on both engines.
* ``clerk``: name, region, role, enabled. The first admin is made by ``storage.upgrade``.
* ``physician.id_masked``. The digests stored before this revision were keyed with a public
  constant (reversible in seconds): they are dropped; re-import the 身份证号 column.
* PostgreSQL: row-level security on the registry tables. Clerks (the roles ``clerk add``
  grants) read every row and write only rows of their region; the owner (who runs ``init``)
  is not subject to the policies.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from multisite.storage.audit import chain_existing
from multisite.storage.security import install_policies, remove_policies

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_GUARDS = {
    "audit_entry_no_update": "UPDATE",
    "audit_entry_no_delete": "DELETE",
}
PG_GUARD = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only' USING ERRCODE = '42501';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    with op.batch_alter_table("audit_entry") as batch:
        batch.add_column(sa.Column("principal", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("chain", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "clerk",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("physician") as batch:
        batch.add_column(sa.Column("id_masked", sa.String(length=18), nullable=True))
    op.execute("UPDATE physician SET id_digest = NULL")
    connection = op.get_bind()
    chain_existing(connection)
    if connection.dialect.name == "postgresql":
        op.execute(PG_GUARD)
        op.execute(
            "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()"
        )
        install_policies(connection)
    else:
        for name, verb in SQLITE_GUARDS.items():
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {verb} ON audit_entry "
                "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END"
            )


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        remove_policies(connection)
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
    else:
        for name in SQLITE_GUARDS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("physician") as batch:
        batch.drop_column("id_masked")
    op.drop_table("clerk")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_column("chain")
        batch.drop_column("principal")
