"""Batch import of 100,000 contracts with every rule, against inserting the same rows with
SQLAlchemy Core executemany (SPEC §9), and the import's peak memory in a child process.

The file holds new additional agreements for physicians of the cached region: for each
physician, up to five one-hour Sunday sessions (07:00, 09:00, 11:00, 13:00, 15:00) at distinct
institutions of the physician's scope where they have no filing yet, inside the period of
their primary agreement, so that the rows are rule-clean (warnings allowed). Every rule runs
on every physician either way.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from run import Case, Env  # type: ignore[import-not-found]
from sqlalchemy import func, select

from multisite.domain import identifiers as ids
from multisite.services import Registry
from multisite.services.imports import run_import
from multisite.storage import Database, bulk
from multisite.storage import queries as q
from multisite.storage.batch import institution_facts
from multisite.storage.models import Agreement, AuditEntry, Filing, WorkSession, utcnow

TARGET_ROWS = 100_000
HOURS = (7, 9, 11, 13, 15)
HEADERS = ["合同编号", "执业证书编码", "机构代码", "执业类型", "科室", "起始日期", "终止日期",
           "排班", "约定周工时", "主要机构同意"]  # fmt: skip


def _make_file(env: Env, path: Path) -> int:
    db = Database(env.url)
    rows = 0
    with db.read() as s, path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        by_scope: dict[str, list[Any]] = defaultdict(list)
        for inst in institution_facts(s).values():
            for dept in inst.departments:
                by_scope[dept].append(inst)
        serial = 0
        for facts in q.all_physician_facts(s):
            primary = next((a for a in facts.agreements if a.role == "primary"), None)
            if primary is None or not facts.registrations:
                continue
            region = facts.registrations[0].region_code
            scope = next(iter(facts.scopes))
            used = {a.institution.id for a in facts.agreements} | {
                f.institution_id for f in facts.filings
            }
            start = max(primary.start, dt.date(2026, 1, 5))
            if start > primary.end:
                continue
            choices = [
                i
                for i in by_scope.get(scope, ())
                if i.id not in used and ids.region_contains(region, i.county_code)
            ]
            offset = facts.id % 97
            picked = (
                [choices[(offset + k * 13) % len(choices)] for k in range(5)] if choices else []
            )
            seen: set[int] = set()
            for hour, inst in zip(HOURS, picked, strict=False):
                if inst.id in seen or inst.dishonest:
                    continue
                seen.add(inst.id)
                serial += 1
                writer.writerow(
                    [f"IMP-{serial:07d}", facts.cert_no, inst.code, "其他", scope,
                     start.isoformat(), primary.end.isoformat(),
                     f"SU {hour:02d}:00-{hour + 1:02d}:00", "1", "是"]
                )  # fmt: skip
                rows += 1
                if rows >= TARGET_ROWS:
                    break
            if rows >= TARGET_ROWS:
                break
    db.dispose()
    return rows


def _baseline_rows(report_db: Database) -> dict[str, list[dict[str, Any]]]:
    """The rows an import wrote, read back so the baseline inserts exactly the same."""
    out: dict[str, list[dict[str, Any]]] = {}
    with report_db.read() as s:
        for name, model in (("agreements", Agreement), ("sessions", WorkSession),
                            ("filings", Filing)):  # fmt: skip
            table = model.__table__
            rows = [dict(r._mapping) for r in s.execute(table.select().where(table.c.id > 0))]
            out[name] = rows
        audits = s.execute(
            AuditEntry.__table__.select().where(AuditEntry.__table__.c.action == "create")
        )
        out["audit"] = [dict(r._mapping) for r in audits]
    return out


def cases(env: Env) -> list[Case]:
    # Everything is prepared lazily: load_cases builds every module's cases even when
    # --only selects others, and the file and the baseline rows take a while to make.
    path = env.scratch / f"import-contracts-{env.physicians}-{env.seed}.csv"
    state: dict[str, Any] = {}

    def prepare() -> None:
        if "rows" in state:
            return
        state["count"] = _make_file(env, path)
        prepare_baseline_rows()
        rows = state["rows"]
        time_case.note = (
            f"{state['count']:,} rows; baseline: the {len(rows['agreements']):,} agreements, "
            f"{len(rows['sessions']):,} sessions, {len(rows['filings']):,} filings and "
            f"{len(rows['audit']):,} audit rows the import writes, inserted with Core executemany"
        )

    def setup() -> None:
        prepare()
        state["url"], _path = env.fresh_copy("import")

    def product() -> None:
        db = Database(state["url"])
        report = run_import(Registry(db, "bench"), "contracts", path, mode="partial")
        state["report"] = report
        db.dispose()

    def baseline() -> None:
        # The same agreements, sessions, filings and audit rows, inserted with executemany.
        db = Database(state["url"])
        rows = state["rows"]
        with db.write() as s:
            bulk.insert_rows(s, Agreement, rows["agreements"])
            bulk.insert_rows(s, WorkSession, rows["sessions"])
            bulk.insert_rows(s, Filing, rows["filings"])
            bulk.insert_rows(s, AuditEntry, rows["audit"])
        db.dispose()

    def prepare_baseline_rows() -> None:
        # Run the import once to learn exactly which rows it writes (not timed).
        url, _p = env.fresh_copy("import-rows")
        db = Database(url)
        with db.read() as s:
            first_agreement = int(s.scalar(select(func.max(Agreement.id))) or 0)
            first_session = int(s.scalar(select(func.max(WorkSession.id))) or 0)
            first_filing = int(s.scalar(select(func.max(Filing.id))) or 0)
        run_import(Registry(db, "bench"), "contracts", path, mode="partial")
        rows = _baseline_rows(db)
        rows["agreements"] = [r for r in rows["agreements"] if r["id"] > first_agreement]
        rows["sessions"] = [r for r in rows["sessions"] if r["id"] > first_session]
        rows["filings"] = [r for r in rows["filings"] if r["id"] > first_filing]
        rows["audit"] = [r for r in rows["audit"] if r["clerk"] == "bench"]
        for r in rows["audit"]:
            r.pop("id", None)
            r["at"] = utcnow()
        db.dispose()
        state["rows"] = rows

    def memory() -> float:
        prepare()
        url, _p = env.fresh_copy("import-memory")
        script = (
            "import json, sys, time\n"
            # VmHWM is the peak RSS of this process image only (ru_maxrss of a forked child
            # may report the parent's size from before exec).
            "def hwm():\n"
            "    for line in open('/proc/self/status'):\n"
            "        if line.startswith('VmHWM:'):\n"
            "            return int(line.split()[1]) / 1024\n"
            "from multisite.services.imports import run_import\n"
            "from multisite.services import Registry\n"
            "from multisite.storage import Database\n"
            "started = time.perf_counter()\n"
            "r = run_import(Registry(Database(sys.argv[1]), 'bench'), 'contracts', sys.argv[2],"
            " mode='partial')\n"
            "print(json.dumps({'seconds': time.perf_counter() - started, 'created': r.created,"
            " 'rejected': r.rejected, 'warnings': len(r.problems) - r.rejected,"
            " 'peak_mb': hwm()}))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script, url, str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        state["memory"] = result
        mem_case.note = (
            f"peak RSS of the import in a child process: {result['peak_mb']:.0f} MB "
            f"(limit 300 MB); {result['created']:,} created, {result['rejected']:,} rejected, "
            f"{result['seconds']:.1f} s in the child"
        )
        return 300.0 / result["peak_mb"]

    time_case = Case(
        f"import {TARGET_ROWS:,} contracts, all rules (--partial)",
        product,
        baseline,
        target=2.0,
        setup=setup,
        repeat=1,
    )
    mem_case = Case(
        "import peak memory: 300 MB ÷ peak RSS",
        memory,
        lambda: 1.0,
        target=1.0,
        kind="rate",
        repeat=1,
    )
    return [time_case, mem_case]
