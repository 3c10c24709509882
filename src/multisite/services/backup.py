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
and ``backup`` refuses to overwrite an existing file unless ``force`` is set. Before anything
is replaced, ``restore`` reads the backup's identity and schema revision: a file without the
registry's tables is not a backup, and a revision this installation does not know (a newer
one) is refused in a sentence naming it. A file name is a path, never a URI (``#`` and ``?``
are part of the name); the backup is opened read-only and immutable, so nothing is written
beside it. ``pg_dump``/``pg_restore`` die with the process that started them: a killed
``restore`` commits nothing. Errors are :class:`BackupError`, one sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..i18n import _, os_reason
from ..storage import Database
from ..storage.backup import (
    PG_MAGIC,
    SQLITE_MAGIC,
    BackupError,
    check_pg_dump,
    check_sqlite,
    foreign_tables,
    has_clerks_table,
    holds_data,
    pg_dump,
    pg_restore,
    sqlite_backup,
    sqlite_restore,
)

__all__ = ["BackupError", "BackupResult", "backup", "holds_data", "restore"]


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    method: str  # "sqlite-backup-api" or "pg_dump -Fc"


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
        sqlite_backup(db, path)
        method = "sqlite-backup-api"
    elif db.dialect == "postgresql":
        pg_dump(db, path)
        method = "pg_dump -Fc"
    else:
        raise BackupError(_("Backups are supported on SQLite and PostgreSQL only."))
    return BackupResult(path, path.stat().st_size, method)


def admit_reader(db: Database, clerk: str | None) -> None:
    """A backup copies everything: a disabled clerk of the registry in place is refused it, as
    every read (one sentence, with its audit row)."""
    if not has_clerks_table(db):
        return
    from .registry import RegistryCore

    RegistryCore(db, clerk).admit()


def require_admin_to_replace(db: Database, clerk: str | None) -> None:
    """Replacing a registry is an admin's: a clerk or supervisor of the registry in place (one
    that has clerks on record) is refused, with its audit row. An empty database or another
    application's has no clerks to ask; the checks of ``restore`` stand guard there."""
    if not has_clerks_table(db):
        return
    from .registry import RegistryCore

    RegistryCore(db, clerk).require_role("admin")


def restore(db: Database, source: str | Path, *, force: bool = False) -> str:
    """Replace the target database's contents with the backup in ``source``; returns the
    backup's schema revision (the target is at that revision afterwards)."""
    path = Path(source)
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as error:
        raise BackupError(
            _("Cannot read the backup {file}: {reason}.").format(file=path, reason=os_reason(error))
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
    revision = check_sqlite(path) if kind == "sqlite" else check_pg_dump(path)
    if not force and holds_data(db):
        raise BackupError(_("The target database holds registry data: add --force to replace it."))
    others = [] if force else foreign_tables(db)
    if others:
        raise BackupError(
            _(
                "The target database holds tables that are not the registry's ({tables}): "
                "check --db, or add --force to restore into it anyway."
            ).format(tables=", ".join(others[:5]) + (" …" if len(others) > 5 else ""))
        )
    if kind == "sqlite":
        sqlite_restore(db, path)
    else:
        pg_restore(db, path)
    db.dispose()  # pooled connections may hold the old schema's pages or catalog entries
    return revision
