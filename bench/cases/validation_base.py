"""Validation base (医师基数) for every institution against one GROUP BY over the agreements
in force that day, run with the raw driver (sqlite3 / psycopg).

The region-wide report reads each institution's stored result (``base_cache``) and recomputes
only the institutions whose inputs changed since (triggers mark them). So it is timed three
ways: with nothing changed since the last report, after a clerk's day of changes, and cold
(every institution computed from the agreement rows, as after a bulk load).
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Iterable

from run import Case, Env  # type: ignore[import-not-found]
from sqlalchemy import text

from multisite.services import Registry
from multisite.services.validation_base import report_json, report_json_chunks, validation_base
from multisite.storage import Database

ON = dt.date(2026, 11, 28)
BASELINE = (
    "SELECT institution_id, count(*) FROM agreement "
    "WHERE start <= '2026-11-28' AND \"end\" >= '2026-11-28' GROUP BY institution_id"
)
CHANGED = 300  # agreements a region's clerks change in a day (a generous figure)


def write_out(pieces: Iterable[bytes]) -> int:
    """Write the report where the command would (here: /dev/null), as `base --json` does."""
    with open(os.devnull, "wb") as sink:
        return sum(sink.write(piece) for piece in pieces)


def cases(env: Env) -> list[Case]:
    url, _path = env.fresh_copy("base")  # the report stores results: a private copy
    db = Database(url)
    registry = Registry(db, "bench")
    rng = random.Random(7)
    with db.engine.connect() as connection:
        ids = [row[0] for row in connection.execute(text("SELECT id FROM agreement"))]

    raw = env.raw(url)

    def baseline() -> int:
        cursor = raw.cursor()
        found = len(cursor.execute(BASELINE).fetchall())
        cursor.close()
        return found

    def summary() -> int:
        return len(validation_base(registry, ON, detail=False))

    def a_day_of_changes() -> None:
        summary()  # up to date first, then CHANGED agreements rewritten as a clerk would
        with db.engine.begin() as connection:
            connection.execute(
                text("UPDATE agreement SET weekly_minutes = weekly_minutes WHERE id = :id"),
                [{"id": i} for i in rng.sample(ids, CHANGED)],
            )

    def everything_stale() -> None:
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE base_cache SET valid_until = NULL"))

    return [
        Case(
            "validation base, all institutions (the `base` report)",
            summary,
            baseline,
            target=2.0,
            setup=summary,
            note="floor: one GROUP BY over the agreement rows in force that day, read "
            "fully (raw driver); report = kind, beds, required, title minima, counted, shortfall, status, "
            "next validation, contributors and risks (counts, first day) of every institution, "
            "nothing changed since the last report",
        ),
        Case(
            "validation base, all institutions with contributors (`base --json`)",
            lambda: write_out(report_json_chunks(registry, ON)),
            baseline,
            target=2.0,
            setup=lambda: report_json(registry, ON),
            note="SPEC §6's JSON: every institution with its contributors (physician, share, "
            "hours, title) and every risk listed; nothing changed since the last report",
        ),
        Case(
            f"validation base report after {CHANGED} contracts changed",
            summary,
            baseline,
            target=None,
            setup=a_day_of_changes,
            note=f"{CHANGED} agreements rewritten since the last report: their institutions "
            "are recomputed from the agreement rows and stored",
        ),
        Case(
            "validation base report, cold (every institution recomputed)",
            summary,
            baseline,
            target=5.0,
            repeat=1,
            setup=everything_stale,
            note="as after a bulk load or a policy change: all institutions from the agreements",
        ),
        Case(
            "validation base computed afresh, every contributor (`base --full`)",
            lambda: validation_base(registry, ON),
            baseline,
            target=None,
            repeat=1,
            note="the detailed objects from the agreement rows, nothing stored: 367k "
            "contributors with names and titles, every risk",
        ),
    ]
