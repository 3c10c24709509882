"""Defects a trial of the product found (helper fixes), each reproduced as a clerk meets it:
from an empty database fed the Sichuan office's files (``tests/offices.py``) and, beside its
physicians, a nurses file of the same province. Each test failed before its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from .clerk_cli import Cli, write_csv
from .offices import make_office
from .test_trust import roles  # noqa: F401  (the clerks' names: PostgreSQL roles)

NURSE_HEADERS = ("护士执业证书编号", "姓名", "职称", "注册地", "主要执业机构", "注册日期")
NURSE_CONTRACT_HEADERS = (
    "合同编号", "护士执业证书编号", "机构代码", "执业类型", "科室", "起始日期", "终止日期", "排班",
    "约定周工时", "主要机构同意",
)  # fmt: skip
NURSE_ZHAO = "201651000007"  # registered 2016 in Sichuan (51), serial 000007
OFFICE = make_office()
CLINIC = OFFICE.institutions[0]["机构代码"]  # 510104诊所1号


def sichuan_office(url: str, folder: Path) -> None:
    """The office's files imported into an empty registry (contracts with ``--partial``: the
    office's conflicting rows are refused), then a nurse at the clinic whose contract ends in
    the first days of 2027 and schedules fewer hours than it contracts (a warning)."""
    cli = Cli(url, None, folder)
    cli.ok("init")
    paths = OFFICE.write(folder)
    cli.ok("import", "institutions", str(paths["institutions"]))
    cli.ok("import", "physicians", str(paths["physicians"]))
    assert cli("import", "contracts", str(paths["contracts"]), "--partial").code == 1
    nurses = [(NURSE_ZHAO, "赵静", "主管护师", "510000", CLINIC, "2016-07-01")]
    cli.ok("import", "nurses", str(write_csv(folder / "nurses.csv", NURSE_HEADERS, nurses)))
    contract = [("NC-ZHAO", NURSE_ZHAO, CLINIC, "主要", "内科", "2026-01-01", "2027-01-10",
                 "周一 08:00-12:00", 30, "")]  # fmt: skip
    path = write_csv(folder / "nurse-contracts.csv", NURSE_CONTRACT_HEADERS, contract)
    cli.ok("import", "contracts", str(path))


BUILD_REGISTRY = sichuan_office


@pytest.fixture
def cli(built_registry_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    return Cli(built_registry_url, capsys, tmp_path)


def test_check_and_due_label_a_nurse_a_nurse(cli: Cli):
    """``check`` headed its violations' column 医师 and ``due`` its column of practitioners
    医师, over a nurse's rows; the JSON said nothing of the profession."""
    found = cli.violations("--physician", NURSE_ZHAO)
    assert found and {v["profession"] for v in found} == {"nurse"}
    region = {(v["physician"], v["profession"]) for v in cli.violations()}
    assert {p for cert, p in region if cert != NURSE_ZHAO} == {"physician"}
    due = cli.ok("due", "--on", "2026-12-20", "--within", "30", "--institution", CLINIC, "--json")
    items = {x["physician"]: x["profession"] for x in due.json()}
    assert items.pop(NURSE_ZHAO) == "nurse"
    assert items and set(items.values()) == {"physician"}  # the clinic's doctors
    for lang, nurse, physician, column in (
        ("zh", "护士", "医师", "执业人员"), ("en", "nurse", "physician", "practitioner")
    ):  # fmt: skip
        shown = cli("check", "--physician", NURSE_ZHAO, lang=lang).out
        assert f"{nurse} {NURSE_ZHAO}" in shown and column in shown, shown
        assert f"{physician} {NURSE_ZHAO}" not in shown
        listed = cli("due", "--on", "2026-12-20", "--within", "30", "--institution", CLINIC,
                     lang=lang).out  # fmt: skip
        assert f"{nurse} 赵静 {NURSE_ZHAO}" in listed and column in listed, listed
        assert f"{physician} 赵静" not in listed
        assert f"{physician} " in listed  # the doctor at the same clinic, as a physician


def _audit_count(cli: Cli) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(cli.db_url)
    try:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT count(*) FROM audit_entry").scalar_one())
    finally:
        engine.dispose()


def test_a_published_inspection_result_is_not_replaced(cli: Cli):
    """``inspect record`` over a result already on the institution's public page replaced it
    silently (合格 became 不合格, or the date moved): now one sentence naming the draw and the
    institution, saying the result is published, and nothing stored."""
    import datetime as dt

    today = dt.date.today().isoformat()
    cli.ok(
        "inspect", "inspectors", "add", "王强", "--unit", "成都市卫生监督所", "--region", "510100"
    )
    drawn = cli.ok("inspect", "draw", "--institutions", "1", "--inspectors", "1", "--seed", "t3",
                   "--region", "510000", "--json").json()  # fmt: skip
    draw, code = str(drawn["id"]), drawn["inspections"][0]["institution"]
    cli.ok("inspect", "record", draw, code, "--on", today, "--outcome", "合格", "--findings", "无")
    before = cli.ok("inspect", "show", draw, "--json").json(), _audit_count(cli)
    for lang in ("en", "zh"):
        result = cli("inspect", "record", draw, code, "--on", today, "--outcome", "不合格",
                     "--findings", "病历不全", lang=lang)  # fmt: skip
        assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err
        assert f"draw {draw}'s" in result.err if lang == "en" else f"第 {draw} 批" in result.err
        assert code in result.err and ("published" in result.err or "已经公开" in result.err)
        assert (cli.ok("inspect", "show", draw, "--json").json(), _audit_count(cli)) == before
    cli.ok("policy", "set", "510000", "publish_inspections=false")  # not published: replaced
    cli.ok("inspect", "record", draw, code, "--on", today, "--outcome", "不合格")
    shown = cli.ok("inspect", "show", draw, "--json").json()["inspections"][0]
    assert shown["outcome"] == "non_compliant"


def test_the_inspectors_list_heads_the_region_as_a_jurisdiction(cli: Cli):
    """The zh inspectors list headed its region column 执业地点 (a practitioner's region); fixed
    on main by f904b76 (辖区, as the clerk list): this holds it for the inspectors' list too."""
    cli.ok(
        "inspect", "inspectors", "add", "李明", "--unit", "绵阳市卫生监督所", "--region", "510700"
    )
    for lang, word, wrong in (("zh", "辖区", "执业地点"), ("en", "jurisdiction", "region")):
        listed = cli("inspect", "inspectors", "list", lang=lang).out
        header = next(line for line in listed.splitlines() if word in line)
        assert wrong not in header and "510700" in listed, listed


READS = (
    ("summary",), ("check", "--json"), ("due", "--json"), ("clerk", "list"),
    ("inspect", "inspectors", "list"), ("physician", "show", OFFICE.physicians[0]["执业证书编码"]),
    ("nurse", "show", NURSE_ZHAO), ("institution", "show", CLINIC),
)  # fmt: skip


def _refused_as_disabled(code: int, err: str, name: str) -> bool:
    lines = err.strip().splitlines()
    return code == 2 and len(lines) == 1 and "Traceback" not in err and (
        "disabled" in lines[0] or "may not do that" in lines[0]  # PostgreSQL: the grants, gone
    ) and (name in lines[0] or "may not do that" in lines[0])  # fmt: skip


def test_a_disabled_clerk_reads_nothing(cli: Cli, roles: dict[str, str], tmp_path: Path):  # noqa: F811
    """A disabled clerk's writes were refused, their reads not: ``physician show``, ``check``,
    ``due``, ``backup`` (the whole registry) and the clerks' UI answered them. Now every entry
    refuses them in one sentence, whether an admin names them (--clerk) or they authenticated
    (a principal whose clerk is disabled)."""
    from .test_trust import run

    clerk = roles["qingxiu"]
    cli.ok("clerk", "add", clerk, "--region", "510000", "--role", "clerk")
    assert run(cli, clerk, "summary")[0] == 0  # enabled: reads
    cli.ok("clerk", "disable", clerk)
    for args in [*READS, ("backup", str(tmp_path / "copy.backup")), ("tui",)]:
        code, _out, err = run(cli, clerk, *args)
        assert _refused_as_disabled(code, err, clerk), (args, code, err)
    assert not (tmp_path / "copy.backup").exists()


def test_a_principal_whose_clerk_is_disabled_reads_nothing(cli: Cli, roles: dict[str, str]):  # noqa: F811
    """The one who authenticated (the OS user on SQLite, the login role on PostgreSQL), once
    their clerk is disabled, read everything as if no clerk of the registry (role None)."""
    from multisite.tui.app import MultisiteApp

    from multisite import i18n
    from multisite.cli.main import main
    from multisite.services import Registry, ScopeError
    from multisite.storage import Database

    listed = cli.ok("clerk", "list", "--json").json()
    (me,) = [c["name"] for c in listed if c["role"] == "admin"]
    cli.ok("clerk", "add", roles["xingning"], "--region", "510000", "--role", "admin")
    assert main(["--db", cli.db_url, "clerk", "disable", me]) == 0  # another admin stays
    for args in READS:
        for lang, word in (("en", "disabled"), ("zh", "已停用")):
            cli.capsys.readouterr()
            code = main(["--db", cli.db_url, "--lang", lang, *args])
            err = cli.capsys.readouterr().err
            assert code == 2 and err.count("\n") == 1 and word in err and me in err, (args, err)
    i18n.set_language("en")
    db = Database(cli.db_url)
    try:
        with pytest.raises(ScopeError, match="disabled"):  # the clerks' UI does not open
            MultisiteApp(Registry(db))
    finally:
        db.dispose()


def _cached(path: Path, cell: str, value: str) -> None:
    """Give the formula in ``cell`` the computed value a spreadsheet program saves with it
    (openpyxl writes formulas without one)."""
    import shutil
    import zipfile

    member = "xl/worksheets/sheet1.xml"
    copy = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(copy, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == member:
                start = data.index(f'<c r="{cell}"'.encode())
                end = data.index(b"</c>", start)
                data = data[:start] + data[start:end].replace(b"<v />", f"<v>{value}</v>".encode()) + data[end:]  # fmt: skip
            target.writestr(item, data)
    shutil.move(copy, path)


def test_a_formula_without_a_computed_value_is_told_not_read_as_blank(cli: Cli, tmp_path: Path):
    """A workbook written by a program that does not compute formulas (openpyxl, a script)
    holds formula cells without a value; the import read them as blank cells (a contract stored
    without its contracted hours). Now that row is rejected naming the column and what to do;
    a formula saved with its value is read as that value."""
    import csv

    from openpyxl import load_workbook

    path = OFFICE.write(tmp_path, {"contracts_more": "xlsx"})["contracts_more"]
    workbook = load_workbook(path)
    sheet = workbook.active
    assert sheet is not None
    sheet["I3"] = "=1+2"  # 约定周工时 of row 3 (SC2026-00005): no computed value
    sheet["I5"] = "=1+2"  # row 5 (SC2026-00016): saved with its value below
    workbook.save(path)
    _cached(path, "I5", "3")
    for lang, words in (("en", "formula without a computed value"), ("zh", "没有计算结果的公式")):
        report = tmp_path / f"report-{lang}.csv"
        result = cli("import", "contracts", str(path), "--dry-run", "--report", str(report),
                     lang=lang)  # fmt: skip
        assert result.code == 1, result.err
        with report.open(encoding="utf-8-sig", newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r["row"] == "3"]
        assert [(r["column"], r["code"]) for r in rows] == [("约定周工时", "INVALID")], rows
        assert words in rows[0]["message"], rows[0]["message"]
    cli("import", "contracts", str(path), "--partial")
    assert "Unknown contract" in cli.refused("contract", "show", "SC2026-00005")
    stored = cli.ok("contract", "show", "SC2026-00016", "--json").json()
    assert stored["weekly_hours"] == 3.0, stored


def test_the_last_lang_wins_everywhere(cli: Cli):
    """``--lang`` given twice: argparse kept the last, the messages took the first
    (``--lang en … --lang zh`` answered in English, a usage error in the other language than
    the one parsed). Now the last wins for both, and an abbreviation argparse accepts
    (``--lan zh``) chooses the messages too."""
    from multisite.cli.main import main

    unknown = ("physician", "show", "999999999999999")
    cases = [
        (["--lang", "en", "--db", cli.db_url, "--lang", "zh", *unknown], "医师 999999999999999 不存在"),
        (["--lang", "zh", "--db", cli.db_url, "--lang=en", *unknown], "Unknown physician"),
        (["--lang=en", "--lang", "zh", "nosuch"], "用法错误"),
        (["--lang", "zh", "--lang", "en", "nosuch"], "Bad usage"),
        (["--lan", "zh", "--db", cli.db_url, *unknown], "医师 999999999999999 不存在"),
    ]  # fmt: skip
    for argv, said in cases:
        cli.capsys.readouterr()
        assert main(argv) == 2
        err = cli.capsys.readouterr().err
        assert said in err and err.count("\n") == 1, (argv, err)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_tui_due_screen_does_not_head_a_nurse_physician(built_registry_url: str, language: str):
    """The clerks' Due screen (F7) headed the column of names 医师 over the nurse's contract
    ending; it is 执业人员 (practitioner), as the command line's ``due``."""
    import asyncio
    import datetime as dt

    from multisite.tui.app import MultisiteApp
    from multisite.tui.screens.due import DueScreen
    from textual.widgets import DataTable

    from multisite import i18n
    from multisite.services import Registry
    from multisite.storage import Database

    i18n.set_language(language)
    db = Database(built_registry_url)

    async def shown() -> tuple[list[str], list[str]]:
        app = MultisiteApp(Registry(db), today=dt.date(2026, 12, 20), due_on_start=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("f7")
            for _ in range(200):
                await pilot.pause(0.02)
                if isinstance(app.screen, DueScreen) and app.screen.loaded:
                    break
            table = app.screen.query_one("#due", DataTable)
            labels = [str(c.label) for c in table.columns.values()]
            names = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
            return labels, names

    try:
        labels, names = asyncio.run(shown())
    finally:
        i18n.set_language("en")
        db.dispose()
    assert "赵静" in names
    assert labels[2] == {"zh": "执业人员", "en": "practitioner"}[language], labels
