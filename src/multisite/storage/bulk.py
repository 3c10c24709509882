"""Bulk writes for generated regions and large imports: the raw driver, fed the values
SQLAlchemy's column types would give it.

SQLAlchemy Core ``executemany`` spends more time building each row's parameters than the
database spends storing it (a 40,000-contract import: 15 s of parameter building beside 12 s
of ``executemany``). :func:`insert_rows` compiles the INSERT once, converts each value with its
column type's own bind processor (the same conversion Core applies: dates and times as SQLite
stores them, JSON serialised) and hands the driver plain values: multi-row ``INSERT``s on
SQLite, ``COPY … FROM STDIN`` on PostgreSQL, finished in the background (below). Python-side
column defaults are applied as Core would.
A handful of rows (a clerk's single write) still goes through Core.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

ROWS_PER_INSERT = 10_000  # SQLite: rows of one INSERT at most (each takes the GIL back once)
RAW_FROM = 100  # fewer rows (a clerk's single write): Core, whose per-row cost is then nothing


def insert_rows(
    s: Session, model: Any, rows: Sequence[dict[str, Any]], *, raw: bool = False
) -> None:
    """Insert ``rows`` (dicts of column values, the same keys in every row) in one go.
    ``raw``: by the raw driver however few they are (``Encoded`` values stored as they are)."""
    if not rows:
        return
    table = model.__table__
    connection = s.connection()
    if len(rows) < RAW_FROM and not raw:
        connection.execute(insert(table), list(rows))
        return
    dialect = connection.dialect
    given = [c for c in table.columns if c.key in rows[0]]
    defaulted = [c for c in table.columns if c.key not in rows[0] and _python_default(c)]
    columns = given + defaulted
    makers = [_python_default(c) for c in defaulted]
    converters = [
        (index, convert)
        for index, column in enumerate(columns)
        if (convert := _processor(column, dialect)) is not None
    ]
    get = itemgetter(*(c.key for c in given))
    single = len(given) == 1

    def values(row: dict[str, Any]) -> list[Any]:
        # every processor sees None too: JSON stores Python None as JSON null, as Core does
        found = [get(row)] if single else list(get(row))
        if makers:
            found.extend(make() for make in makers)  # type: ignore[misc]
        for index, convert in converters:
            found[index] = convert(found[index])
        return found

    settle(connection.info)  # one write at a time on the connection
    raw_connection: Any = connection.connection.dbapi_connection
    refused: Any = dialect.loaded_dbapi.IntegrityError  # the driver's own
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    quoted = dialect.identifier_preparer.format_table(table)
    if dialect.name == "postgresql":
        from psycopg.copy import QueuedLibpqWriter  # here: a SQLite registry never loads it

        statement = f"COPY {quoted} ({names}) FROM STDIN"
        cursor = raw_connection.cursor()
        # The rows are formatted here while psycopg's writer thread sends them; the server's
        # work on the last of them is waited for in the background (see ``_later``).
        manager = cursor.copy(statement, writer=QueuedLibpqWriter(cursor))
        try:
            copy = manager.__enter__()
            try:
                for row in rows:
                    copy.write_row(values(row))
            except BaseException as error:
                manager.__exit__(type(error), error, error.__traceback__)
                raise
        except refused as error:  # raised as Core raises it (a unique key, the exclusion guard)
            cursor.close()
            raise IntegrityError(statement, None, error) from error
        except BaseException:
            cursor.close()
            raise

        def finish() -> None:
            try:
                manager.__exit__(None, None, None)
            except refused as error:
                raise IntegrityError(statement, None, error) from error
            finally:
                cursor.close()

        _later(connection, finish)
        return
    # SQLite: many rows per INSERT, their values converted here; the statements run in a
    # thread of their own, which binds them and lets go of the GIL while SQLite stores them
    marks = "(" + ", ".join("?" for _ in columns) + ")"
    head = f"INSERT INTO {quoted} ({names}) VALUES "
    per = _rows_per_statement(raw_connection, len(columns))
    full = head + ", ".join([marks] * per)
    statements: list[tuple[str, list[Any]]] = []
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        flat = [value for row in chunk for value in values(row)]
        statements.append(
            (full if len(chunk) == per else head + ", ".join([marks] * len(chunk)), flat)
        )

    def store() -> None:
        cursor = raw_connection.cursor()
        try:
            for statement, flat in statements:
                cursor.execute(statement, flat)
        except refused as error:
            raise IntegrityError(head, None, error) from error
        finally:
            cursor.close()
            statements.clear()

    if _shared_file(connection) and connection.engine.pool in _WATCHED:
        _later(connection, store)
    else:  # a connection of one thread (":memory:"), or of an engine that would not wait
        store()


def _rows_per_statement(raw_connection: Any, width: int) -> int:
    """Rows of ``width`` values in one INSERT: within the driver's bound on variables."""
    try:
        bound = int(raw_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    except (AttributeError, sqlite3.Error):  # an older driver: SQLite's historic 999
        bound = 999
    return max(1, min(ROWS_PER_INSERT, bound // max(width, 1)))


def _shared_file(connection: Connection) -> bool:
    """Whether the SQLite connection may be used from another thread (a file's: SQLAlchemy
    opens them with ``check_same_thread=False``; an in-memory database's is its thread's)."""
    database = connection.engine.url.database
    return (
        bool(database) and database != ":memory:" and not str(database).startswith("file::memory")
    )


# --- writing in the background -------------------------------------------------------------
#
# On PostgreSQL a bulk insert formats its rows (psycopg's writer thread sends them as they come)
# and returns while the server stores the last of them: the end of COPY is waited for in a thread
# of its own, without the GIL, so the caller's next Python work — the next table's rows, the audit
# chain's hashes, the next chunk of a file — runs meanwhile. On SQLite the rows' values are
# converted in the caller's thread and the INSERTs, up to 10,000 rows each (within SQLite's bound
# on variables), run in a thread of their own: the driver binds a statement's values, then lets go
# of the GIL while SQLite stores its rows, so the database's work and the caller's overlap on two
# processors (a 100,000-contract import on the 60,000-physician region: 36.2–36.7 s instead of
# 40.5–41.7 s; executemany in a thread did not pay: it takes the GIL back for every row). Whatever
# next uses the connection waits for it first: every statement, commit, rollback and savepoint
# through SQLAlchemy (the engine events of :func:`watch`), the next bulk insert and the raw
# driver's readers (:func:`settle`). An error of the insert (a unique key another clerk stored
# meanwhile, the exclusion guard) is raised there, as SQLAlchemy's IntegrityError; a rollback
# discards it with the transaction.

_LATER = "multisite_bulk_later"


class _Later:
    def __init__(self, work: Callable[[], None]) -> None:
        self.error: BaseException | None = None
        self._work = work
        self.thread = threading.Thread(target=self._run, name="multisite-bulk", daemon=True)

    def _run(self) -> None:
        try:
            self._work()
        except BaseException as error:  # handed to the thread that waits
            self.error = error
        finally:
            del self._work


def _later(connection: Any, work: Callable[[], None]) -> None:
    later = _Later(work)
    connection.info[_LATER] = later
    later.thread.start()


def settle(info: dict[Any, Any], *, raising: bool = True) -> None:
    """Wait for the connection's bulk insert still running (``info``: its ``.info``), and
    raise its error (unless ``raising`` is False: the transaction is being rolled back)."""
    later = info.pop(_LATER, None)
    if later is None:
        return
    later.thread.join()
    if later.error is not None and raising:
        raise later.error


def settled(s: Session) -> Connection:
    """The session's connection, its bulk insert done (before the raw driver reads)."""
    connection = s.connection()
    settle(connection.info)
    return connection


_WATCHED: weakref.WeakSet[Any] = weakref.WeakSet()  # the pools of the engines :func:`watch`es


def watch(engine: Engine) -> None:
    """Make every use of ``engine``'s connections wait for their bulk insert first. On SQLite
    only a watched engine's bulk inserts run in the background: an engine nobody watches
    (a migration's, a test's own) would commit before its rows are stored."""
    _WATCHED.add(engine.pool)

    def first(conn: Any, *_args: Any) -> None:
        settle(conn.info)

    def dropping(conn: Any, *_args: Any) -> None:
        settle(conn.info, raising=False)

    def reset(_dbapi: Any, record: Any, _state: Any) -> None:
        settle(record.info, raising=False)

    for name in ("before_cursor_execute", "commit", "savepoint", "release_savepoint"):
        event.listen(engine, name, first)
    for name in ("rollback", "rollback_savepoint"):
        event.listen(engine, name, dropping)
    event.listen(engine.pool, "reset", reset)


class Encoded(str):
    """A JSON column's value serialised already: :func:`insert_rows` stores the text as it is
    (the audit chain serialises its rows' ``before`` and ``after`` once, for the hash and the
    column). Core would store it as a JSON string: only for the raw path."""

    __slots__ = ()


_EMPTY: dict[type, str] = {dict: "{}", list: "[]"}  # as json.dumps writes them (Core's text)


def _processor(column: Column[Any], dialect: Any) -> Callable[[Any], Any] | None:
    convert = column.type.dialect_impl(dialect).bind_processor(dialect)
    if isinstance(column.type, JSON):
        serialise = convert

        def json_value(value: Any) -> Any:
            kind = type(value)
            if kind is Encoded:
                return str(value)
            if not value and kind in _EMPTY:  # most rows' notes and warnings
                return _EMPTY[kind]
            return value if serialise is None else serialise(value)

        return json_value
    if convert is None or not isinstance(column.type, Date | DateTime):
        return convert
    # A batch's dates and timestamps repeat (a chunk's rows share their ``now``, contracts
    # their periods): each distinct value is formatted once per call (SQLite stores them
    # as text; the formatting was ~4% of a contract import).
    seen: dict[Any, Any] = {}

    def once(value: Any) -> Any:
        found = seen.get(value, seen)
        if found is seen:
            found = seen[value] = convert(value)
        return found

    return once


def _python_default(column: Column[Any]) -> Callable[[], Any] | None:
    """What Core would insert for a column the rows leave out: its Python-side default."""
    default: Any = column.default
    if default is None:
        return None
    arg = default.arg
    if default.is_scalar:
        return lambda: arg
    if default.is_callable:
        return lambda: arg(None)
    return None  # a sequence or SQL expression: the database's to fill


def reserve_ids(s: Session, model: Any, count: int) -> list[int]:
    """``count`` new ids for ``model``'s rows, to insert them in bulk with the ids their
    children refer to: on SQLite the ids after the largest one (the write transaction holds
    the database's only write lock), on PostgreSQL drawn from the id sequence in one query."""
    if count <= 0:
        return []
    table = model.__tablename__
    if s.get_bind().dialect.name == "postgresql":
        found = s.execute(
            text(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                "FROM generate_series(1, :n)"
            ),
            {"n": count},
        )
        return sorted(int(i) for (i,) in found)
    first = int(s.scalar(select(func.max(model.id))) or 0) + 1
    return list(range(first, first + count))


def count_rows(s: Session, model: Any) -> int:
    return int(s.scalar(select(func.count()).select_from(model)) or 0)


def reset_sequences(s: Session, models: Sequence[Any]) -> None:
    """After inserting explicit ids on PostgreSQL, move each id sequence past the largest id."""
    if s.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        table = model.__tablename__
        s.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
        )
