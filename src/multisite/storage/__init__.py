"""Storage: engines, transactions and schema migrations. The only place that speaks SQL.

SQLite (the embedded default) runs in WAL mode with foreign keys on, and every write
transaction starts with ``BEGIN IMMEDIATE`` so two clerks never interleave a read-check-write.
PostgreSQL (``postgresql+psycopg://…``) is the provincial deployment; writers lock the
physician's row. The schema changes only through the Alembic revisions shipped in
``multisite.migrations`` (the ``db/`` folder), configured here in code.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, exc, make_url, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, sessionmaker

from ..i18n import _
from . import bulk, keys, security
from .models import utcnow

T = TypeVar("T")

ENV_URL = "MULTISITE_DATABASE_URL"


class StorageError(Exception):
    """A storage problem a user can act on; the message is one sentence."""


def default_database_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "multisite" / "multisite.db"


def database_url(explicit: str | None = None) -> str:
    """``--db`` first, then ``MULTISITE_DATABASE_URL``, then the embedded SQLite file."""
    url = explicit or os.environ.get(ENV_URL)
    if url:
        return url
    path = default_database_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from pysqlite so BEGIN is ours (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 16 MB of page cache (SQLite's default is 2 MB): a batch's inserts touch the pages of
    # every index of the tables they write (the audit log's five); a 100,000-contract import
    # on the 60,000-physician region took 27.0 s of processor time with 2 MB, 24.4 s with
    # 16 MB, 23.6 s with 32 MB — which took a million-row .xlsx import to 315 MB (limit 300)
    cursor.execute("PRAGMA cache_size=-16384")
    cursor.close()


def _generic_plans(dbapi_connection: Any, _record: Any) -> None:
    """PostgreSQL plans a prepared statement anew for each of its first five executions
    before it settles on a generic plan; the one-statement reads' statement (seven tables,
    eleven parts) took 2-4 ms to plan, so those connections use the generic plan from the
    first execution (it uses the same indexes: every part looks rows up by a key)."""
    dbapi_connection.execute("SET plan_cache_mode = force_generic_plan")
    dbapi_connection.commit()  # the setting outlives this transaction (none in autocommit)


def _sqlite_begin(connection: Any) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except exc.ArgumentError as error:
        raise StorageError(
            _("The database URL {url} is not a valid URL.").format(url=url)
        ) from error
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                folder = Path(parsed.database).expanduser().resolve().parent
                if not folder.is_dir():
                    raise StorageError(
                        _("The folder {folder} of the database file does not exist.").format(
                            folder=folder
                        )
                    )
            engine = create_engine(parsed, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
        bulk.watch(engine)  # a bulk insert finishing in the background is waited for
    except (exc.NoSuchModuleError, exc.ArgumentError, ImportError) as error:
        raise StorageError(
            _("The database URL {url} names a driver this installation does not have.").format(
                url=url
            )
        ) from error
    return engine


def _alembic_config(connection: Any) -> Config:
    config = Config()
    script_location = resources.files("multisite.migrations")
    config.set_main_option("script_location", str(script_location))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    script = ScriptDirectory.from_config(_alembic_config(None))
    head = script.get_current_head()
    assert head is not None
    return head


def known_revisions() -> list[str]:
    """The revisions this installation can migrate to or from, oldest first."""
    script = ScriptDirectory.from_config(_alembic_config(None))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def current_revision(engine: Engine) -> str | None:
    with connect(engine) as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def connect(engine: Engine) -> Iterator[Any]:
    """A connection, with an unreachable server turned into one clear sentence."""
    try:
        connection = engine.connect()
    except exc.OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        url = engine.url.render_as_string(hide_password=True)
        raise StorageError(
            _("Cannot open the database {url}: {reason}.").format(
                url=url, reason=reason.rstrip(".")
            )
        ) from error
    try:
        yield connection
    finally:
        connection.close()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest revision; returns (before, after).

    On a registry without clerks, whoever runs it (the OS user on SQLite, the database role on
    PostgreSQL) becomes its first admin; on PostgreSQL every enabled clerk's role is granted
    what the new schema holds. An SQLite registry gets its national-ID key file beside it
    (``storage.keys``), as does any registry whose ``MULTISITE_ID_KEY_FILE`` names a missing one.
    """
    before = current_revision(engine)
    with connect(engine) as connection, connection.begin():
        command.upgrade(_alembic_config(connection), "head")
        _staff(connection)
        hashed = connection.execute(
            text("SELECT 1 FROM physician WHERE id_digest IS NOT NULL LIMIT 1")
        ).first()
    url = engine.url.render_as_string(hide_password=False)
    if before is None and engine.dialect.name == "sqlite":
        _owner_only(engine)
    path = keys.key_path(url)
    if hashed is not None and path is not None and not path.exists():
        # a new key would silently stop finding duplicates among the stored hashes
        raise StorageError(
            _(
                "The registry holds national-ID hashes but its key file {file} is missing: "
                "restore the key from your backup (a new key would not match them)."
            ).format(file=path)
        )
    try:
        keys.ensure_key(url)
    except (OSError, keys.IdKeyError) as error:
        raise StorageError(
            _("Cannot create the national-ID key file: {reason}.").format(
                reason=str(error).rstrip(".")
            )
        ) from error
    return before, head_revision()


def _owner_only(engine: Engine) -> None:
    """A new SQLite registry is readable and writable by its owner only (0600; SQLite gives its
    -wal and -shm files the same mode): on SQLite the file's permissions are the boundary."""
    database = engine.url.database
    if not database or database == ":memory:":
        return
    for suffix in ("", "-wal", "-shm"):
        path = Path(database + suffix).expanduser()
        if path.exists():
            path.chmod(0o600)


def _staff(connection: Any) -> None:
    """The first admin of a registry without clerks; grants to the clerks' roles (PostgreSQL)."""
    who = security.principal(connection)
    count = connection.execute(text("SELECT COUNT(*) FROM clerk")).scalar_one()
    if not count:
        connection.execute(
            text(
                "INSERT INTO clerk (name, region_code, role, enabled, created_at, created_by) "
                "VALUES (:n, NULL, 'admin', :t, :at, 'init')"
            ),
            {"n": who[:64], "t": True, "at": utcnow()},
        )
    if connection.dialect.name != "postgresql":
        return
    names = connection.execute(text("SELECT name FROM clerk WHERE enabled")).scalars().all()
    for name in names:
        if name != who and security.role_exists(connection, name):
            security.grant_clerk(connection, name)


class Database:
    """An engine plus the two kinds of transaction the service layer uses."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        writer = (
            self.engine.execution_options(sqlite_begin="IMMEDIATE")
            if self.dialect == "sqlite"
            else self.engine
        )
        self._writer_engine = writer
        self._reader = sessionmaker(self.engine, autoflush=False, expire_on_commit=False)
        self._writer = sessionmaker(writer, autoflush=False, expire_on_commit=False)
        self._local = threading.local()
        self._autocommit: Engine | None = None  # one_statement's engine
        # one_statement's connections between reads, checked out of its engine's pool (any
        # thread takes one; a thread that ends holds none): (connection, dispose count, pid)
        self._spare: list[tuple[Any, int, int]] = []
        self._generation = 0  # dispose() counts: a spare connection of an older one is closed

    @property
    def in_memory(self) -> bool:
        """An in-memory SQLite database: each connection has a database of its own, so work
        cannot be shared out between connections."""
        return self.dialect == "sqlite" and self.engine.url.database in (None, "", ":memory:")

    def _pending(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] | None = getattr(self._local, "pending", None)
        if found is None:
            found = self._local.pending = []
        return found

    def defer_audit(self, row: dict[str, Any]) -> None:
        """An audit row (a refusal) to write in a transaction of its own: after the write
        transaction in progress has ended (it is rolling back), or at once."""
        self._pending().append(row)
        if not getattr(self._local, "writing", 0):
            self._write_deferred()

    def _write_deferred(self) -> None:
        pending = self._pending()
        if not pending:
            return
        rows, pending[:] = list(pending), []
        from .audit import append_audit

        try:
            with self._writer() as session, session.begin():
                append_audit(session, rows)
        except exc.SQLAlchemyError:  # a role that may not even append: the refusal stands
            return

    def require_current_schema(self) -> None:
        current = current_revision(self.engine)
        head = head_revision()
        if current is None:
            raise StorageError(
                _("The database has no multisite schema yet: run `multisite init` first.")
            )
        if current != head:
            raise StorageError(
                _(
                    "The database schema is at revision {current}, behind {head}: "
                    "run `multisite init` to upgrade it."
                ).format(current=current, head=head)
            )

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed on success, rolled back on any exception; then the
        refusals deferred during it are written (``defer_audit``)."""
        self._local.writing = getattr(self._local, "writing", 0) + 1
        try:
            with self._writer() as session, session.begin():
                yield session
        finally:
            self._local.writing -= 1
            if not self._local.writing:
                self._write_deferred()

    @contextmanager
    def write_briefly(self, wait_ms: int = 1000) -> Iterator[Session]:
        """A write transaction for derived data that a reader keeps on the side: it waits at
        most ``wait_ms`` for another writer's locks (then the DBAPI error is raised), so it
        never holds a report up behind an import or a clerk."""
        if self.dialect != "sqlite":
            with self.write() as session:
                session.execute(text(f"SET LOCAL lock_timeout = '{int(wait_ms)}ms'"))
                yield session
            return
        with self._writer_engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert raw is not None
            raw.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
            try:
                with Session(bind=connection, autoflush=False) as session, session.begin():
                    yield session
            finally:
                raw.execute("PRAGMA busy_timeout=30000")

    def one_statement(self, read: Callable[[Any, Dialect], T]) -> T:
        """``read(driver connection, dialect)``, a read of **one statement**, on the driver's
        connection (``sqlite3`` / ``psycopg``) in autocommit: a single statement sees one
        consistent snapshot by itself, so no BEGIN, no ROLLBACK and (PostgreSQL) no pool ping
        cost a round trip. The one-contract check reads this way (``storage.facts.read_one``).

        Between reads the connections stay checked out of the statement engine's pool, in a
        list of spares any thread takes one from and gives it back to (a checkout and checkin
        through the pool cost about as much as the statement on SQLite; the TUI reads from a
        new thread each time, so the spares are not the threads'). A spare holds no
        transaction: every read sees what is committed. A connection found dead is replaced
        and the read tried once more; :meth:`dispose` closes the spares."""
        engine = self._statement_engine()
        for attempt in (1, 2):
            raw, generation = self._spare_connection(engine)
            try:
                found = read(raw.driver_connection, engine.dialect)
            except engine.dialect.loaded_dbapi.OperationalError:
                raw.invalidate()
                raw.close()
                if attempt == 2:
                    raise
                continue
            except BaseException:
                raw.close()  # back to the pool, which rolls back nothing (autocommit)
                raise
            self._spare.append((raw, generation, os.getpid()))
            return found
        raise AssertionError("unreachable")

    def _spare_connection(self, engine: Engine) -> tuple[Any, int]:
        """A spare connection of the statement engine (list.pop: one taker each), or a new
        one from its pool; spares from before a dispose() or from another process are
        dropped."""
        while self._spare:
            try:
                raw, generation, pid = self._spare.pop()
            except IndexError:  # another thread took the last one
                break
            if generation == self._generation and pid == os.getpid():
                return raw, generation
            if pid == os.getpid():
                raw.invalidate()  # disposed since: closed, not returned to that pool
        return engine.raw_connection(), self._generation

    def _statement_engine(self) -> Engine:
        """An engine of its own for :meth:`one_statement`: its connections are in autocommit
        and never hold a transaction, so the pool neither pings them (PostgreSQL) nor rolls
        them back when they return."""
        if self._autocommit is None:
            if self.dialect == "sqlite":
                engine = create_engine(
                    self.engine.url, connect_args={"timeout": 30}, pool_reset_on_return=None
                )
                event.listen(engine, "connect", _sqlite_pragmas)  # autocommit, as ours are
            else:
                engine = create_engine(
                    self.engine.url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None
                )
                event.listen(engine, "connect", _generic_plans)
            self._autocommit = engine
        return self._autocommit

    def dispose(self) -> None:
        """Close the pooled connections and the spare statement connections (one in use
        meanwhile is dropped when it comes back)."""
        self._generation += 1
        while self._spare:
            try:
                raw, _generation, pid = self._spare.pop()
            except IndexError:
                break
            if pid == os.getpid():
                raw.invalidate()
        self.engine.dispose()
        if self._autocommit is not None:
            self._autocommit.dispose()
