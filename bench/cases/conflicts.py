"""Rows that conflict with each other: 5,000 contract rows for ONE physician, all at the same
hour (every row overlaps every other: 12.5 million pairs), against 5,000 rows for 5,000
physicians that each overlap only that physician's stored primary agreement. Both are
imported with ``--dry-run`` (nothing stored, the same rules run, every row but one rejected
either way), so the ratio says whether the cost depends on how the rows conflict: near 1
when it is linear in the rows (before the one-by-one admission it was quadratic: 322 s and
7.9 GB for the mutual file).
"""

from __future__ import annotations

import csv
from pathlib import Path

from run import Case, Env  # type: ignore[import-not-found]

from multisite.services import Registry
from multisite.services.imports import run_import
from multisite.storage import Database
from multisite.storage import queries as q

ROWS = 5_000
HEADERS = ["合同编号", "执业证书编码", "机构代码", "执业类型", "科室", "起始日期", "终止日期",
           "排班", "约定周工时"]  # fmt: skip


def _files(env: Env) -> tuple[Path, Path]:
    mutual, spread = env.scratch / "mutual.csv", env.scratch / "spread.csv"
    db = Database(env.url)
    picked = []
    with db.read() as s:
        for facts in q.all_physician_facts(s):
            primary = next((a for a in facts.agreements if a.role == "primary" and a.slots), None)
            if primary is not None:
                picked.append((facts.cert_no, primary))
            if len(picked) == ROWS:
                break
    db.dispose()

    def row(number: str, cert: str, primary: object) -> list[str]:
        a = primary
        slot = a.slots[0]  # type: ignore[attr-defined]
        return [number, cert, a.institution.code, "主要", a.department,  # type: ignore[attr-defined]
                a.start.isoformat(), a.end.isoformat(), str(slot), "4"]  # type: ignore[attr-defined]  # fmt: skip

    cert, primary = picked[0]
    for path, rows in (
        (mutual, [row(f"MUTUAL-{i}", cert, primary) for i in range(ROWS)]),
        (spread, [row(f"SPREAD-{i}", c, p) for i, (c, p) in enumerate(picked)]),
    ):
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADERS)
            writer.writerows(rows)
    return mutual, spread


def cases(env: Env) -> list[Case]:
    state: dict[str, Path] = {}

    def setup() -> None:
        if not state:
            state["mutual"], state["spread"] = _files(env)

    def dry_run(path: Path) -> None:
        db = Database(env.url)
        report = run_import(Registry(db, "bench"), "contracts", path, mode="dry-run")
        assert report.rejected >= ROWS - 1, report.rejected
        assert len(report.problems) < 10 * ROWS  # a few lines a row, not a line a pair
        db.dispose()

    return [
        Case(
            "importing 5,000 mutually conflicting rows (one physician, --dry-run)",
            lambda: dry_run(state["mutual"]),
            lambda: dry_run(state["spread"]),
            target=None,
            repeat=1,
            setup=setup,
            note="baseline: 5,000 rows for 5,000 physicians, each overlapping only its stored "
            "primary agreement",
        )
    ]
