"""SIGKILL in the middle of an import or a write leaves the database exactly as before (SPEC §10).

The import is the real command line (``multisite import contracts FILE --partial``) in a
subprocess, on a file of several thousand rule-clean rows for a demo region, killed at random
moments. The single write is ``Registry.save_agreement`` in a subprocess that pauses at every
SQL statement it sends, so the kill lands at a chosen statement: before the agreement row,
between it and its sessions, before the audit row, just before COMMIT. After each kill the
agreement, session, filing and audit tables are compared (counts and a SHA-256 of the sorted
rows) with their state before the operation.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa

from multisite.cli.main import main
from multisite.domain import identifiers as ids
from multisite.storage import Database
from multisite.storage import queries as q
from multisite.storage.batch import institution_facts

from .factories import build_region, primary

TABLES = ("agreement", "work_session", "filing", "filing_event", "audit_entry")
HEADERS = ["合同编号", "执业证书编码", "机构代码", "执业类型", "科室", "起始日期", "终止日期",
           "排班", "约定周工时", "主要机构同意"]  # fmt: skip
PHYSICIANS = 700
IMPORT_KILLS = 3
WRITE_KILLS = 4
ROOT = Path(__file__).resolve().parent.parent


def state(url: str) -> dict[str, tuple[int, str]]:
    engine = sa.create_engine(url)
    out = {}
    try:
        with engine.connect() as connection:
            for table in TABLES:
                rows = sorted(
                    repr(tuple(r)) for r in connection.execute(sa.text(f"SELECT * FROM {table}"))
                )
                out[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    finally:
        engine.dispose()
    return out


def contracts_file(url: str, path: Path) -> int:
    """New additional agreements (one-hour Sunday sessions at unused institutions of the
    physician's scope and region, inside the primary's period): rule-clean rows."""
    db = Database(url)
    rows = 0
    with db.read() as s, path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        by_scope = defaultdict(list)
        for inst in institution_facts(s).values():
            for dept in inst.departments:
                by_scope[dept].append(inst)
        for facts in q.all_physician_facts(s):
            primary_ = next((a for a in facts.agreements if a.role == "primary"), None)
            if primary_ is None or not facts.registrations:
                continue
            region, scope = facts.registrations[0].region_code, next(iter(facts.scopes))
            used = {a.institution.id for a in facts.agreements}
            used |= {f.institution_id for f in facts.filings}
            start = max(primary_.start, dt.date(2026, 1, 5))
            choices = [
                i
                for i in by_scope.get(scope, ())
                if i.id not in used and not i.listed and ids.region_contains(region, i.county_code)
            ]
            if start > primary_.end:
                continue
            picked = (
                {choices[(facts.id + k * 13) % len(choices)].code for k in range(5)}
                if choices
                else set()
            )
            for hour, code in zip((7, 9, 11, 13, 15), sorted(picked), strict=False):
                rows += 1
                writer.writerow(
                    [f"K-{rows:06d}", facts.cert_no, code, "其他", scope, start.isoformat(),
                     primary_.end.isoformat(), f"SU {hour:02d}:00-{hour + 1:02d}:00", "1", "是"]
                )  # fmt: skip
    db.dispose()
    return rows


def cli(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "multisite.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "MULTISITE_CLERK": "kill-test"},
    )


@pytest.mark.slow
def test_a_killed_import_leaves_the_database_as_before(db_url, tmp_path):
    assert main(["--db", db_url, "init"]) == 0
    demo = ["demo", "--physicians", str(PHYSICIANS), "--seed", "5", "--nurses-per-physician", "0"]
    assert main(["--db", db_url, *demo]) == 0
    file = tmp_path / "contracts.csv"
    rows = contracts_file(db_url, file)
    assert rows > 1500
    reference = state(db_url)
    began = time.monotonic()  # a dry run reads and checks like the real one, writes nothing
    assert cli("--db", db_url, "import", "contracts", str(file), "--dry-run").wait(120) == 0
    checking = time.monotonic() - began
    assert state(db_url) == reference
    rnd = random.Random(8)
    killed = completed = inconsistencies = 0
    for _ in range(IMPORT_KILLS):
        process = cli("--db", db_url, "import", "contracts", str(file), "--partial")
        time.sleep(rnd.uniform(0.3, 0.8 * checking))  # while reading, checking or writing
        process.send_signal(signal.SIGKILL)
        code = process.wait(timeout=60)
        after = state(db_url)
        whole = all(after[t][0] == reference[t][0] + rows for t in ("agreement", "work_session"))
        if after != reference and whole:  # committed before the kill: all of it is there
            completed += 1
            reference = after
        else:
            killed += code == -signal.SIGKILL
            inconsistencies += after != reference
    assert inconsistencies == 0
    assert killed + completed == IMPORT_KILLS and killed >= IMPORT_KILLS - 1, (killed, completed)
    # Not killed, the same import changes the database: the kills interrupted real work.
    assert cli("--db", db_url, "import", "contracts", str(file), "--partial").wait(120) == 0
    assert completed or state(db_url)["agreement"][0] == reference["agreement"][0] + rows
    print(
        f"\nimport kills {db_url.split(':')[0]}: {rows} rows, checking {checking:.1f} s, "
        f"{killed} SIGKILLs before commit, {completed} after, {inconsistencies} inconsistencies"
    )


WRITER = textwrap.dedent(
    """
    import sys, time
    import sqlalchemy as sa
    sys.path.insert(0, sys.argv[5])
    from multisite.storage import Database
    from multisite.services import Registry
    from tests.factories import CLINIC, agreement

    url, stop_at, contract, sessions = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    db = Database(url)
    registry = Registry(db, clerk="kill-test")
    registry.prepare_rules()
    seen = [0]

    def pause(conn, cursor, statement, *rest):
        seen[0] += 1
        if seen[0] == stop_at:
            print(f"at {seen[0]} {statement.split()[0]}", flush=True)
            time.sleep(60)  # the parent kills us here

    def commit(conn):
        pause(conn, None, "COMMIT")

    sa.event.listen(db.engine, "before_cursor_execute", pause)
    sa.event.listen(db.engine, "commit", commit)
    registry.save_agreement(agreement(contract, CLINIC, sessions))
    print("ACK", seen[0], flush=True)
    """
)


def test_a_write_killed_at_any_statement_is_all_or_nothing(registry, database, db_url, tmp_path):
    build_region(registry)
    primary(registry)
    database.dispose()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)

    def write(stop_at: int, slot: int | None = None) -> tuple[list[str], int]:
        # each attempt its own Saturday slot: attempts never conflict
        minute = 30 * (stop_at if slot is None else slot)
        sessions = (
            f"SA {minute // 60:02d}:{minute % 60:02d}-{minute // 60:02d}:{minute % 60 + 20:02d}"
        )
        process = subprocess.Popen(
            [sys.executable, str(script), db_url, str(stop_at), f"KILL-{stop_at}", sessions,
             str(ROOT)],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert process.stdout is not None
        lines: list[str] = []
        while line := process.stdout.readline():
            lines.append(line)
            if line.startswith(("at ", "ACK")):
                break
        process.send_signal(signal.SIGKILL)
        return lines, process.wait(timeout=60)

    def growth(before: dict[str, tuple[int, str]]) -> dict[str, int]:
        after = state(db_url)
        return {t: after[t][0] - before[t][0] for t in TABLES}

    before = state(db_url)
    lines, _code = write(0)  # not paused: the first contract at CLINIC files it (备案)
    assert lines[-1].startswith("ACK")
    assert growth(before) == {
        "agreement": 1, "work_session": 1, "filing": 1, "filing_event": 1, "audit_entry": 2
    }  # fmt: skip
    before = state(db_url)
    lines, _code = write(10**6, slot=47)  # the filing covers the next ones: how a save grows
    assert lines[-1].startswith("ACK")
    statements = int(lines[-1].split()[1])  # SQL statements of one save, COMMIT included
    grew = growth(before)
    assert grew == {
        "agreement": 1, "work_session": 1, "filing": 0, "filing_event": 0, "audit_entry": 1
    }  # fmt: skip
    killed = committed = inconsistencies = 0
    points: list[str] = []
    rnd = random.Random(11)
    chosen = sorted({*rnd.sample(range(1, statements - 1), WRITE_KILLS - 2), statements - 1})
    for stop_at in [*chosen, statements]:  # ... always the last statement and the COMMIT itself
        before = state(db_url)
        lines, code = write(stop_at)
        paused = [x for x in lines if x.startswith("at ")]
        assert paused, lines
        points.append(paused[0].split()[2])
        killed += code == -signal.SIGKILL
        now = state(db_url)
        if now == before:
            continue
        if {t: now[t][0] - before[t][0] for t in TABLES} == grew:
            committed += 1  # killed after COMMIT reached the database: the whole write
        else:
            inconsistencies += 1
    # the last statement moves the audit chain's head (storage.audit.append_audit)
    assert killed == WRITE_KILLS and points[-2:] == ["UPDATE", "COMMIT"]
    assert inconsistencies == 0
    print(
        f"\nwrite kills {database.dialect}: {killed} SIGKILLs at {' '.join(points)}; "
        f"{committed} after commit, {inconsistencies} inconsistencies"
    )
