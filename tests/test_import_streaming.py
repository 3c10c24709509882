"""A contracts file is streamed (SPEC §9: an import's memory does not grow with the file): its
rows are read, checked and written a chunk at a time in one transaction, the report is written
as the chunks are done, and only the contract numbers are held to the end. The chunk is made
small here (4 rows) so that a Guangxi office's file of a few dozen rows spans many chunks;
the rules still see across chunks, and all-or-nothing still stores nothing (SQLite and
PostgreSQL). A reader-level test shows the rows are not held: the peak of Python memory while
20,000 rows stream through is a small part of what holding them takes, and it does not grow
with the file: four times the rows, about the same peak (no timing)."""

from __future__ import annotations

import csv
import gc
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import select

from multisite.importing.readers import read_table
from multisite.importing.report import ImportReport, Problem, ReportTarget
from multisite.importing.rows import Rows, contract_rows
from multisite.services import Registry
from multisite.services import agreements as agreement_service
from multisite.services.imports import run_import
from multisite.storage.models import Agreement, AuditEntry

from .office import CLINIC, CONTRACT_HEADERS, DOCTORS, HOSPITAL, count, open_office, write_csv

CHUNK = 4


def _row(number: str, doctor: str, sessions: str, *, institution: str = HOSPITAL,
         role: str = "主要") -> list[str]:  # fmt: skip
    return [number, doctor, institution, role, "内科", "2026-01-05", "2026-12-31", sessions, "4"]


def _office_file(folder: Path) -> tuple[Path, dict[str, int]]:
    """Ten doctors' primary contracts, then further contracts; rows far apart in the file
    (several chunks) repeat a contract number and double-book a doctor. Returns the file and
    the spreadsheet row of each notable line."""
    rows = [_row(f"XN-{n:03d}", doctor, "周一 08:00-12:00") for n, doctor in enumerate(DOCTORS)]
    rows += [
        _row(f"XN-1{n:02d}", doctor, "周三 14:00-15:00", institution=CLINIC, role="其他")
        for n, doctor in enumerate(DOCTORS)
    ]
    rows.append(_row("XN-000", DOCTORS[5], "周五 08:00-09:00"))  # XN-000 is row 2's
    rows.append(  # doctor 0 is at the hospital on Monday morning (row 2)
        _row("XN-900", DOCTORS[0], "周一 09:00-10:00", institution=CLINIC, role="其他")
    )
    rows += [
        _row(f"XN-{day}{n:02d}", doctor, f"周{weekday} 14:00-15:00", institution=CLINIC,
             role="其他")
        for day, weekday in ((2, "四"), (3, "五"))
        for n, doctor in enumerate(DOCTORS[1:])
    ]  # fmt: skip
    path = write_csv(folder / "兴宁区合同.csv", CONTRACT_HEADERS, rows)
    return path, {"duplicate": 22, "overlap": 23, "last": len(rows) + 1}


@pytest.fixture
def office(registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    open_office(registry, tmp_path, doctors=10)
    monkeypatch.setattr(agreement_service, "STREAM_ROWS", CHUNK)
    return registry


def test_rows_in_different_chunks_are_checked_against_each_other(office: Registry, tmp_path):
    path, at = _office_file(tmp_path)
    report = run_import(office, "contracts", path, mode="partial")
    assert report.committed and report.rows_read == at["last"] - 1
    by_row = {p.row: p for p in report.problems if p.severity == "error"}
    assert set(by_row) == {at["duplicate"], at["overlap"]}
    assert (
        by_row[at["duplicate"]].code == "DUPLICATE" and "row 2 " in by_row[at["duplicate"]].message
    )
    assert by_row[at["overlap"]].code == "OVERLAP" and "XN-000" in by_row[at["overlap"]].message
    assert report.created == at["last"] - 1 - 2 == count(office, Agreement)
    with office.db.read() as s:
        numbers = set(s.scalars(select(Agreement.contract_no)))
    assert "XN-900" not in numbers and "XN-203" in numbers


def test_all_or_nothing_stores_nothing_when_a_later_chunk_has_a_bad_row(office: Registry, tmp_path):
    path, _at = _office_file(tmp_path)
    audit_before = count(office, AuditEntry)
    report = run_import(office, "contracts", path)  # all or nothing
    assert not report.committed and report.rejected == 2
    assert count(office, Agreement) == 0 and count(office, AuditEntry) == audit_before
    dry = run_import(office, "contracts", path, mode="dry-run")
    assert not dry.committed and count(office, Agreement) == 0
    assert [(p.row, p.code) for p in dry.problems] == [(p.row, p.code) for p in report.problems]


def test_the_report_is_written_as_the_chunks_are_done(
    office: Registry, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    path, at = _office_file(tmp_path)
    seen: list[tuple[int, set[int]]] = []  # (rows read so far, rows written) at each write
    write = ReportTarget.write_problems

    def spy(self: ReportTarget, problems: list[Problem]) -> None:
        seen.append((state["report"].rows_read, {p.row for p in problems}))
        write(self, problems)

    state: dict[str, ImportReport] = {}
    original_add = ImportReport.add

    def add(self: ImportReport, problems: list[Problem]) -> None:
        state["report"] = self
        original_add(self, problems)

    monkeypatch.setattr(ReportTarget, "write_problems", spy)
    monkeypatch.setattr(ImportReport, "add", add)
    target = ReportTarget(tmp_path / "报告.csv")
    report = run_import(office, "contracts", path, mode="partial", report_to=target)
    target.finish(report)
    # the duplicate's line was written while the reader was a few chunks past it, not at the end
    written = [read for read, rows in seen if at["duplicate"] in rows]
    assert written and written[0] < report.rows_read
    # rows are held a bounded number of chunks ahead of the report, never the whole file
    assert all(read + 1 - max(rows) <= 3 * CHUNK for read, rows in seen if rows)
    with (tmp_path / "报告.csv").open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert len(lines) == 1 + report.lines
    assert [int(line[0]) for line in lines[1:]] == sorted(int(line[0]) for line in lines[1:])
    errors = [line for line in lines[1:] if line[3] == "error"]
    assert [line[0] for line in errors] == [str(at["duplicate"]), str(at["overlap"])]
    assert errors[0][5:] == _office_rows(path)[at["duplicate"] - 2]  # the original cells


def _office_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="gb18030", newline="") as handle:
        return list(csv.reader(handle))[1:]


def _big_file(folder: Path, rows: int) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "大批合同.csv"
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CONTRACT_HEADERS)
        for n in range(rows):
            writer.writerow(
                _row(f"BIG-{n:07d}", DOCTORS[n % 10], f"周{'一二三四五'[n % 5]} 08:00-09:00",
                     institution=CLINIC, role="其他")
            )  # fmt: skip
    return path


def _peak(path: Path, hold: bool, rows_in_file: int) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        report = ImportReport("contracts", str(path), "partial")
        with read_table(path, kind="contracts") as table:
            rows = Rows(table, report, keep_originals=False)
            items = contract_rows(table, rows, lambda *_a: None)
            if hold:
                held = list(items)
                assert len(held) == rows_in_file
            else:
                assert sum(1 for _item in items) == rows_in_file
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_twenty_thousand_rows_stream_through_the_reader_without_being_held(tmp_path):
    small, large = _big_file(tmp_path / "5k", 5_000), _big_file(tmp_path / "20k", 20_000)
    _peak(small, hold=False, rows_in_file=5_000)  # first use: imports, caches
    streamed_small = _peak(small, hold=False, rows_in_file=5_000)
    streamed, held = _peak(large, hold=False, rows_in_file=20_000), _peak(large, True, 20_000)
    # holding 20,000 rows takes over 10 MB; streaming them about 1 MB, as for 5,000
    assert streamed * 5 < held, (streamed, held)
    assert streamed < 2 * streamed_small, (streamed_small, streamed)


def test_a_large_sheet_read_row_by_row_gives_the_rows_calamine_gives(
    tmp_path, monkeypatch: pytest.MonkeyPatch
):
    """A sheet past ``STREAMED_SHEET`` bytes is read with openpyxl's read-only mode (calamine
    holds a sheet whole); the rows, their numbers and cells are the same either way."""
    import datetime as dt

    from openpyxl import Workbook

    from multisite.importing import readers

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "合同"
    sheet.append(["兴宁区 2026 年多机构执业合同"])  # a title row: the header is row 2
    sheet.append([*CONTRACT_HEADERS, "备注"])
    sheet.append(["XN-1", DOCTORS[0], CLINIC, "其他", "内科", dt.date(2026, 1, 5),
                  dt.datetime(2026, 12, 31), "周一 08:00-12:00", 4, "夜班"])  # fmt: skip
    sheet.append([])
    sheet.append(["XN-2", DOCTORS[1], CLINIC, "其他", "内科", "2026-01-05", "2026-12-31",
                  "周二 08:00-12:00", 4.5, None])  # fmt: skip
    path = tmp_path / "合同.xlsx"
    workbook.save(path)

    def rows() -> tuple[str | None, list[tuple[int, dict, list[str], dict]]]:
        with read_table(path, kind="contracts") as table:
            return table.sheet, [(r.number, r.cells, r.original, r.notes) for r in table]

    whole = rows()
    monkeypatch.setattr(readers, "STREAMED_SHEET", 0)
    streamed = rows()
    assert streamed == whole and [number for number, *_rest in whole[1]] == [3, 5]
