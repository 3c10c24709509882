"""Rule results are bounded per row, and an import's cost does not depend on how its rows
conflict (SQLite and PostgreSQL). 5,000 mutually overlapping rows for one physician used to
take 322 s, 7.9 GB and a 2.8 GB report (a line for every pair); now each rejected row lists a
few conflicts and counts the rest. Seconds are printed, not asserted (bench/cases/conflicts.py
measures the ratio)."""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import select

from multisite.services import Registry
from multisite.services.agreements import LISTED, ONE_BY_ONE
from multisite.services.imports import run_import
from multisite.storage.models import Agreement

from .office import DOCTORS, contract, open_office, write_jsonl


def test_1500_mutually_overlapping_rows_cost_a_few_lines_each_and_store_the_first(
    registry: Registry, tmp_path
):
    open_office(registry, tmp_path)
    rows = [contract(f"OV-{i}", DOCTORS[0], "周一 08:00-12:00") for i in range(1500)]
    path = write_jsonl(tmp_path / "合同.jsonl", rows)
    started = time.perf_counter()
    report = run_import(registry, "contracts", path, mode="partial")
    seconds = time.perf_counter() - started
    print(f"\n1,500 mutually overlapping rows ({registry.db.dialect}): {seconds:.1f} s, "
          f"{len(report.problems):,} report lines")  # fmt: skip
    assert report.committed and report.created == 1 and report.rejected == 1499
    per_row = Counter(p.row for p in report.problems)
    assert max(per_row.values()) <= 2 * (LISTED + 1)
    with registry.db.read() as s:
        assert s.scalars(select(Agreement.contract_no)).all() == ["OV-0"]


def test_a_row_in_conflict_with_many_lists_a_few_and_counts_the_rest(registry, tmp_path):
    open_office(registry, tmp_path)
    count = ONE_BY_ONE - 4  # the whole-batch check, where a row meets every earlier row
    rows = [contract(f"OV-{i}", DOCTORS[0], "周一 08:00-12:00") for i in range(count)]
    report = run_import(registry, "contracts", write_jsonl(tmp_path / "c.jsonl", rows),
                        mode="dry-run")  # fmt: skip
    last = [p.message for p in report.problems if p.row == count and p.code == "OVERLAP"]
    assert len(last) == LISTED + 1
    more = count - 1 - LISTED
    assert last[-1] == f"… and {more} more OVERLAP conflicts of this row ({count - 1} in all)."
