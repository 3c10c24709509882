"""Backup and restore of the whole registry (备份与恢复).

* **SQLite**: ``backup`` copies the live database with SQLite's online backup API (a
  consistent snapshot even while clerks write) into a temporary file next to ``FILE``,
  checks it (``PRAGMA integrity_check``) and renames it into place, so a killed backup never
  leaves a half-written ``FILE``. ``restore`` checks the file, then copies it into the target
  database with the same API (pages are written under SQLite's write lock; other connections
  see the old or the new database, never a mix).
* **PostgreSQL**: ``backup`` runs ``pg_dump -Fc`` (custom format) of the database, or only
  of the schema named by ``options=-csearch_path=SCHEMA`` in the URL; ``restore`` runs
  ``pg_restore --clean --if-exists --single-transaction --no-owner --no-privileges`` into
  the target, so a failed restore changes nothing. ``btree_gist`` (revision 0004) is
  created first when missing: a schema-only dump does not carry the extension. ``pg_dump``
  and ``pg_restore`` must be on ``PATH`` and of the server's major version or newer.

Either way ``restore`` refuses a target that holds registry data unless ``force`` is set,
and ``backup`` refuses to overwrite an existing file unless ``force`` is set. Errors are
:class:`BackupError`, one sentence.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import sqlalchemy as sa
from sqlalchemy.engine import URL

from ..i18n import _
from ..storage import Database

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
DATA_TABLES = ("region", "institution", "physician", "agreement", "audit_entry")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is one sentence."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    method: str  # "sqlite-backup-api" or "pg_dump -Fc"


def holds_data(db: Database) -> bool:
    """Whether the database has any registry rows (an empty or schema-only target is not)."""
    with db.engine.connect() as connection:
        names = set(sa.inspect(connection).get_table_names())
        for table in DATA_TABLES:
            if table in names:
                query = sa.text(f"SELECT 1 FROM {table} LIMIT 1")  # fixed table names
                if connection.execute(query).first() is not None:
                    return True
    return False


def backup(db: Database, target: str | Path, *, force: bool = False) -> BackupResult:
    """Write a consistent copy of the whole registry to ``target``."""
    path = Path(target)
    if path.exists() and not force:
        raise BackupError(
            _("{file} already exists: choose another name or add --force.").format(file=path)
        )
    if not path.parent.is_dir():
        raise BackupError(_("The folder {folder} does not exist.").format(folder=path.parent))
    if db.dialect == "sqlite":
        _sqlite_backup(db, path)
        method = "sqlite-backup-api"
    elif db.dialect == "postgresql":
        _pg_dump(db, path)
        method = "pg_dump -Fc"
    else:
        raise BackupError(_("Backups are supported on SQLite and PostgreSQL only."))
    return BackupResult(path, path.stat().st_size, method)


def restore(db: Database, source: str | Path, *, force: bool = False) -> None:
    """Replace the target database's contents with the backup in ``source``."""
    path = Path(source)
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as error:
        raise BackupError(
            _("Cannot read the backup {file}: {reason}.").format(
                file=path, reason=error.strerror or error
            )
        ) from error
    kind = "sqlite" if head == SQLITE_MAGIC else "postgresql" if head[:5] == PG_MAGIC else None
    if kind is None:
        raise BackupError(_("{file} is not a multisite backup.").format(file=path))
    if kind != db.dialect:
        raise BackupError(
            _("{file} is a {kind} backup and cannot be restored into a {target} database.").format(
                file=path, kind=kind, target=db.dialect
            )
        )
    if not force and holds_data(db):
        raise BackupError(_("The target database holds registry data: add --force to replace it."))
    if kind == "sqlite":
        _sqlite_restore(db, path)
    else:
        _pg_restore(db, path)
    db.dispose()  # pooled connections may hold the old schema's pages or catalog entries


# --- SQLite -----------------------------------------------------------------------------------


def _sqlite_file(db: Database) -> Path:
    name = db.engine.url.database
    if not name or name == ":memory:":
        raise BackupError(_("An in-memory database cannot be backed up or restored."))
    return Path(name).expanduser()


def _check_sqlite(path: Path) -> None:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            verdict = connection.execute("PRAGMA integrity_check").fetchone()
            tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(
            _("{file} is damaged and cannot be used: {reason}.").format(file=path, reason=error)
        ) from error
    if verdict is None or verdict[0] != "ok":
        raise BackupError(
            _("{file} is damaged and cannot be used: {reason}.").format(
                file=path, reason=verdict[0] if verdict else "?"
            )
        )
    if "alembic_version" not in tables:
        raise BackupError(_("{file} is not a multisite backup.").format(file=path))


def _sqlite_backup(db: Database, path: Path) -> None:
    source_file = _sqlite_file(db)
    if not source_file.exists():
        raise BackupError(_("The database file {file} does not exist.").format(file=source_file))
    fd, temporary = tempfile.mkstemp(prefix=".multisite-backup-", dir=path.parent)
    os.close(fd)
    try:
        source = sqlite3.connect(source_file, timeout=30)
        target = sqlite3.connect(temporary)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            target.close()
            source.close()
        _check_sqlite(Path(temporary))
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _sqlite_restore(db: Database, path: Path) -> None:
    _check_sqlite(path)
    target_file = _sqlite_file(db)
    db.dispose()
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = sqlite3.connect(target_file, timeout=30)
    try:
        target.execute("PRAGMA busy_timeout=30000")
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError as error:
        raise BackupError(
            _("Restoring {file} failed, the target is unchanged: {reason}.").format(
                file=path, reason=error
            )
        ) from error
    finally:
        target.close()
        source.close()


# --- PostgreSQL -------------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            _("{tool} is not installed or not on PATH; it is needed for PostgreSQL.").format(
                tool=name
            )
        )
    return found


def _schema(url: URL) -> str | None:
    """The schema named by ``options=-csearch_path=SCHEMA`` in the URL, if any."""
    options = url.query.get("options")
    text = unquote(options if isinstance(options, str) else " ".join(options or ()))
    for part in text.split():
        if part.startswith("-csearch_path="):
            first = part.split("=", 1)[1].split(",")[0].strip().strip('"')
            return first or None
    return None


def _pg_env(url: URL) -> tuple[list[str], dict[str, str]]:
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    args += ["--dbname", url.database or "postgres", "--no-password"]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except OSError as error:
        raise BackupError(
            _("{tool} could not be started: {reason}.").format(tool=command[0], reason=error)
        ) from error
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit code {done.returncode}"
        raise BackupError(
            _("{what} failed: {reason}.").format(what=what, reason=reason.rstrip("."))
        )


def _pg_dump(db: Database, path: Path) -> None:
    tool = _pg_tool("pg_dump")
    args, env = _pg_env(db.engine.url)
    schema = _schema(db.engine.url)
    fd, temporary = tempfile.mkstemp(prefix=".multisite-backup-", dir=path.parent)
    os.close(fd)
    try:
        command = [tool, "--format=custom", "--file", temporary, *args]
        if schema:
            command += ["--schema", schema]
        _run(command, env, "pg_dump")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _pg_restore(db: Database, path: Path) -> None:
    tool = _pg_tool("pg_restore")
    args, env = _pg_env(db.engine.url)
    with db.engine.begin() as connection:
        exists = connection.execute(
            sa.text("SELECT 1 FROM pg_extension WHERE extname = 'btree_gist'")
        ).first()
        if exists is None:
            public = connection.execute(
                sa.text("SELECT 1 FROM pg_namespace WHERE nspname = 'public'")
            ).first()
            schema = " SCHEMA public" if public else ""
            connection.execute(sa.text(f"CREATE EXTENSION IF NOT EXISTS btree_gist{schema}"))
    db.dispose()
    wanted = _schema(db.engine.url)
    if wanted:
        listing = subprocess.run(
            [tool, "--list", str(path)], capture_output=True, text=True, check=False
        )
        dumped = {
            line.split()[-2]
            for line in listing.stdout.splitlines()
            if " SCHEMA - " in line and not line.startswith(";")
        }
        if dumped and wanted not in dumped:
            raise BackupError(
                _("{file} holds schema {dumped}, not the target schema {schema}.").format(
                    file=path, dumped=", ".join(sorted(dumped)), schema=wanted
                )
            )
    command = [
        tool,
        "--clean",
        "--if-exists",
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        *args,
        str(path),
    ]
    _run(command, env, "pg_restore")
