"""Restore trusts nothing it is given (SQLite and PostgreSQL): a file name is a path, the
backup is opened read-only and leaves nothing beside it, its identity and schema revision are
checked before anything is replaced, and a killed restore commits nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from multisite.cli.main import main
from multisite.services import Registry
from multisite.services.backup import BackupError, backup, restore
from multisite.storage import Database, head_revision

from .factories import CLINIC, agreement
from .test_backup import filled, fingerprint


def _set_revision(db: Database, revision: str) -> None:
    with db.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def test_a_file_name_with_a_hash_is_restored_as_that_file(registry, database, tmp_path, capsys):
    filled(registry)
    backup(database, tmp_path / "big.bak")  # another backup sits at the name before the '#'
    registry.save_agreement(agreement("LATER", CLINIC, "SU 09:00-12:00"))
    wanted = fingerprint(database)
    dated = tmp_path / "big.bak#2026-11-30"
    backup(database, dated)
    registry.save_agreement(agreement("LATEST", CLINIC, "SA 14:00-17:00"))
    assert main(["--db", database.url, "restore", "--force", str(dated)]) == 0
    assert fingerprint(database) == wanted
    assert "big.bak#2026-11-30" in capsys.readouterr().out
    before = sorted(os.listdir(tmp_path))
    for missing in ("gone.bak#x", "big.bak?mode=rw"):
        assert main(["--db", database.url, "restore", "--force", str(tmp_path / missing)]) == 2
        err = capsys.readouterr().err
        assert "Cannot read the backup" in err and missing in err and err.count("\n") == 1
    assert sorted(os.listdir(tmp_path)) == before  # no stray file at a truncated name
    assert fingerprint(database) == wanted


def test_the_backup_is_opened_read_only_and_nothing_is_left_beside_it(registry, database, tmp_path):
    filled(registry)
    folder = tmp_path / "backups"
    folder.mkdir()
    path = backup(database, folder / "registry.backup").path
    content = path.read_bytes()
    path.chmod(0o444)
    folder.chmod(0o555)  # a read-only medium: nothing may be created beside the backup
    try:
        restore(database, path, force=True)
    finally:
        folder.chmod(0o755)
    assert os.listdir(folder) == ["registry.backup"]
    assert path.read_bytes() == content


def _newer_backup(database: Database, path: Path) -> Path:
    _set_revision(database, "9999")
    try:
        backup(database, path)
    finally:
        _set_revision(database, head_revision())
    return path


def test_a_backup_of_a_newer_schema_is_refused_naming_its_revision(registry, database, tmp_path):
    filled(registry)
    path = _newer_backup(database, tmp_path / "newer.backup")
    registry.save_agreement(agreement("LATER", CLINIC, "SU 09:00-12:00"))
    before = fingerprint(database)
    with pytest.raises(BackupError) as refused:
        restore(database, path, force=True)
    message = str(refused.value)
    assert "schema revision 9999" in message and f"up to {head_revision()}" in message
    assert fingerprint(database) == before


def test_a_database_with_an_alembic_version_table_is_not_a_backup(database, tmp_path):
    """A random database that merely has an ``alembic_version`` table (of some other
    application): refused before the target is touched."""
    stranger = tmp_path / "stranger.db"
    if database.dialect == "sqlite":
        with sqlite3.connect(stranger) as connection:
            connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
            connection.execute(f"INSERT INTO alembic_version VALUES ('{head_revision()}')")
            connection.execute("CREATE TABLE invoice (id INTEGER, total REAL)")
        url = f"sqlite:///{stranger}"
    else:
        url = database.url.replace("search_path%3D", "search_path%3Dx")  # its own schema
        schema = database.url.split("search_path%3D")[1]
        with sa.create_engine(database.url).begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "x{schema}"')
            connection.exec_driver_sql(
                f'CREATE TABLE "x{schema}".alembic_version (version_num VARCHAR(32))'
            )
            connection.exec_driver_sql(
                f"INSERT INTO \"x{schema}\".alembic_version VALUES ('{head_revision()}')"
            )
    try:
        dumped = backup(Database(url), tmp_path / "stranger.backup").path
        with pytest.raises(BackupError, match="not a multisite backup: it lacks the registry"):
            restore(database, dumped, force=True)
    finally:
        if database.dialect == "postgresql":
            with sa.create_engine(database.url).begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA "x{schema}" CASCADE')


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_restore_kills_pg_restore_and_commits_nothing(registry, database, tmp_path):
    if database.dialect != "postgresql":
        pytest.skip("SQLite restores in the process itself: there is no child to outlive it")
    filled(registry)
    path = backup(database, tmp_path / "registry.backup").path
    registry.save_agreement(agreement("LATER", CLINIC, "SU 09:00-12:00"))
    before = fingerprint(database)
    blocker = sa.create_engine(database.url).connect()
    transaction = blocker.begin()
    blocker.exec_driver_sql("LOCK TABLE agreement IN ACCESS EXCLUSIVE MODE")  # pg_restore waits
    env = {**os.environ, "MULTISITE_CLERK": "hostile"}
    parent = subprocess.Popen(
        [sys.executable, "-m", "multisite.cli", "--db", database.url, "restore", "--force",
         str(path)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        child = None
        while child is None:
            assert time.monotonic() < deadline, "pg_restore never started"
            for pid in _children(parent.pid):
                if Path(f"/proc/{pid}/comm").read_text().strip() == "pg_restore":
                    child = pid
            time.sleep(0.05)
        time.sleep(0.5)  # pg_restore is inside its transaction, waiting for the lock
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while _alive(child):
            assert time.monotonic() < deadline, "pg_restore outlived the killed restore"
            time.sleep(0.05)
    finally:
        transaction.rollback()
        blocker.close()
    time.sleep(1.0)  # had pg_restore survived, it would commit now that the lock is gone
    assert fingerprint(database) == before
    assert Registry(database, clerk="x").check() is not None
