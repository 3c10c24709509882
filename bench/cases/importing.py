"""Batch imports against the raw driver inserting the same rows (SPEC §9), and peak memory.

* 100,000 contracts with every rule, into the cached region: new additional agreements for
  physicians of the region, up to five one-hour Sunday sessions (07:00, 09:00, 11:00, 13:00,
  15:00) at distinct institutions of the physician's scope where they have no filing yet,
  inside the period of their primary agreement, so that the rows are rule-clean (warnings
  allowed). Every rule runs on every physician either way.
* 60,000 new physicians with their registrations (main institutions of the region).

The floor is the raw driver inserting exactly the rows the import wrote (read back from the
product's run, so no second import is needed): the agreement and session rows for contracts,
the physician, registration and registration-event rows for physicians; ``sqlite3``
``executemany`` in one transaction, or ``psycopg`` ``COPY`` in one transaction. The older
baseline (extra column) is SQLAlchemy Core ``executemany`` of the same rows. On PostgreSQL one
more line measures psycopg ``executemany`` (pipeline mode) against ``COPY``.
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
from sqlalchemy import Table

from multisite.domain import identifiers as ids
from multisite.services import Registry
from multisite.services.imports import run_import
from multisite.storage import Database
from multisite.storage import queries as q
from multisite.storage.batch import institution_facts
from multisite.storage.models import (
    Agreement,
    Physician,
    Registration,
    RegistrationEvent,
    WorkSession,
)

CONTRACT_ROWS = 100_000
PHYSICIAN_ROWS = 60_000
HOURS = (7, 9, 11, 13, 15)
CONTRACT_HEADERS = ["合同编号", "执业证书编码", "机构代码", "执业类型", "科室", "起始日期",
                    "终止日期", "排班", "约定周工时", "主要机构同意"]  # fmt: skip
PHYSICIAN_HEADERS = ["执业证书编码", "姓名", "医师级别", "执业类别", "执业范围", "职称", "注册地",
                     "主要执业机构", "注册日期"]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞"
TITLES = ("住院医师", "主治医师", "副主任医师", "主任医师")


def _by_scope(s: Any) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = defaultdict(list)
    for inst in institution_facts(s).values():
        for dept in inst.departments:
            found[dept].append(inst)
    return found


def contracts_file(env: Env, path: Path) -> int:
    """The contracts file for the region (made once per region size and seed)."""
    counted = path.with_suffix(".rows")
    if path.exists() and counted.exists():
        return int(counted.read_text())
    db = Database(env.url)
    rows = 0
    with db.read() as s, path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CONTRACT_HEADERS)
        by_scope = _by_scope(s)
        serial = 0
        for facts in q.all_physician_facts(s):
            primary = next((a for a in facts.agreements if a.role == "primary"), None)
            if primary is None or not facts.registrations or not facts.scopes:
                continue  # (a nurse has no scopes: the file is physicians' contracts)
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
                if inst.id in seen or inst.listed:
                    continue
                seen.add(inst.id)
                serial += 1
                writer.writerow(
                    [f"IMP-{serial:07d}", facts.cert_no, inst.code, "其他", scope,
                     start.isoformat(), primary.end.isoformat(),
                     f"SU {hour:02d}:00-{hour + 1:02d}:00", "1", "是"]
                )  # fmt: skip
                rows += 1
                if rows >= CONTRACT_ROWS:
                    break
            if rows >= CONTRACT_ROWS:
                break
    db.dispose()
    counted.write_text(str(rows))
    return rows


def physicians_file(env: Env, path: Path, count: int = PHYSICIAN_ROWS) -> int:
    """New physicians (certificate numbers no demo uses: 9…) with main institutions of the
    region that offer their scope."""
    if path.exists():
        return count
    db = Database(env.url)
    with db.read() as s:
        by_scope = _by_scope(s)
    db.dispose()
    scopes = sorted(k for k in ("内科", "外科", "儿科", "妇产科", "全科医学") if by_scope.get(k))
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PHYSICIAN_HEADERS)
        for n in range(count):
            scope = scopes[n % len(scopes)]
            main = by_scope[scope][(n * 7919) % len(by_scope[scope])]
            name = SURNAMES[n % 20] + GIVEN[(n // 20) % 20] + GIVEN[(n // 400) % 20]
            writer.writerow(
                [f"9{n:014d}", name, "执业医师", "临床", scope, TITLES[n % 4], "330000",
                 main.code, f"20{10 + n % 15}-0{1 + n % 9}-1{n % 10}"]
            )  # fmt: skip
    return count


MILLION = 1_000_000


def million_file(env: Env, path: Path) -> int:
    """A 1,000,000-row contracts file (``.csv``, ``.jsonl`` or ``.xlsx`` by its suffix): the
    region's 100,000 rule-clean contracts (``contracts_file``), then 900,000 contracts of
    physicians the region does not hold (certificate numbers 8…), each a rejected row with
    its report line. Every row is read, checked and reported; the first 100,000 are stored.
    What it measures is memory: a million contract numbers held, a million rows streamed,
    900,000 report lines written as they are found."""
    if path.exists():
        return MILLION
    clean = env.scratch / f"import-contracts-{env.physicians}-{env.seed}.csv"
    contracts_file(env, clean)
    with clean.open(encoding="utf-8-sig", newline="") as handle:
        first = list(csv.reader(handle))[1:]
    codes = [r[2] for r in first[:1000]]

    def rows() -> Any:
        yield from first
        for n in range(len(first), MILLION):
            yield [f"MIL-{n:07d}", f"8{n:014d}", codes[n % len(codes)], "其他", "内科",
                   "2026-01-05", "2026-12-31", f"SU {7 + n % 5 * 2:02d}:00-{8 + n % 5 * 2:02d}:00",
                   "1", "是"]  # fmt: skip

    tmp = path.with_suffix(".part" + path.suffix)
    if path.suffix == ".jsonl":
        with tmp.open("w", encoding="utf-8") as handle:
            for row in rows():
                handle.write(json.dumps(dict(zip(CONTRACT_HEADERS, row, strict=True)),
                                        ensure_ascii=False) + "\n")  # fmt: skip
    elif path.suffix == ".xlsx":
        _write_xlsx(tmp, [CONTRACT_HEADERS], rows())
    else:
        with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(CONTRACT_HEADERS)
            writer.writerows(rows())
    tmp.rename(path)
    return MILLION


def million_physicians_file(env: Env, path: Path) -> int:
    """A 1,000,000-row physicians file (CSV): the 60,000 new physicians of
    ``physicians_file``, then 940,000 whose main institution the region does not hold (each
    read, checked, refused and reported). What it measures is memory: a million certificates
    held, a million rows streamed, their report lines written as they are found."""
    if path.exists():
        return MILLION
    clean = env.scratch / f"import-physicians-{PHYSICIAN_ROWS}.csv"
    physicians_file(env, clean)
    tmp = path.with_suffix(".part" + path.suffix)
    with (
        clean.open(encoding="utf-8-sig", newline="") as source,
        tmp.open("w", encoding="utf-8-sig", newline="") as handle,
    ):
        writer = csv.writer(handle)
        writer.writerows(csv.reader(source))  # the header and the 60,000
        for n in range(PHYSICIAN_ROWS, MILLION):
            writer.writerow(
                [f"8{n:014d}", SURNAMES[n % 20] + GIVEN[(n // 20) % 20], "执业医师", "临床",
                 "内科", TITLES[n % 4], "330000", "12330000MB0000000X", "2020-03-01"]
            )  # fmt: skip
    tmp.rename(path)
    return MILLION


def _write_xlsx(path: Path, head: list[list[str]], rows: Any) -> None:
    """A workbook of one sheet with inline strings, written as a stream (openpyxl's writer
    takes 80 s for 100,000 rows; this takes a few seconds)."""
    import zipfile
    from xml.sax.saxutils import escape

    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="合同" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b"<sheetData>"
            )
            for number, row in enumerate(_chain(head, rows), start=1):
                cells = "".join(
                    f'<c t="inlineStr"><is><t>{escape(str(v))}</t></is></c>' for v in row
                )
                sheet.write(f'<row r="{number}">{cells}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")


def _chain(head: list[list[str]], rows: Any) -> Any:
    yield from head
    yield from rows


class RawRows:
    """Rows an import wrote, read back with the raw driver, and their re-insertion."""

    def __init__(self, env: Env, tables: list[str]) -> None:
        self.env, self.tables = env, tables
        self.first: dict[str, int] = {}
        self.rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
        self.dicts: dict[str, list[dict[str, Any]]] = {}

    def before(self, url: str) -> None:
        """Remember the largest ids before the import (rows above them are its rows)."""
        raw = self.env.raw(url)
        for table in self.tables:
            found = raw.cursor().execute(f"SELECT max(id) FROM {table}").fetchone()
            self.first[table] = int(found[0] or 0)
        raw.close()

    def capture(self, url: str) -> None:
        raw = self.env.raw(url)
        mark = "?" if self.env.engine == "sqlite" else "%s"
        for table in self.tables:
            cursor = raw.cursor()
            cursor.execute(f"SELECT * FROM {table} WHERE id > {mark}", (self.first[table],))
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            if self.env.engine == "postgresql":  # JSON values go back as JSON
                from psycopg.types.json import Json

                rows = [
                    tuple(Json(v) if isinstance(v, dict | list) else v for v in r) for r in rows
                ]
            self.rows[table] = (columns, rows)
        raw.close()
        db = Database(url)  # the same rows as SQLAlchemy hands them (for Core executemany)
        with db.engine.connect() as connection:
            for table in self.tables:
                t: Table = _TABLES[table].__table__
                query = t.select().where(t.c.id > self.first[table])
                self.dicts[table] = [dict(r._mapping) for r in connection.execute(query)]
        db.dispose()

    def counts(self) -> str:
        return ", ".join(f"{len(self.rows[t][1]):,} {t}" for t in self.tables)

    def insert_raw(self, url: str, method: str = "floor") -> None:
        """sqlite3 executemany in one transaction; psycopg COPY (or ``method="executemany"``:
        psycopg executemany, which runs in pipeline mode) in one transaction."""
        raw = self.env.raw(url)
        if self.env.engine == "sqlite":
            raw.execute("BEGIN")
            for table in self.tables:
                columns, rows = self.rows[table]
                names = ", ".join(f'"{c}"' for c in columns)
                marks = ", ".join("?" for _ in columns)
                raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            raw.execute("COMMIT")
        else:
            with raw.transaction(), raw.cursor() as cursor:
                for table in self.tables:
                    columns, rows = self.rows[table]
                    names = ", ".join(f'"{c}"' for c in columns)
                    if method == "executemany":
                        marks = ", ".join("%s" for _ in columns)
                        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
                        continue
                    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
        raw.close()

    def insert_core(self, url: str) -> None:
        db = Database(url)
        with db.write() as s:
            connection = s.connection()
            for table in self.tables:
                if self.dicts[table]:
                    connection.execute(_TABLES[table].__table__.insert(), self.dicts[table])
        db.dispose()


_TABLES: dict[str, Any] = {
    "agreement": Agreement,
    "work_session": WorkSession,
    "physician": Physician,
    "registration": Registration,
    "registration_event": RegistrationEvent,
}


def _import_case(
    env: Env, kind: str, path: Path, make: Any, tables: list[str], title: str, mode: str
) -> list[Case]:
    """The product import of ``path`` against the raw insert of the rows it wrote. Each side
    runs on a fresh copy of the region; the floor's rows are read back from the product's."""
    state: dict[str, Any] = {"raw": RawRows(env, tables)}
    raw: RawRows = state["raw"]
    name = f"import-{kind}"

    def setup() -> None:
        if "count" not in state:
            state["count"] = make(env, path)
        if "product_url" in state and not raw.rows:
            raw.capture(state["product_url"])
            driver = "sqlite3 executemany" if env.engine == "sqlite" else "psycopg COPY"
            case.note = (
                f"{state['count']:,} rows; {state['report']}; floor: {raw.counts()} "
                f"inserted by {driver} in one transaction; older: Core executemany of them"
            )
        state["url"], _path = env.fresh_copy(name)
        if not raw.first:
            raw.before(state["url"])

    def product() -> None:
        db = Database(state["url"])
        report = run_import(Registry(db, "bench"), kind, path, mode=mode)
        db.dispose()
        state["product_url"] = state["url"]
        state["report"] = f"{report.created:,} created, {report.rejected:,} rejected, mode {mode}"

    case = Case(
        title,
        product,
        lambda: raw.insert_raw(state["url"]),
        target=3.0,
        setup=setup,
        repeat=1,
        older=lambda: raw.insert_core(state["url"]),
    )
    found = [case]
    if env.engine == "postgresql":
        found.append(
            Case(
                f"  raw insert of those {kind}: psycopg executemany (pipeline) vs COPY",
                lambda: raw.insert_raw(state["url"], "executemany"),
                lambda: raw.insert_raw(state["url"]),
                target=None,
                setup=setup,
                repeat=1,
                note="which raw path the import's floor and a bulk writer should use",
            )
        )
    return found


def _memory_case(env: Env, path: Path, make: Any, title: str = "", kind: str = "contracts") -> Case:
    state: dict[str, Any] = {}

    def memory() -> float:
        make(env, path)
        url, _p = env.fresh_copy("import-memory")
        report = env.scratch / "import-memory-report.csv"
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
            "from multisite.importing.report import ReportTarget\n"
            "started = time.perf_counter()\n"
            "target = ReportTarget(sys.argv[3])\n"
            "r = run_import(Registry(Database(sys.argv[1]), 'bench'), sys.argv[4], sys.argv[2],"
            " mode='partial', report_to=target)\n"
            "target.finish(r)\n"
            "print(json.dumps({'seconds': time.perf_counter() - started, 'created': r.created,"
            " 'rejected': r.rejected, 'warnings': len(r.problems) - r.rejected,"
            " 'peak_mb': hwm()}))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script, url, str(path), str(report), kind],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        state["memory"] = result
        case.note = (
            f"peak RSS of the import in a child process: {result['peak_mb']:.0f} MB "
            f"(limit 300 MB); {result['created']:,} created, {result['rejected']:,} rejected, "
            f"report written as it went; {result['seconds']:.1f} s in the child"
        )
        return 300.0 / result["peak_mb"]

    case = Case(
        title or "import peak memory: 300 MB ÷ peak RSS",
        memory,
        lambda: 1.0,
        target=1.0,
        kind="rate",
        repeat=1,
    )
    return case


def cases(env: Env) -> list[Case]:
    # Everything is prepared lazily: load_cases builds every module's cases even when
    # --only selects others, and the files take a while to make. The files are the same on
    # both engines (the demo is deterministic).
    contracts = env.scratch / f"import-contracts-{env.physicians}-{env.seed}.csv"
    physicians = env.scratch / f"import-physicians-{PHYSICIAN_ROWS}.csv"
    return [
        *_import_case(
            env, "contracts", contracts, contracts_file, ["agreement", "work_session"],
            f"import {CONTRACT_ROWS:,} contracts, all rules (--partial)", "partial",
        ),
        *_import_case(
            env, "physicians", physicians, physicians_file,
            ["physician", "registration", "registration_event"],
            f"import {PHYSICIAN_ROWS:,} physicians with registrations", "all",
        ),
        _memory_case(env, contracts, contracts_file),
        *(
            _memory_case(
                env, env.scratch / f"import-million-{env.physicians}-{env.seed}.{suffix}",
                million_file, f"import peak memory, 1,000,000 rows ({suffix}): 300 MB ÷ peak",
            )
            for suffix in ("csv", "jsonl", "xlsx")
        ),
        _memory_case(
            env, env.scratch / f"import-million-physicians-{env.physicians}-{env.seed}.csv",
            million_physicians_file, "import peak memory, 1,000,000 physicians (csv): 300 MB ÷ peak",
            kind="physicians",
        ),
    ]  # fmt: skip
