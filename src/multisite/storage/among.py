"""``column`` among many values, as **one** bound parameter on SQLite and PostgreSQL alike.

PostgreSQL: ``column = ANY(array)``, the array typed as the column (integer or text); SQLite:
``column IN (SELECT value FROM json_each(?))``, the values as one JSON array. The statement is
the same whatever the number of values: compiled once, never over a driver's limit on bind
parameters (65,535 on PostgreSQL, 32,766 on SQLite: a province of 100,000 institutions
recounted cold asks for them all), and psycopg does not convert thousands of parameters
afresh for every statement (~10 ms a 5,000-key statement: a sixth of a physician import).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ARRAY, Integer, String, any_, bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement


def among(bind: Session | Connection, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column`` among ``values`` (integers or texts) for a statement run on ``bind``."""
    listed = list(values)
    dialect = bind.dialect if isinstance(bind, Connection) else bind.get_bind().dialect
    if dialect.name == "postgresql":
        kind = Integer() if isinstance(column.type, Integer) else String()
        return column == any_(bindparam(None, listed, ARRAY(kind)))
    rows = func.json_each(bindparam(None, json.dumps(listed), String)).table_valued("value")
    return column.in_(select(rows.c.value))
