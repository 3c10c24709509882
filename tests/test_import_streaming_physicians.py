"""A physicians file is streamed as a contracts file is (SPEC §9: an import's memory does not
grow with the file): read, checked and written a chunk at a time in one transaction, its
report written as the chunks are done, only the certificates and the national IDs' hashes held
to the end. The chunk is made small here (4 rows) so that a Guangxi office's file of a few
dozen physicians spans many chunks: a certificate or a national ID met again chunks later is
still refused naming the first row, all-or-nothing still stores nothing, a dry run stores
nothing, and a physician already registered is changed where the row stands (SQLite and
PostgreSQL)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select

from multisite.domain import identifiers as ids
from multisite.importing.readers import read_table
from multisite.importing.report import ImportReport, Problem, ReportTarget
from multisite.importing.rows import ROW_PARSERS, Rows
from multisite.services import Registry
from multisite.services import physicians as physician_service
from multisite.services.imports import run_import
from multisite.storage.models import AuditEntry, Physician, Registration

from .office import DOCTORS, HOSPITAL, PHYSICIAN_HEADERS, count, open_office, write_csv

CHUNK = 4
HEADERS = [*PHYSICIAN_HEADERS, "身份证号"]


def national_id(n: int) -> str:
    first17 = f"45010219800101{n:03d}"
    return first17 + ids.id_check_char(first17)


def _row(cert: str, name: str, id_number: str, title: str = "主治医师") -> list[str]:
    return [cert, name, "执业医师", "临床", "内科", title, "450000", HOSPITAL, "2021-06-01",
            id_number]  # fmt: skip


def _office_file(folder: Path) -> tuple[Path, dict[str, int]]:
    """Twenty-two physicians of 兴宁区; rows chunks apart repeat a certificate (row 3's) and
    a national ID (row 2's), and row 16 changes the title of a physician already registered.
    Returns the file and the spreadsheet row of each notable line."""
    rows = [
        _row(f"1454500000{n:05d}", f"黄医生{n}", national_id(n)) for n in range(1, 21)
    ]  # spreadsheet rows 2 to 21
    rows.insert(9, _row(rows[1][0], "覃医生", national_id(90)))  # row 11: row 3's certificate
    rows.insert(12, _row("145450000099999", "蒙医生", rows[0][9]))  # row 14: row 2's national ID
    rows.insert(14, _row(DOCTORS[0], "韦医生1", "", title="副主任医师"))  # row 16: registered
    path = write_csv(folder / "兴宁区医师.csv", HEADERS, rows)
    return path, {"cert": 11, "national_id": 14, "change": 16, "last": len(rows) + 1}


@pytest.fixture
def office(registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    open_office(registry, tmp_path, doctors=2)
    monkeypatch.setattr(physician_service, "CREATE_CHUNK", CHUNK)
    return registry


def _title(registry: Registry, cert: str) -> str | None:
    with registry.db.read() as s:
        return s.scalar(select(Physician.title).where(Physician.cert_no == cert))


def test_rows_chunks_apart_are_checked_against_each_other(office: Registry, tmp_path: Path):
    path, at = _office_file(tmp_path)
    before = count(office, Physician)
    report = run_import(office, "physicians", path, mode="partial")
    assert report.committed and report.rows_read == at["last"] - 1
    errors = {p.row: p for p in report.problems if p.severity == "error"}
    assert set(errors) == {at["cert"], at["national_id"]}
    assert errors[at["cert"]].code == "DUPLICATE" and "row 3 " in errors[at["cert"]].message
    assert errors[at["national_id"]].column == "身份证号"
    assert "row 2 " in errors[at["national_id"]].message
    assert report.created == 20 and report.updated == 1
    assert count(office, Physician) == before + 20 == count(office, Registration)
    assert _title(office, DOCTORS[0]) == "副主任医师"
    assert _title(office, "145450000099999") is None  # its national ID was row 2's
    with office.db.read() as s:
        masked = s.scalar(select(Physician.id_masked).where(Physician.cert_no.like("14545%01")))
    assert masked is not None and national_id(1) not in masked


def test_all_or_nothing_and_dry_run_store_nothing_when_a_later_chunk_has_a_bad_row(
    office: Registry, tmp_path: Path
):
    path, at = _office_file(tmp_path)
    physicians, audit = count(office, Physician), count(office, AuditEntry)
    report = run_import(office, "physicians", path)  # all or nothing
    assert not report.committed and report.rejected == 2
    assert count(office, Physician) == physicians and count(office, AuditEntry) == audit
    assert _title(office, DOCTORS[0]) == "主治医师"  # the change went with the rest
    dry = run_import(office, "physicians", path, mode="dry-run")
    assert not dry.committed and count(office, Physician) == physicians
    assert count(office, AuditEntry) == audit
    assert [(p.row, p.code) for p in dry.problems] == [(p.row, p.code) for p in report.problems]
    assert {p.row for p in report.problems if p.severity == "error"} == {
        at["cert"],
        at["national_id"],
    }


def test_the_report_is_written_as_the_chunks_are_done(
    office: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path, at = _office_file(tmp_path)
    written: list[set[int]] = []  # the rows of each piece of the report, in order
    write = ReportTarget.write_problems

    def spy(self: ReportTarget, problems: list[Problem]) -> None:
        written.append({p.row for p in problems})
        write(self, problems)

    monkeypatch.setattr(ReportTarget, "write_problems", spy)
    target = ReportTarget(tmp_path / "报告.csv")
    report = run_import(office, "physicians", path, mode="partial", report_to=target)
    target.finish(report)
    # the repeated certificate's line went out in a piece of its own, before the last rows'
    pieces = [n for n, rows in enumerate(written) if at["cert"] in rows]
    assert pieces and any(max(rows, default=0) > at["cert"] for rows in written[pieces[0] + 1 :])
    with (tmp_path / "报告.csv").open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    errors = [line for line in lines[1:] if line[3] == "error"]
    assert [line[0] for line in errors] == [str(at["cert"]), str(at["national_id"])]
    assert all(national_id(1) not in cell for line in lines for cell in line)


@pytest.mark.parametrize("kind", ["physicians", "nurses"])
def test_a_roster_is_read_as_it_is_taken_not_held(tmp_path: Path, kind: str):
    """The reader hands each row on as it reads it (and keeps its cells for the report): the
    first physician or nurse comes before the second row is read, the thousandth before the
    thousand-and-first, whatever the file's length."""
    headers = HEADERS[:-1] if kind == "physicians" else ["护士执业证书编号", "姓名", "职称",
                                                          "注册地", "主要执业机构", "注册日期"]  # fmt: skip

    def line(n: int) -> list[str]:
        if kind == "physicians":
            return _row(f"1454500{n:08d}", f"黄医生{n}", "")[:-1]
        return [f"2045{n:08d}", f"黄护士{n}", "护士", "450000", HOSPITAL, "2021-06-01"]

    path = write_csv(tmp_path / f"{kind}.csv", headers, [line(n) for n in range(3000)])
    report = ImportReport(kind, str(path), "partial")
    with read_table(path, kind=kind) as table:
        rows = Rows(table, report, keep_originals=True)
        taken = iter(ROW_PARSERS[kind](table, rows, lambda *_a: None))
        number, _data = next(taken)
        assert number == 2 and report.rows_read == 1 and set(rows.originals) == {2}
        for _ in range(999):
            number, _data = next(taken)
        assert number == 1001 and report.rows_read == 1000
        assert sum(1 for _item in taken) == 2000 and report.rows_read == 3000
