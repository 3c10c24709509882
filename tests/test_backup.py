"""``multisite backup`` / ``multisite restore``: round trips on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from multisite.cli.main import main
from multisite.services import Registry
from multisite.services.backup import BackupError, backup, holds_data, restore
from multisite.storage import Database, current_revision, head_revision, upgrade

from .conftest import PG_SERVER
from .factories import CLINIC, agreement, build_region, primary

TABLES = ("region", "institution", "physician", "registration", "agreement", "work_session")
TABLES += ("filing", "audit_entry", "policy", "feed_token", "alembic_version")


def fingerprint(db: Database) -> dict[str, tuple[int, str]]:
    """Row count and SHA-256 of the sorted rows of every registry table."""
    out = {}
    with db.engine.connect() as connection:
        for table in TABLES:
            rows = sorted(
                repr(tuple(r)) for r in connection.execute(sa.text(f"SELECT * FROM {table}"))
            )
            out[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


def filled(registry: Registry) -> None:
    build_region(registry)
    primary(registry)
    registry.save_agreement(agreement("B-1", CLINIC, "SA 09:00-12:00"))


def fresh_target(database: Database, tmp_path: Path):
    """An empty database of the same backend (PostgreSQL: a new database, dropped after)."""
    if database.dialect == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.db'}", None
    name = f"rt_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(database.url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url, drop


@pytest.mark.slow
def test_backup_then_restore_into_an_empty_database_gives_the_same_registry(
    registry, database, tmp_path
):
    filled(registry)
    before = fingerprint(database)
    result = backup(database, tmp_path / "registry.backup")
    assert result.size > 0
    url, drop = fresh_target(database, tmp_path)
    try:
        target = Database(url)
        restore(target, result.path)
        assert fingerprint(target) == before
        assert current_revision(target.engine) == head_revision()
        # The restored registry works: rules, writes and the schema guard are all there.
        again = Registry(target, clerk="恢复")
        assert [v for v in again.check() if v.severity == "error"] == []
        again.save_agreement(agreement("B-2", CLINIC, "SU 09:00-12:00"))
        target.dispose()
    finally:
        if drop:
            drop()


def test_restore_over_changed_data_needs_force_and_then_brings_the_backup_back(
    registry, database, tmp_path
):
    filled(registry)
    before = fingerprint(database)
    path = backup(database, tmp_path / "registry.backup").path
    registry.save_agreement(agreement("LATER", CLINIC, "SU 09:00-12:00"))
    with pytest.raises(BackupError, match="--force"):
        restore(database, path)
    assert fingerprint(database) != before
    restore(database, path, force=True)
    assert fingerprint(database) == before


def test_the_cli_round_trip_and_its_one_sentence_errors(registry, database, tmp_path, capsys):
    filled(registry)
    before = fingerprint(database)
    file = tmp_path / "cli.backup"
    assert main(["--db", database.url, "backup", str(file)]) == 0
    assert main(["--db", database.url, "backup", str(file)]) == 2  # exists, no --force
    assert "--force" in capsys.readouterr().err
    assert main(["--db", database.url, "restore", str(file)]) == 2  # target holds data
    err = capsys.readouterr().err
    assert "--force" in err and "Traceback" not in err and err.count("\n") == 1
    assert main(["--db", database.url, "restore", "--force", str(file)]) == 0
    assert fingerprint(database) == before
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup at all")
    assert main(["--db", database.url, "restore", "--force", str(junk)]) == 2
    assert "not a multisite backup" in capsys.readouterr().err
    assert main(["--db", database.url, "restore", str(tmp_path / "missing")]) == 2
    assert fingerprint(database) == before


def test_a_backup_of_the_other_backend_is_refused(database, tmp_path):
    other = tmp_path / "other.backup"
    other.write_bytes(b"PGDMP" if database.dialect == "sqlite" else b"SQLite format 3\x00")
    with pytest.raises(BackupError, match="cannot be restored into"):
        restore(database, other, force=True)
    assert not holds_data(database)


def test_an_empty_schema_only_target_is_not_data(database):
    upgrade(database.engine)
    assert not holds_data(database)
