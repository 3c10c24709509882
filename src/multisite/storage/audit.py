"""What the audit log records of an entity: a plain-JSON snapshot of its stored columns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import queries as q
from .models import Agreement


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
