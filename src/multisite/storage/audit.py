"""The audit log's rows (审计记录): one builder for every writer, and what a row records of an
entity (a plain-JSON snapshot of its stored columns).

Every mutation writes one row in the same transaction: who (the clerk), when (UTC), what
(action, entity, key), the physician and institution it concerns, before and after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from . import bulk
from . import queries as q
from .models import Agreement, AuditEntry, utcnow


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


SKIP_IN_AUDIT = {"id_digest", "updated_at", "warnings"}


def snapshot(entity: Any) -> dict[str, Any]:
    data = {
        column.key: _plain(getattr(entity, column.key))
        for column in entity.__table__.columns
        if column.key not in SKIP_IN_AUDIT
    }
    if isinstance(entity, Agreement):
        data["sessions"] = [str(q.slot_of(x)) for x in entity.sessions]
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
) -> dict[str, Any]:
    """The column values of one audit row."""
    return {
        "at": at or utcnow(),
        "clerk": clerk,
        "action": action,
        "entity": entity,
        "entity_key": key,
        "physician_cert": physician,
        "institution_code": institution,
        "before": before,
        "after": after,
    }


def insert_audit(s: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write audit rows built by :func:`audit_row` (one executemany)."""
    bulk.insert_rows(s, AuditEntry, rows)
