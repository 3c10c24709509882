"""What using the product as its users do found (a clerk at the command line and in the TUI,
an office's files, the public pages), each held here by the test that failed before its fix."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from multisite.tui.app import MultisiteApp
from multisite.tui.screens.change import describe_impact
from multisite.tui.screens.registration import RegistrationScreen
from starlette.testclient import TestClient
from textual.widgets import Select

from multisite.cli.main import main
from multisite.domain import rules
from multisite.domain.facts import Inactivity, RegistrationFact
from multisite.escaping import spreadsheet_cell
from multisite.feed import create_app
from multisite.importing.readers import OLE2, FileProblem, read_table
from multisite.public import RateLimit, public_routes
from multisite.services import Registry
from multisite.services.calendars import Calendars
from multisite.services.validation_base import InstitutionBase

from .office import (
    CONTRACT_HEADERS,
    DOCTORS,
    HOSPITAL,
    contract,
    open_office,
    write_csv,
    write_jsonl,
)
from .test_rule_book import HOSPITAL as HOSPITAL_FACT
from .test_rule_book import context, physician
from .test_tui_flows import SIZE, TODAY
from .test_tui_registration import pane, settle, type_into
from .test_validation_base import two_sites

# --- the command line ----------------------------------------------------------------------


def test_ending_a_contract_shows_the_status_in_words_not_markup(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    """``base --without`` printed ``[red]short[/]``: its status cell went in as text."""
    two_sites(registry)
    args = ["--lang", "en", "base", "--without", "A-1", "--on", "2026-03-02"]
    assert main(["--db", registry.db.url, *args]) == 0
    out = capsys.readouterr().out
    assert "short" in out and "[red]" not in out and "[/]" not in out


@pytest.mark.parametrize("command", [["summary", "--json"], ["--lang", "zh", "summary"]])
def test_output_to_a_reader_that_went_away_ends_quietly(tmp_path: Path, command: list[str]):
    """``multisite … | head``: JSON said "：Broken pipe。" (exit 2), a table exited 1 (which
    means violations found). Now both end without a word, as a program killed by SIGPIPE."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTISITE_")}
    cli = [sys.executable, "-m", "multisite.cli", "--db", url]
    subprocess.run([*cli, "init"], env=env, check=True, capture_output=True)
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    try:
        done = subprocess.run(
            [*cli, *command], env=env, stdout=write, stderr=subprocess.PIPE, text=True
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, "")


def test_points_past_any_record_are_one_sentence(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--points 99999999999999999999 was an internal error (OverflowError) on SQLite."""
    open_office(registry, tmp_path)
    for points in ("101", "99999999999999999999"):
        code = main(
            ["--db", registry.db.url, "credit", "points", DOCTORS[0], "--on", "2026-05-06",
             "--points", points, "--reason", "x", "--authority", "y"]
        )  # fmt: skip
        err = capsys.readouterr().err.strip()
        assert (code, err) == (2, "Points must be at most 100 in one record.")
    assert registry.credit_record(physician=DOCTORS[0]).points == ()


def test_argparse_speaks_chinese_under_lang_zh(capsys: pytest.CaptureFixture[str]) -> None:
    """A bad date, a missing argument, an unknown command: the sentence was Chinese around
    argparse's English (``用法错误：argument --on: …``, ``the following arguments are required``)."""
    bad_date = "用法错误：参数 --on：2026-13-01 不是形如 2026-01-05 的日期。"
    cases = {
        ("base", "--on", "2026-13-01"): bad_date,
        ("physician", "show"): "用法错误：缺少必需的参数：cert。",
        ("base", "--bogus"): "用法错误：无法识别的参数：--bogus。",
    }
    for args, sentence in cases.items():
        assert main(["--lang", "zh", *args]) == 2
        assert capsys.readouterr().err.strip() == sentence
    assert main(["--lang", "en", "base", "--on", "2026-13-01"]) == 2
    assert "argument --on: 2026-13-01 is not a date" in capsys.readouterr().err


def test_the_operating_systems_reasons_are_in_the_clerks_language(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``ical … -o /tmp`` said "/tmp：Is a directory。", a missing backup "…：No such file or
    directory。": ``strerror`` is English whatever the locale."""
    open_office(registry, tmp_path)
    url = registry.db.url
    assert (
        main(["--lang", "zh", "--db", url, "ical", "physician", DOCTORS[0], "-o", str(tmp_path)])
        == 2
    )
    assert capsys.readouterr().err.strip() == f"{tmp_path}：这是一个文件夹。"
    missing = tmp_path / "无此备份.bak"
    assert main(["--lang", "zh", "--db", url, "restore", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == f"无法读取备份文件 {missing}：文件或文件夹不存在。"
    assert main(["--lang", "en", "--db", url, "restore", str(missing)]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_the_clerk_list_says_role_and_jurisdiction_not_practice_type_and_place(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``clerk list`` headed its columns 执业类型 and 执业地点 (a contract's role, a
    practitioner's region) and ``credit show`` its ids 项名单 (the unit of a measure)."""
    assert main(["--lang", "zh", "--db", registry.db.url, "clerk", "list"]) == 0
    header = capsys.readouterr().out
    assert "角色" in header and "辖区" in header
    assert "执业类型" not in header and "执业地点" not in header
    open_office(registry, tmp_path)
    zh = ["--lang", "zh", "--db", registry.db.url]
    listing = ["--from", "2026-05-06", "--reason", "违规", "--authority", "某卫健委"]
    assert main([*zh, "credit", "add", "physician", DOCTORS[0], *listing]) == 0
    capsys.readouterr()
    assert main([*zh, "credit", "show"]) == 0
    shown = capsys.readouterr().out
    assert "记录编号" in shown and "项名单" not in shown


def test_a_staffing_figure_past_any_standard_is_one_sentence(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``staffing set 510000 诊所 --min 1e300`` was stored, and ``base`` asked every clinic
    for 1e+300 physicians."""
    open_office(registry, tmp_path)
    url = registry.db.url
    for option, value in (("--min", "1e300"), ("--per-bed", "11"), ("--min-nurses", "1e6")):
        assert main(["--db", url, "staffing", "set", "450000", "诊所", option, value]) == 2
        assert "must be at most" in capsys.readouterr().err
    assert main(["--db", url, "staffing", "set", "450000", "诊所", "--min", "2"]) == 0, (
        capsys.readouterr()
    )


# --- the rules -----------------------------------------------------------------------------


def test_a_lifted_suspension_measures_only_its_own_days() -> None:
    """Suspended 10–20 December, reinstated on the 15th: the contract to 31 December has five
    days without a registration, not the 22 from the 10th to its end."""
    lifted = RegistrationFact(
        "450000", HOSPITAL_FACT.id, dt.date(2015, 1, 1),
        (Inactivity("suspended", dt.date(2026, 12, 10), dt.date(2026, 12, 14)),),
    )  # fmt: skip
    cancelled = dataclasses.replace(
        lifted, inactive=(Inactivity("cancelled", dt.date(2026, 12, 10), None),)
    )
    for registration, days in ((lifted, 5), (cancelled, 22)):
        fact = physician(registrations=(registration,))
        [found] = [v for v in rules.evaluate(fact, context()) if v.code == "REGISTRATION"]
        assert (found.first_date, found.measure, found.unit) == (dt.date(2026, 12, 10), days, "d")


# --- what the product writes: reports and pages --------------------------------------------


def test_a_report_echoes_no_control_character_of_a_rejected_cell(
    registry: Registry, tmp_path: Path
) -> None:
    """The --report CSV echoed ESC sequences, NUL and a right-to-left override as the file
    had them (the terminal's table did not)."""
    open_office(registry, tmp_path)
    rows = [
        ["GX-1", DOCTORS[0], HOSPITAL, "主要", "\x1b[31m内科\x1b[0m", "2026-01-05", "2026-12-31",
         "周一 08:00-12:00", "4"],
        ["GX-2", DOCTORS[1], HOSPITAL, "主要", "内\u202e科", "2026-01-05", "2026-12-31",
         "周二 08:00-12:00", "4", "\x1b]0;title\x07=1+1"],
    ]  # fmt: skip
    path = write_csv(tmp_path / "合同.csv", [*CONTRACT_HEADERS, "备注"], rows)
    report = tmp_path / "报告.csv"
    args = ["--db", registry.db.url, "import", "contracts", str(path), "--dry-run", "--report"]
    assert main([*args, str(report)]) == 1
    text = report.read_text(encoding="utf-8-sig")
    assert not any(ch in text for ch in "\x1b\x07\x00\u202e"), text
    with report.open(encoding="utf-8-sig", newline="") as handle:
        cells = [cell for line in csv.reader(handle) for cell in line]
    assert "[31m内科[0m" in cells and "'=1+1" not in cells and "]0;title=1+1" in cells
    assert spreadsheet_cell("\x1b=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert spreadsheet_cell("\r\x00@SUM(1)") == "'@SUM(1)"


def test_the_public_pages_echo_no_control_character(registry: Registry, tmp_path: Path) -> None:
    """A search for ``\\x1b[31m…`` came back in the search box with the ESC, NUL and BEL as
    typed (autoescaping leaves them)."""
    open_office(registry, tmp_path)
    app = create_app(
        Calendars(registry), extra_routes=public_routes(registry, RateLimit(burst=1000))
    )
    with TestClient(app, base_url="http://testserver") as client:
        for query in ("\x1b[31m韦医生", "\x00\x00", "\u202e韦医\x07生"):
            answer = client.get("/", params={"q": query})
            assert answer.status_code in (200, 400)
            assert not any(ch in answer.text for ch in "\x1b\x00\x07\u202e"), answer.text
        found = client.get("/", params={"q": "\x1b韦医生"}).text
        assert 'value="韦医生"' in found and DOCTORS[0] in found


# --- reading files -------------------------------------------------------------------------


def test_a_broken_json_line_is_told_in_the_clerks_language(tmp_path: Path) -> None:
    """json's own reason (``Expecting property name enclosed in double quotes``) stood in
    the middle of the Chinese sentence; the place in the line says as much in any language."""
    lines = [contract("A", DOCTORS[0]), "{bad json", '{"合同编号": "B", "合同编号": "C"}']
    with read_table(write_jsonl(tmp_path / "c.jsonl", lines), kind="contracts") as table:
        _good, broken, repeated = list(table)
    assert broken.problem is not None and repeated.problem is not None
    assert broken.problem.message == "Line 2 is not valid JSON (the error is at character 2)."
    assert repeated.problem.message == 'Line 3: the key "合同编号" appears twice.'


def test_a_file_renamed_xlsx_is_told_what_it_is(tmp_path: Path) -> None:
    """An old .xls or a CSV renamed .xlsx got the zip library's English inside the Chinese
    sentence: "不是可读取的电子表格：invalid Zip archive: Could not find EOCD。"."""
    old = tmp_path / "合同.xlsx"
    old.write_bytes(OLE2 + b"\0" * 600)
    with pytest.raises(FileProblem, match=r"old Excel workbook \(\.xls\) named \.xlsx"):
        read_table(old, kind="contracts")
    renamed = tmp_path / "机构.xlsx"
    renamed.write_text("机构代码,机构名称\n", encoding="utf-8")
    with pytest.raises(FileProblem, match=r"is not an \.xlsx workbook") as refused:
        read_table(renamed, kind="institutions")
    assert "Zip" not in refused.value.message


# --- the clerks' UI ------------------------------------------------------------------------


def test_a_typed_part_of_a_name_asks_to_choose_a_match_not_to_file_the_institution(
    registry: Registry, tmp_path: Path
) -> None:
    """The form showed the matches under 主要执业机构 and said "Unknown main institution 兴宁:
    file it first" beside them, until the clerk picked one with ↓ and Enter."""
    open_office(registry, tmp_path)

    async def run() -> tuple[str, str]:
        app = MultisiteApp(registry, today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f8")
            await settle(pilot)
            assert isinstance(app.screen, RegistrationScreen)
            await type_into(pilot, "#cert", DOCTORS[7])
            await type_into(pilot, "#name", "蒙志强")
            await type_into(pilot, "#scopes", "内科")
            app.screen.query_one("#title", Select).value = "主治医师"
            await type_into(pilot, "#region", "450000")
            await type_into(pilot, "#institution-query", "兴宁")
            await settle(pilot, 0.4)
            before = pane(app)
            await pilot.press("down", "enter")
            await settle(pilot, 0.4)
            return before, pane(app)

    before, after = asyncio.run(run())
    assert "choose one of the 2 matches under it" in before and "Unknown" not in before, before
    assert "choose one" not in after and "✗" not in after, after


def test_the_terminate_preview_lists_a_base_that_moves_less_than_a_tenth() -> None:
    """Terminating a 1-hour contract (0.025 of a standard week) left every one-decimal figure
    as it was, and the preview said "no institution changes" though the base changed."""
    before = InstitutionBase(
        "H" * 18, "某医院", "二级综合医院", 300, 75.0, {}, 1.7, 73.3, "short",
        dt.date(2027, 1, 15),
    )  # fmt: skip
    after = dataclasses.replace(before, counted=1.6875, shortfall=73.3125)
    text = describe_impact([(before, after)], dt.date(2026, 12, 21))
    assert "no institution changes" not in text and "1.70 → 1.69" in text, text
    moved = dataclasses.replace(before, counted=1.6)  # a tenth: shown as before
    assert "1.7 → 1.6" in describe_impact([(before, moved)], dt.date(2026, 12, 21))
    same = describe_impact([(before, before)], dt.date(2026, 12, 21))
    assert "no institution changes" in same
