"""The engine-level half of backup and restore: SQLite's online backup API and
``pg_dump``/``pg_restore``, the checks of a backup file's integrity, identity and schema
revision, and whether a database holds registry data. What a clerk may do with them (overwrite,
replace a database that holds data) is decided in :mod:`multisite.services.backup`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import sqlalchemy as sa
from sqlalchemy.engine import URL

from ..i18n import _
from . import Database, head_revision, known_revisions

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
DATA_TABLES = ("region", "institution", "physician", "agreement", "audit_entry")
# Tables (and a column of each) every revision of the registry's schema has: a file without
# them is not a backup of it, whatever else it holds.
IDENTITY = {
    "alembic_version": "version_num",
    "region": "code",
    "institution": "code",
    "physician": "cert_no",
    "registration": "region_code",
    "agreement": "contract_no",
    "work_session": "start_minute",
    "audit_entry": "clerk",
}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is one sentence."""


def has_clerks_table(db: Database) -> bool:
    """Whether the database holds a registry with clerks (revision 0011 on)."""
    with db.engine.connect() as connection:
        return "clerk" in sa.inspect(connection).get_table_names()


def foreign_tables(db: Database) -> list[str]:
    """The target's tables that are not the registry's: a database of another application
    (a wrong ``--db``), which a restore would erase (SQLite) or mix the registry into."""
    from .models import Base

    ours = set(Base.metadata.tables) | {"alembic_version"}
    with db.engine.connect() as connection:
        names = sa.inspect(connection).get_table_names()
    return sorted(name for name in names if name not in ours)


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


def check_identity(path: Path, columns: dict[str, set[str]], revisions: list[str]) -> str:
    """The backup's schema revision, when ``columns`` (table → its columns) hold the
    registry's tables and ``revisions`` one revision this installation knows."""
    if any(column not in columns.get(table, ()) for table, column in IDENTITY.items()):
        raise BackupError(
            _("{file} is not a multisite backup: it lacks the registry's tables.").format(file=path)
        )
    if len(revisions) != 1:
        raise BackupError(
            _("{file} is not a multisite backup: it records no single schema revision.").format(
                file=path
            )
        )
    revision = revisions[0]
    if revision not in known_revisions():
        raise BackupError(
            _(
                "{file} is a backup of schema revision {revision}, which this multisite does not "
                "know (it knows up to {head}): restore it with the newer multisite that wrote it."
            ).format(file=path, revision=revision, head=head_revision())
        )
    return revision


# --- SQLite -----------------------------------------------------------------------------------


def _sqlite_file(db: Database) -> Path:
    name = db.engine.url.database
    if not name or name == ":memory:":
        raise BackupError(_("An in-memory database cannot be backed up or restored."))
    return Path(name).expanduser()


def _read_only(path: Path) -> sqlite3.Connection:
    """A read-only, immutable connection to the file at ``path``: a path, never parsed as a
    URI (``#`` or ``?`` in its name stay in the name), and nothing written beside it."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)


def check_sqlite(path: Path, *, identity: bool = True) -> str:
    """Integrity, identity and schema revision of a SQLite backup (see :func:`check_identity`);
    only integrity with ``identity=False`` (a backup just written: "" is returned)."""
    try:
        connection = _read_only(path)
        try:
            verdict = connection.execute("PRAGMA integrity_check").fetchone()
            tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master")]
            columns = {
                table: {
                    r[1] for r in connection.execute("SELECT * FROM pragma_table_info(?)", (table,))
                }
                for table in tables
                if table in IDENTITY
            }
            revisions = (
                [str(r[0]) for r in connection.execute("SELECT version_num FROM alembic_version")]
                if "version_num" in columns.get("alembic_version", ())
                else []
            )
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
    return check_identity(path, columns, revisions) if identity else ""


def sqlite_backup(db: Database, path: Path) -> None:
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
        check_sqlite(Path(temporary), identity=False)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def sqlite_restore(db: Database, path: Path) -> None:
    target_file = _sqlite_file(db)
    db.dispose()
    source = _read_only(path)
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


def _dying_with(parent: int) -> Callable[[], None]:
    """For ``preexec_fn``: the child is killed when ``parent`` dies (Linux ``PR_SET_PDEATHSIG``),
    so a killed ``restore`` never leaves ``pg_restore`` running on to its commit."""

    def arm() -> None:
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return arm


def _run(command: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(
            command,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            preexec_fn=_dying_with(os.getpid()),
        )
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
    return done


def check_pg_dump(path: Path) -> str:
    """Identity and schema revision of a ``pg_dump -Fc`` file, read from its table of contents
    and its ``alembic_version`` data (see :func:`check_identity`)."""
    tool = _pg_tool("pg_restore")
    env = dict(os.environ)
    listing = _run([tool, "--list", str(path)], env, "pg_restore --list").stdout
    tables = {
        found.group(1) for found in re.finditer(r"^\d+; \d+ \d+ TABLE \S+ (\w+) ", listing, re.M)
    }
    data = _run(
        [tool, "--data-only", "--table=alembic_version", "--file=-", str(path)],
        env,
        "pg_restore",
    ).stdout
    copied = re.search(
        r"^COPY \S*alembic_version \(version_num\) FROM stdin;\n(.*?)^\\\.$", data, re.M | re.S
    )
    revisions = copied.group(1).split() if copied else []
    # The table of contents names tables, not columns: the tables stand for their columns.
    columns = {table: set(IDENTITY.values()) for table in tables}
    return check_identity(path, columns, revisions)


def pg_dump(db: Database, path: Path) -> None:
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


def pg_restore(db: Database, path: Path) -> None:
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
        listing = _run([tool, "--list", str(path)], env, "pg_restore --list")
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
