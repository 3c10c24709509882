"""Everything printed is escaped for where it goes (SQLite and PostgreSQL): stored text that
looks like Rich markup (``[/]``) or carries terminal escapes is shown as text by the command
line and the clerks' UI; every cell of the import report that a spreadsheet would evaluate
is neutralised, while the stored data stays as received; and ``--report`` is checked before
anything is stored."""

from __future__ import annotations

import asyncio
import csv
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from multisite.tui.app import MultisiteApp
from multisite.tui.screens.audit import AuditScreen
from multisite.tui.screens.physician import PhysicianScreen
from multisite.tui.screens.search import SearchScreen
from textual.widgets import DataTable, Static

from multisite.cli.main import main
from multisite.escaping import spreadsheet_cell
from multisite.services import Registry
from multisite.services.imports import run_import
from multisite.storage.models import Agreement

from .office import (
    CONTRACT_HEADERS,
    DOCTORS,
    HOSPITAL,
    contract,
    open_office,
    write_csv,
    write_jsonl,
)
from .test_tui_flows import SIZE, TODAY, settle, type_into

HOSTILE_NAME = "[/]韦\x1b[2J\x1b]0;owned\x07[bold]"
HOSTILE_CONTRACT = "[/]GX\x1b[31m"


@pytest.fixture
def hostile(registry: Registry, tmp_path: Path) -> Registry:
    """An office whose stored names and contract numbers hold markup and escape sequences,
    as data stored before the checks (or written around them) would."""
    open_office(registry, tmp_path)
    path = write_jsonl(tmp_path / "合同.jsonl", [contract("GX-1", DOCTORS[0])])
    assert run_import(registry, "contracts", path).committed
    with registry.db.engine.begin() as connection:  # around the service, on purpose
        connection.execute(
            sa.text("UPDATE physician SET name = :n WHERE cert_no = :c"),
            {"n": HOSTILE_NAME, "c": DOCTORS[0]},
        )
        connection.execute(
            sa.text("UPDATE agreement SET contract_no = :n"), {"n": HOSTILE_CONTRACT}
        )
        connection.execute(sa.text("UPDATE institution SET name = :n"), {"n": "[b]医院[/"})
    return registry


def test_physician_show_prints_stored_markup_as_text_and_no_escape_sequence(
    hostile: Registry, capsys
):
    url = hostile.db.url
    assert main(["--db", url, "physician", "show", DOCTORS[0]]) == 0
    out = capsys.readouterr().out
    assert "[/]韦" in out and "[/]GX" in out and "[b]医院[/" in out
    assert "\x1b" not in out and "\x07" not in out
    assert main(["--db", url, "institution", "show", HOSPITAL]) == 0
    out = capsys.readouterr().out
    assert "[b]医院[/" in out and "[/]GX" in out and "\x1b" not in out
    assert main(["--db", url, "check", "--physician", DOCTORS[0]]) in (0, 1)
    assert "\x1b" not in capsys.readouterr().out


def test_the_tui_shows_stored_markup_in_physician_view_search_and_audit_log(hostile: Registry):
    async def clerk() -> None:
        app = MultisiteApp(hostile, today=TODAY)
        async with app.run_test(size=SIZE) as pilot:
            await type_into(pilot, "#query", "韦")
            await settle(pilot, 0.3)
            await settle(pilot)
            search = app.screen
            assert isinstance(search, SearchScreen)
            assert search.page is not None and search.page.hits
            await pilot.press("enter")
            await settle(pilot)
            physician = app.screen
            assert isinstance(physician, PhysicianScreen)
            head = str(physician.query_one("#physician-head", Static).render())
            assert "[/]韦" in head and "\x1b" not in head
            await pilot.press("f5")
            await settle(pilot)
            audit = app.screen
            assert isinstance(audit, AuditScreen)
            await type_into(pilot, "#physician", DOCTORS[0])
            await settle(pilot, 0.4)
            await settle(pilot)
            table = audit.query_one("#audit", DataTable)
            assert table.row_count > 0
            table.move_cursor(row=0)
            await settle(pilot)

    asyncio.run(clerk())


FORMULAS = ['=HYPERLINK("http://evil","x")', "=cmd|' /C calc'!A0", "@SUM(1)", "+1+1", "-2+3"]


def test_report_cells_a_spreadsheet_would_evaluate_are_neutralised(registry, tmp_path):
    open_office(registry, tmp_path)
    rows = [
        ["GX-1", DOCTORS[0], HOSPITAL, "主要", "内科", "2026-01-05", "2026-12-31",
         "周一 08:00-12:00", "4", "=cmd|' /C calc'!A0"],
        *([f"GX-{n}", DOCTORS[1], HOSPITAL, "主要", "内科", "2026-01-05", "2026-12-31",
           formula, "4", formula] for n, formula in enumerate(FORMULAS, start=2)),
        ["GX-9", "\t" + DOCTORS[2], HOSPITAL, "主要", "内科", "2026-01-05", "2026-12-31",
         "周二 08:00-12:00", "4", "\r@x"],
    ]  # fmt: skip
    path = write_csv(tmp_path / "合同.csv", [*CONTRACT_HEADERS, "=备注"], rows)
    report_path = tmp_path / "报告.csv"
    code = main(
        ["--db", registry.db.url, "import", "contracts", str(path), "--partial",
         "--report", str(report_path)]
    )  # fmt: skip
    assert code == 1
    with report_path.open(encoding="utf-8-sig", newline="") as handle:
        cells = [cell for line in csv.reader(handle) for cell in line]
    assert "'=备注" in cells and all("'" + f in cells for f in FORMULAS)
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    with registry.db.read() as s:  # the stored note is what the file said
        notes = s.scalars(sa.select(Agreement.notes).where(Agreement.contract_no == "GX-1")).one()
    assert notes == {"=备注": "=cmd|' /C calc'!A0"}
    assert spreadsheet_cell(-1) == -1 and spreadsheet_cell("合同") == "合同"


def test_a_report_path_that_cannot_be_written_stops_the_import_before_anything_is_stored(
    registry, tmp_path, capsys
):
    open_office(registry, tmp_path)
    path = write_jsonl(tmp_path / "合同.jsonl", [contract("GX-1", DOCTORS[0])])
    for report in (tmp_path / "missing" / "r.csv", tmp_path, Path("/dev/null")):
        args = ["--db", registry.db.url, "import", "contracts", str(path), "--report", str(report)]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "report" in err
    with registry.db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Agreement)) == 0
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".report-")]


def test_a_report_that_fails_after_the_commit_says_so_and_leaves_no_empty_file(registry, tmp_path):
    """A full disk, as RLIMIT_FSIZE makes it: writing the report fails after the rows were
    stored. PostgreSQL only: SQLite's own file would hit the limit first."""
    if registry.db.dialect != "postgresql":
        pytest.skip("the file-size limit would stop SQLite's own writes first")
    open_office(registry, tmp_path)
    rows = [contract(f"GX-{n}", DOCTORS[n], "周一 08:00-08:30", 工作任务="x" * 3000)
            for n in range(3)]  # fmt: skip
    path = write_jsonl(tmp_path / "合同.jsonl", rows)
    report = tmp_path / "report.csv"

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    done = subprocess.run(
        [sys.executable, "-m", "multisite.cli", "--db", registry.db.url, "--lang", "en",
         "import", "contracts", str(path), "--partial", "--report", str(report)],
        capture_output=True, text=True, preexec_fn=small_files, timeout=120,
        env={**os.environ, "MULTISITE_CLERK": "hostile"},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("The rows above were stored.") and "report.csv" in done.stderr
    assert not report.exists() and [p for p in os.listdir(tmp_path) if "report" in p] == []
    with registry.db.read() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Agreement)) == 3
