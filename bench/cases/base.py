"""Validation base (医师基数) for every institution against one GROUP BY over the agreements."""

from __future__ import annotations

import datetime as dt

from run import Case, Env  # type: ignore[import-not-found]
from sqlalchemy import text

from multisite.base import validation_base
from multisite.service import Registry
from multisite.storage import Database

BASELINE = (
    "SELECT institution_id, count(*) FROM agreement "
    "WHERE start <= '2026-11-28' AND \"end\" >= '2026-11-28' GROUP BY institution_id"
)


def cases(env: Env) -> list[Case]:
    db = Database(env.url)
    registry = Registry(db, "bench")
    on = dt.date(2026, 11, 28)

    def baseline() -> int:
        with db.engine.connect() as connection:
            return len(connection.execute(text(BASELINE)).all())

    return [
        Case(
            "validation base, all institutions (summary)",
            lambda: validation_base(registry, on, detail=False),
            baseline,
            target=2.0,
            note="baseline: one GROUP BY over the agreement rows in force that day, read fully; "
            "summary = the table `base` prints: no contributors, no risks",
        ),
        Case(
            "validation base, all institutions (full report)",
            lambda: validation_base(registry, on),
            baseline,
            target=2.0,
            note="with contributors and at-risk lists for every institution (= base --json)",
        ),
    ]
