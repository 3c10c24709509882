"""The audit log's rows (审计记录): one builder for every writer, and what a row records of an
entity (a plain-JSON snapshot of its stored columns).

Every mutation writes one row in the same transaction: who (the clerk), when (UTC), what
(action, entity, key), the physician and institution it concerns, before and after.

The log is a hash chain: each row's ``chain`` is SHA-256 over the previous row's ``chain`` and
the row's canonical content (:func:`canonical`: its id and every column, JSON with sorted keys).
:func:`append_audit` is the only writer: it locks the chain's head (``audit_head``, one row:
``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write transactions are ``BEGIN IMMEDIATE``
already), numbers the rows after the head's id, hashes them and moves the head — all in the
writing transaction, so a rolled-back write (or savepoint) leaves neither rows nor a moved
head, and two writers never interleave their links. :func:`verify_chain` recomputes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from . import bulk
from . import queries as q
from .bulk import Encoded
from .models import Agreement, AuditEntry, utcnow


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


SKIP_IN_AUDIT = {"id_digest", "id_masked", "updated_at", "warnings"}


def snapshot(entity: Any) -> dict[str, Any]:
    data = {
        column.key: _plain(getattr(entity, column.key))
        for column in entity.__table__.columns
        if column.key not in SKIP_IN_AUDIT
    }
    if isinstance(entity, Agreement):
        data["sessions"] = [str(q.slot_of(x)) for x in entity.sessions]
    return data


_AS_IS = frozenset({str, int, float, bool, type(None)})  # JSON's own: no _plain needed


@cache
def _audited(model: Any) -> tuple[str, ...]:
    return tuple(c.key for c in model.__table__.columns if c.key not in SKIP_IN_AUDIT)


def row_snapshot(model: Any, row: dict[str, Any]) -> dict[str, Any]:
    """The audit snapshot of a row inserted in bulk (every column given), shaped as
    :func:`snapshot` shapes the stored entity (no read back)."""
    data: dict[str, Any] = {}
    for key in _audited(model):
        value = row[key]
        data[key] = value if type(value) in _AS_IS else _plain(value)
    return data


def audit_row(
    clerk: str,
    action: str,
    entity: str,
    key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    *,
    physician: str | None = None,
    institution: str | None = None,
    at: dt.datetime | None = None,
    principal: str | None = None,
) -> dict[str, Any]:
    """The column values of one audit row (``id`` and ``chain`` are given when appended)."""
    return {
        "at": at or utcnow(),
        "clerk": clerk,
        "principal": principal,
        "action": action,
        "entity": entity,
        "entity_key": key,
        "physician_cert": physician,
        "institution_code": institution,
        "before": before,
        "after": after,
    }


CHAINED = (
    *("id", "at", "clerk", "principal", "action", "entity", "entity_key"),
    *("physician_cert", "institution_code", "before", "after"),
)


@lru_cache(maxsize=64)  # a batch's rows share their time
def _stamp(value: dt.datetime) -> str:
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


# json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")), without
# building an encoder for every row: what the chain hashed before orjson wrote it (see _encode)
_encode_json: Callable[[Any], str] = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":")
).encode
# dates, times and dataclasses refused as json refuses them (a snapshot holds plain values)
_ORJSON = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _encode(value: Any) -> str:
    """``value`` as JSON text, keys sorted, no whitespace, characters as they are: by orjson
    (a contract's snapshot in a fifth of json's time: the audit rows' serialising was ~10% of
    an import's processor time), by json where orjson refuses a value (a key that is not
    text, an integer beyond 64 bits, a lone surrogate). The two write the same text for every
    value but a float below 1e-4 (orjson ``0.00001``, json ``1e-05``) and NaN or an infinity
    (``null``, ``NaN``): :func:`verify_chain` accepts a row hashed either way."""
    try:
        return orjson.dumps(value, option=_ORJSON).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return _encode_json(value)


def canonical(row: Any, encode: Callable[[Any], str] = _encode) -> str:
    """A row's content as the chain hashes it: its columns (a mapping or a result row) as one
    JSON array, keys sorted, no whitespace — the same text on both engines after a round trip."""
    get = row.__getitem__ if isinstance(row, dict) else row._mapping.__getitem__
    values = [get(k) for k in CHAINED]
    values[1] = _stamp(values[1])
    return encode(values)


def chain_hash(previous: str, row: Any, encode: Callable[[Any], str] = _encode) -> str:
    return hashlib.sha256(f"{previous}\n{canonical(row, encode)}".encode()).hexdigest()


def _holds(previous: str, row: Any) -> bool:
    """Whether ``row.chain`` is its hash after ``previous``, as written now or by json (the
    rows written before orjson: they differ only where a snapshot held a float below 1e-4)."""
    return chain_hash(previous, row) == row.chain or (
        chain_hash(previous, row, _encode_json) == row.chain
    )


_NULL = Encoded("null")  # what the JSON columns store for None (as Core stores it)


def _linked(row: dict[str, Any], row_id: int, previous: str) -> dict[str, Any]:
    """``row`` numbered and hashed after ``previous``, its ``before`` and ``after`` serialised
    once for both: :func:`canonical`'s text is the array of the other columns followed by
    these two texts (JSON arrays are their items' texts joined by commas), and the same texts
    are what the columns store (``Encoded``)."""
    before, after = row["before"], row["after"]
    texts = [_NULL if v is None else Encoded(_encode(v)) for v in (before, after)]
    head = _encode(
        [row_id, _stamp(row["at"]), row["clerk"], row.get("principal"), row["action"],
         row["entity"], row["entity_key"], row["physician_cert"], row["institution_code"]]
    )  # fmt: skip
    content = f"{head[:-1]},{texts[0]},{texts[1]}]"
    chain = hashlib.sha256(f"{previous}\n{content}".encode()).hexdigest()
    return {**row, "id": row_id, "principal": row.get("principal"), "chain": chain,
            "before": texts[0], "after": texts[1]}  # fmt: skip


def locked_head(s: Session) -> tuple[int, str]:
    """The chain's head (last id, last hash), locked for the rest of the transaction: a writer
    may take it before building its rows, and hand it to :func:`append_audit`."""
    return _head(s)


def _head(s: Session) -> tuple[int, str]:
    connection = s.connection()
    lock = " FOR UPDATE" if connection.dialect.name == "postgresql" else ""
    found = connection.execute(
        text(f"SELECT last_id, last_hash FROM audit_head WHERE id = 1{lock}")
    ).one()
    return int(found[0]), str(found[1])


@dataclass(frozen=True)
class Linked:
    """Audit rows numbered and hashed after the chain's head (:func:`link_audit`), to be
    stored by :func:`store_linked` in the same transaction; ``head`` is the chain's new end."""

    rows: list[dict[str, Any]]
    head: tuple[int, str]


def link_audit(
    s: Session, rows: Sequence[dict[str, Any]], head: tuple[int, str] | None = None
) -> Linked:
    """Number and hash audit rows built by :func:`audit_row` after the chain's head:
    ``head`` the caller locked (:func:`locked_head`) with nothing appended since, else it is
    locked here. Nothing is written: a batch's writer hashes while the database stores its
    other rows, then stores these."""
    last_id, last_hash = _head(s) if head is None else head
    chained: list[dict[str, Any]] = []
    for row in rows:
        last_id += 1
        linked = _linked(row, last_id, last_hash)
        last_hash = linked["chain"]
        chained.append(linked)
    return Linked(chained, (last_id, last_hash))


def store_linked(s: Session, linked: Linked) -> None:
    """Insert the rows :func:`link_audit` linked and move the chain's head past them."""
    if not linked.rows:
        return
    move = text("UPDATE audit_head SET last_id = :i, last_hash = :h WHERE id = 1")
    last_id, last_hash = linked.head
    # The head first, so that a batch's bulk insert may finish in the background while the
    # writer goes on (``bulk``); both are in the same transaction either way. Every row goes
    # by the raw path, a clerk's single one too: its ``before`` and ``after`` are stored as
    # the text the chain hashed (Core would write its own JSON text: a clerk's change and an
    # import's read the same, but were stored as two texts of it).
    s.connection().execute(move, {"i": last_id, "h": last_hash})
    bulk.insert_rows(s, AuditEntry, linked.rows, raw=True)


def append_audit(
    s: Session, rows: Sequence[dict[str, Any]], head: tuple[int, str] | None = None
) -> None:
    """Append audit rows built by :func:`audit_row` to the chain, in the writing transaction
    (one head update, one bulk insert). ``head``: the head the caller locked
    (:func:`locked_head`) with nothing appended since; else it is locked here."""
    if rows:
        store_linked(s, link_audit(s, rows, head))


def insert_audit(s: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write audit rows built by :func:`audit_row` (:func:`append_audit`)."""
    append_audit(s, rows)


@dataclass(frozen=True)
class ChainBreak:
    """The first row where the chain does not hold: ``row`` its id, ``after`` the id of the
    intact row before it (0: none), ``reason`` one of ``content`` (the row's hash does not
    match its content and the row before it: this row edited, or the one before it deleted or
    moved), ``unchained`` (a row without a hash), ``tail`` (rows after ``after`` are missing:
    the head names ``row``)."""

    row: int
    after: int
    reason: str


def _rows(s: Session) -> Iterator[Any]:
    table = AuditEntry.__table__
    query = select(*(table.c[k] for k in (*CHAINED, "chain"))).order_by(table.c.id)
    yield from s.execute(query.execution_options(yield_per=5000))


def verify_chain(s: Session) -> tuple[int, ChainBreak | None]:
    """Recompute the chain from the first row: (rows checked, the first break or None)."""
    previous, previous_id, checked = "", 0, 0
    for row in _rows(s):
        if row.chain is None:
            return checked, ChainBreak(row.id, previous_id, "unchained")
        if not _holds(previous, row):
            return checked, ChainBreak(row.id, previous_id, "content")
        previous, previous_id = row.chain, row.id
        checked += 1
    last_id, last_hash = _head(s)
    if (last_id, last_hash) != (previous_id, previous):
        return checked, ChainBreak(max(last_id, previous_id + 1), previous_id, "tail")
    return checked, None


def chain_existing(connection: Any) -> None:
    """Chain the rows written before the chain existed (revision 0011), in id order, and set
    the head: run once, by the migration, before the append-only guard is installed."""
    previous, last_id = "", 0
    table = AuditEntry.__table__
    query = select(*(table.c[k] for k in CHAINED)).order_by(table.c.id).limit(10_000)
    while True:  # 10,000 rows at a time: memory stays bounded whatever the log's size
        rows = connection.execute(query.where(table.c.id > last_id)).fetchall()
        if not rows:
            break
        updates = []
        for row in rows:
            previous = chain_hash(previous, row)
            last_id = row.id
            updates.append({"i": row.id, "h": previous})
        connection.execute(text("UPDATE audit_entry SET chain = :h WHERE id = :i"), updates)
    connection.execute(
        text("INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, :i, :h)"),
        {"i": last_id, "h": previous},
    )
