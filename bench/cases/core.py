"""Registry core: demo generation against inserting the same rows with Core executemany."""

from __future__ import annotations

import datetime as dt
import itertools

from run import Case, Env  # type: ignore[import-not-found]

from multisite.services import Registry, demo
from multisite.storage import Database, bulk
from multisite.storage.audit import audit_row
from multisite.storage.models import AuditEntry

_counter = itertools.count()


def cases(env: Env) -> list[Case]:
    size = min(env.physicians, 30_000)
    today = dt.date(2026, 11, 28)
    built = demo.build(size, env.seed, today)
    # one audit row per region, institution, physician and agreement, as the product writes
    audit_rows = [
        audit_row("bench", "create", entity, str(row[key]), None, {k: str(v) for k, v in row.items()})
        for entity, rows, key in (("region", built.regions, "code"),
                                  ("institution", built.institutions, "code"),
                                  ("physician", built.physicians, "cert_no"),
                                  ("agreement", built.agreements, "contract_no"))
        for row in rows
    ]  # fmt: skip
    state: dict[str, Database] = {}

    def fresh() -> None:
        if "db" in state:
            state["db"].dispose()
        state["db"] = Database(env.empty(f"demo_{next(_counter) % 2}"))

    def product() -> None:
        demo.generate(Registry(state["db"], "bench"), size, env.seed, today=today, rows=False)

    def baseline() -> None:
        db = state["db"]
        with db.write() as s:
            for model, attr in demo.TABLES:
                bulk.insert_rows(s, model, getattr(built, attr))
            bulk.insert_rows(s, AuditEntry, audit_rows)

    return [
        Case(
            f"demo generation ({size:,} physicians)",
            product,
            baseline,
            target=None,
            setup=fresh,
            repeat=1,
            note="baseline: the same rows and an audit row each, inserted with Core executemany (no generation, no rule checks)",
        )
    ]
