"""Batch import (SPEC §7): files real offices send, rules across the batch and against stored
data, the three modes, idempotent re-import, the report and the command line."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from multisite.cli.main import main
from multisite.services import Registry
from multisite.services.imports import run_import, write_report_csv
from multisite.storage.models import (
    Agreement,
    AuditEntry,
    Filing,
    Institution,
    Physician,
    WorkSession,
)
from tests.factories import (
    CENTRE,
    CLINIC,
    DR_LI,
    DR_ZHANG,
    HOSPITAL,
    assert_patterns_match_sessions,
    build_region,
    primary,
)

HEADERS = [
    "合同编号",
    "执业证书编码",
    "机构代码",
    "执业类型",
    "科室",
    "起始日期",
    "终止日期",
    "排班",
    "约定周工时",
    "主要机构同意",
    *("工作任务", "医疗责任", "薪酬", "相关保险", "人事关系"),  # the terms every contract fixes
]
TERMS_CELLS = [
    "门诊诊疗",
    "医疗责任由执业机构承担",
    "按次结算",
    "医疗责任保险",
    "人事关系在主要执业机构",
]


def row(
    no: str,
    sessions: str,
    *,
    cert: str = DR_ZHANG,
    inst: str = CLINIC,
    role: str = "其他",
    start: str = "2026-01-05",
    end: str = "2026-12-31",
    hours: str = "",
    consent: str = "是",
) -> list[str]:
    return [no, cert, inst, role, "内科", start, end, sessions, hours, consent, *TERMS_CELLS]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return path


def count(registry: Registry, model: object) -> int:
    with registry.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


@pytest.fixture
def region(registry: Registry) -> Registry:
    build_region(registry)
    primary(registry)
    primary(registry, DR_LI, "P-2", "MO-TH 13:00-17:00")
    return registry


GOOD = [
    row("C-1", "周五 08:00-12:00", hours="4"),
    row("C-2", "SA 08:30-12:00", inst=CENTRE, hours="3.5"),
    row("C-3", "FR 08:00-12:00", cert=DR_LI),
]


# --- files real offices produce -------------------------------------------------------------


def test_gb18030_csv_from_excel_with_chinese_headers_imports(region: Registry, tmp_path):
    path = write_csv(tmp_path / "合同.csv", GOOD, encoding="gb18030")
    report = run_import(region, "contracts", path)
    assert (report.rows_read, report.created, report.rejected) == (3, 3, 0)
    assert report.committed and report.exit_code == 0
    assert count(region, Agreement) == 2 + 3
    with region.db.read() as s:
        agreement = s.scalars(select(Agreement).where(Agreement.contract_no == "C-2")).one()
        assert agreement.weekly_hours == 3.5 and agreement.consent is True
        assert [(x.weekday, x.start_minute, x.end_minute) for x in agreement.sessions] == [
            (5, 510, 720)
        ]
        filing = s.scalars(select(Filing).where(Filing.institution_id == agreement.institution_id))
        assert [f.valid_to for f in filing] == [dt.date(2026, 12, 31)]


def test_utf8_bom_csv_with_fullwidth_digits_imports(region: Registry, tmp_path):
    fullwidth = str.maketrans("0123456789:-", "０１２３４５６７８９：－")
    rows = [
        [cell.translate(fullwidth) for cell in r]
        for r in (row("C-9", "FR 08:00-12:00", hours="4"),)
    ]
    report = run_import(region, "contracts", write_csv(tmp_path / "c.csv", rows))
    assert report.created == 1, report.problems
    with region.db.read() as s:
        assert s.scalars(select(Agreement.weekly_hours).where(Agreement.contract_no == "C-9")).one()


def test_xlsx_with_title_row_date_cells_text_numbers_and_trailing_empty_rows(
    region: Registry, tmp_path
):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["2026年第一批多机构执业合同"])
    sheet.merge_cells("A1:J1")
    sheet.append(HEADERS)
    sheet.append(
        [
            "C-1",
            DR_ZHANG,  # a 15-digit number stored as text
            CLINIC,
            "其他",
            "内科",
            dt.date(2026, 1, 5),
            dt.datetime(2026, 12, 31),
            "周五 08:00-12:00",
            "4",
            "是",
        ]
    )
    sheet.append(
        ["C-2", DR_ZHANG, CLINIC, "其他", "内科", "2026-01-05", "2026-12-31", "MO 10:00-11:00"]
    )
    for _ in range(5):
        sheet.append([None] * 10)
    path = tmp_path / "合同.xlsx"
    book.save(path)
    report = run_import(region, "contracts", path, mode="partial")
    assert report.rows_read == 2 and report.created == 1
    [problem] = [p for p in report.problems if p.severity == "error"]
    # The header is row 2 under the merged title: C-2 sits on spreadsheet row 4.
    assert (problem.row, problem.code, problem.column) == (4, "OVERLAP", "排班")
    assert problem.original[:2] == ["C-2", DR_ZHANG]


# --- rules inside the batch and against stored data -------------------------------------------


def test_duplicate_contract_numbers_reject_the_later_row(region: Registry, tmp_path):
    rows = [row("C-1", "FR 08:00-12:00"), row("C-1", "SA 08:00-12:00")]
    report = run_import(region, "contracts", write_csv(tmp_path / "d.csv", rows), mode="partial")
    assert report.created == 1 and report.rejected == 1
    [problem] = report.problems
    assert (problem.row, problem.code) == (3, "DUPLICATE")
    assert "row 2" in problem.message


def test_two_rows_of_one_file_conflicting_reject_the_later_with_overlap(region: Registry, tmp_path):
    rows = [row("C-1", "FR 08:00-12:00"), row("C-2", "FR 09:00-11:00", inst=CENTRE)]
    report = run_import(region, "contracts", write_csv(tmp_path / "o.csv", rows), mode="partial")
    assert report.created == 1
    assert {(p.row, p.code) for p in report.problems if p.severity == "error"} == {(3, "OVERLAP")}
    with region.db.read() as s:
        assert s.scalars(
            select(Agreement.contract_no).where(Agreement.contract_no.like("C-%"))
        ).all() == ["C-1"]


def test_a_row_conflicting_with_stored_sessions_is_rejected(region: Registry, tmp_path):
    rows = [row("C-1", "MO 10:00-11:00")]  # the primary agreement holds MO 08:00-12:00
    report = run_import(region, "contracts", write_csv(tmp_path / "s.csv", rows))
    assert report.rejected == 1 and report.rejected_by_code() == {"OVERLAP": 1}
    assert not report.committed


def test_unknown_physician_and_bad_cells_are_named_by_column(region: Registry, tmp_path):
    rows = [
        row("C-1", "FR 08:00-12:00", cert="110330000009999"),
        row("C-2", "FRIDAY morning", start="2026-13-45"),
    ]
    report = run_import(region, "contracts", write_csv(tmp_path / "u.csv", rows), mode="dry-run")
    found = {(p.row, p.column, p.code) for p in report.problems}
    assert (2, "执业证书编码", "UNKNOWN") in found
    assert (3, "排班", "INVALID") in found and (3, "起始日期", "INVALID") in found


# --- modes -----------------------------------------------------------------------------------


def test_all_or_nothing_partial_and_dry_run(region: Registry, tmp_path):
    rows = [*GOOD, row("C-X", "MO 10:00-11:00")]
    path = write_csv(tmp_path / "m.csv", rows)
    before = (count(region, Agreement), count(region, WorkSession), count(region, AuditEntry))

    report = run_import(region, "contracts", path)
    assert report.rejected == 1 and report.stored == 0 and not report.committed
    assert (
        count(region, Agreement),
        count(region, WorkSession),
        count(region, AuditEntry),
    ) == before

    report = run_import(region, "contracts", path, mode="dry-run")
    assert report.created == 3 and report.rejected == 1 and report.stored == 0
    assert count(region, Agreement) == before[0]

    filed = count(region, Filing)
    report = run_import(region, "contracts", path, mode="partial")
    assert report.stored == 3 and report.rejected == 1
    assert count(region, Agreement) == before[0] + 3
    # an audit row for each agreement and for each filing (备案) their saves made
    assert count(region, Filing) > filed
    assert count(region, AuditEntry) == before[2] + 3 + count(region, Filing) - filed


def test_reimport_changes_nothing_and_a_changed_row_updates_with_audit(region: Registry, tmp_path):
    path = write_csv(tmp_path / "r.csv", GOOD)
    run_import(region, "contracts", path)
    audits = count(region, AuditEntry)
    again = run_import(region, "contracts", path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert count(region, AuditEntry) == audits

    changed = [GOOD[0], row("C-2", "SA 08:30-11:30", inst=CENTRE, hours="3"), GOOD[2]]
    report = run_import(region, "contracts", write_csv(tmp_path / "r2.csv", changed))
    assert (report.updated, report.unchanged) == (1, 2)
    assert count(region, AuditEntry) == audits + 1
    with region.db.read() as s:
        entry = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        assert (entry.action, entry.entity_key) == ("update", "C-2")
        assert entry.before["sessions"] != entry.after["sessions"]
        agreement = s.scalars(select(Agreement).where(Agreement.contract_no == "C-2")).one()
        assert agreement.revision == 1 and len(agreement.sessions) == 1
        assert agreement.sessions[0].end_minute == 11 * 60 + 30
    assert_patterns_match_sessions(region)


# --- the report ------------------------------------------------------------------------------


def test_report_csv_has_bom_columns_original_cells_and_spreadsheet_row_numbers(
    region: Registry, tmp_path
):
    rows = [GOOD[0], row("C-X", "MO 10:00-11:00")]
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*HEADERS, "备注"])
        for r in rows:
            writer.writerow([*r, "请核对"])
    report = run_import(region, "contracts", path)
    assert report.unknown_columns == ["备注"]
    out = tmp_path / "report.csv"
    write_report_csv(report, out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert lines[0][:5] == ["row", "column", "code", "severity", "message"]
    assert lines[0][5:] == [*HEADERS, "备注"]
    error = next(line for line in lines[1:] if line[3] == "error")
    assert error[:4] == ["3", "排班", "OVERLAP", "error"]
    assert error[5:] == [*rows[1], "请核对"]
    assert any(line[2] == "NOTE" and "备注" in line[4] for line in lines[1:])


# --- the command line ------------------------------------------------------------------------


def test_cli_exit_codes_and_report(region: Registry, tmp_path, capsys):
    url = region.db.url
    good = write_csv(tmp_path / "good.csv", GOOD)
    bad = write_csv(tmp_path / "bad.csv", [row("C-X", "MO 10:00-11:00")])
    assert main(["--db", url, "import", "contracts", str(good), "--dry-run"]) == 0
    assert main(["--db", url, "import", "contracts", str(good)]) == 0
    out = capsys.readouterr().out
    assert "Rows read: 3; stored: 3" in out
    report = tmp_path / "out.csv"
    assert main(["--db", url, "import", "contracts", str(bad), "--report", str(report)]) == 1
    assert "OVERLAP" in capsys.readouterr().out and report.exists()
    assert main(["--db", url, "import", "contracts", str(tmp_path / "missing.csv")]) == 2
    undecodable = tmp_path / "latin.csv"
    undecodable.write_bytes(b"\xff\xfe\x00\x00" + bytes(range(128, 256)))
    assert main(["--db", url, "import", "contracts", str(undecodable)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "Traceback" not in err


def test_template_has_chinese_headers_and_an_example_row_that_reads_back(tmp_path):
    out = tmp_path / "contracts.xlsx"
    assert main(["import", "template", "contracts", "-o", str(out)]) == 0
    sheet = openpyxl.load_workbook(out).active
    values = list(sheet.values)
    assert list(values[0]) == HEADERS
    assert values[1][0] == "HT2026-0000001"
    from multisite.importing import read_table

    with read_table(out, kind="contracts") as table:
        [row] = list(table)
        assert row.cells["contract_no"] == "HT2026-0000001"
        assert row.cells["pay"] == "按次结算" and not table.unknown_columns


# --- institutions and physicians -------------------------------------------------------------


def test_institutions_and_physicians_import_and_reimport_unchanged(registry: Registry, tmp_path):
    build_region(registry)
    inst = tmp_path / "机构.csv"
    with inst.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "机构代码",
                "机构名称",
                "机构类别",
                "床位数",
                "行政区划代码",
                "诊疗科目",
                "基层",
                "地址",
            ]
        )
        writer.writerow(
            [CLINIC, "西湖张氏内科诊所", "诊所", "0", "330106", "内科", "是", "某路1号"]
        )
        writer.writerow(
            [
                HOSPITAL,
                "浙江省第一人民医院",
                "三级综合医院",
                "1300",
                "330106",
                "内科；外科；儿科",
                "否",
                "某路1号",
            ]
        )
        writer.writerow(["123301064700000A9Z", "坏代码", "诊所", "0", "330106", "内科", "是", ""])
    report = run_import(registry, "institutions", inst, mode="partial")
    assert (report.unchanged, report.updated, report.rejected) == (1, 1, 1)
    with registry.db.read() as s:
        assert s.scalars(select(Institution.beds).where(Institution.code == HOSPITAL)).one() == 1300

    doc = tmp_path / "医师.csv"
    with doc.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "执业证书编码",
                "姓名",
                "医师级别",
                "执业类别",
                "执业范围",
                "职称",
                "注册地",
                "主要执业机构",
                "注册日期",
            ]
        )
        writer.writerow(
            [
                "110330000000003",
                "王芳",
                "执业医师",
                "临床",
                "内科；全科医学",
                "主治医师",
                "330000",
                CLINIC,
                "2019/6/1",
            ]
        )
        writer.writerow(
            [
                DR_LI,
                "李娜",
                "执业医师",
                "临床",
                "内科",
                "副主任医师",
                "330000",
                HOSPITAL,
                "2012-05-01",
            ]
        )
    physicians = count(registry, Physician)
    report = run_import(registry, "physicians", doc)
    assert (report.created, report.unchanged, report.rejected) == (1, 1, 0), report.problems
    assert count(registry, Physician) == physicians + 1
    audits = count(registry, AuditEntry)
    again = run_import(registry, "physicians", doc)
    assert (again.created, again.unchanged) == (0, 2) and count(registry, AuditEntry) == audits


# --- a large file ----------------------------------------------------------------------------


def test_a_10_mb_file_is_checked_in_a_dry_run(region: Registry, tmp_path):
    path = tmp_path / "big.csv"
    padding = "备注" * 120
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*HEADERS, "备注"])
        number = 0
        while handle.tell() < 10 * 1024 * 1024:
            number += 1
            cert = f"1103399{number:08d}"
            writer.writerow([*row(f"B-{number}", "SU 08:00-09:00", cert=cert), padding])
    assert path.stat().st_size >= 10 * 1024 * 1024
    report = run_import(region, "contracts", path, mode="dry-run")
    assert report.rows_read == number and report.rejected == number
    assert report.rejected_by_code() == {"UNKNOWN": number}
    assert count(region, Agreement) == 2
