"""Bulk writes for generated regions and large imports: SQLAlchemy Core ``executemany``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

CHUNK = 20_000


def insert_rows(s: Session, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts of column values) in chunks with one executemany each."""
    statement = insert(model.__table__)
    connection = s.connection()
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        if chunk:
            connection.execute(statement, list(chunk))


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
