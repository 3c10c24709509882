"""The credit register (诚信/黑名单) as a commission's clerk uses it from the command line, on
a Guangxi region imported from the office's files into an empty database: dated listings of
physicians and institutions, CREDIT over the days a listing covers and nothing before it, and
misconduct points (不良执业行为记分) beside the listings."""

from __future__ import annotations

from pathlib import Path

import pytest

from .clerk_cli import (
    CONTRACT_HEADERS,
    DR_LU,
    DR_MO,
    DR_WEI,
    GX_CLINIC,
    GX_HOSPITAL,
    Cli,
    guangxi_office,
)

AUTHORITY = "广西壮族自治区卫生健康委员会"


BUILD_REGISTRY = guangxi_office


@pytest.fixture
def cli(built_registry_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """The Guangxi office (``BUILD_REGISTRY``), a copy for each test."""
    return Cli(built_registry_url, capsys, tmp_path)


def credit_errors(cli: Cli, *args: str) -> list[dict[str, object]]:
    return [v for v in cli.violations(*args) if v["code"] == "CREDIT"]


def test_a_physician_whose_only_contract_ended_in_2025_is_listed_without_errors(cli: Cli):
    listed = cli.ok(
        "credit", "add", "physician", DR_MO, "--from", "2026-03-01", "--reason", "骗取医保基金",
        "--authority", AUTHORITY, "--decision", "桂卫监〔2026〕12号",
    )  # fmt: skip
    assert "Listing 1" in listed.out and "CREDIT" not in listed.out
    assert credit_errors(cli) == []
    record = cli.ok("credit", "show", "--physician", DR_MO, "--json").json()
    assert [(x["key"], x["from"], x["to"], x["authority"], x["decision"]) for x in record["listings"]] == [
        (DR_MO, "2026-03-01", None, AUTHORITY, "桂卫监〔2026〕12号")
    ]  # fmt: skip
    assert cli.ok("physician", "show", DR_MO, "--json").json()["dishonest"] is True
    # a new contract while listed is refused; after the listing ends it is stored
    new = [("GX-P-MO-2", DR_MO, GX_HOSPITAL, "主要", "内科", "2026-06-01", "2026-12-31",
            "周一 08:00-12:00", 4, "")]  # fmt: skip
    refused = cli("import", "contracts", str(cli.file("续签.csv", CONTRACT_HEADERS, new)))
    assert refused.code == 1 and "CREDIT" in refused.out
    cli.ok("credit", "end", "1", "--on", "2026-05-31")
    assert cli("import", "contracts", str(cli.file("续签2.csv", CONTRACT_HEADERS, new))).code == 0
    assert credit_errors(cli) == []


def test_listing_an_institution_today_bites_from_the_listing_not_from_years_ago(cli: Cli):
    listed = cli.ok(
        "credit", "add", "institution", GX_CLINIC, "--from", "2026-11-01", "--reason",
        "出具虚假证明", "--authority", "南宁市卫生健康委员会",
    )  # fmt: skip
    assert "GX-A-WEI" in listed.out  # the clerk sees at once which contract it touches
    found = credit_errors(cli)
    assert [(v["physician"], v["agreements"], v["first_date"], v["measure"]) for v in found] == [
        (DR_WEI, ["GX-A-WEI"], "2026-11-01", 61)  # 1 Nov – 31 Dec, not since 2024
    ]
    # Dr Lu's clinic contract ended in 2025, before the listing: nothing to report
    assert credit_errors(cli, "--physician", DR_LU) == []
    assert cli.ok("institution", "show", GX_CLINIC, "--json").json()["listings"][0]["from"] == (
        "2026-11-01"
    )


def test_a_listing_that_ends_before_it_begins_is_one_sentence_and_stores_nothing(cli: Cli):
    sentence = cli.refused(
        "credit", "add", "physician", DR_WEI, "--from", "2026-03-01", "--to", "2026-02-01",
        "--reason", "x", "--authority", AUTHORITY,
    )  # fmt: skip
    assert "2026-02-01" in sentence and "2026-03-01" in sentence
    assert cli.ok("credit", "show", "--json").json() == {"listings": [], "points": []}
    cli.refused("credit", "add", "physician", "145450000009999", "--from", "2026-03-01",
                "--reason", "x", "--authority", AUTHORITY)  # fmt: skip
    cli.refused("credit", "end", "7", "--on", "2026-03-01")
    formula = cli.refused("credit", "add", "physician", DR_WEI, "--from", "2026-03-01",
                          "--reason", "x", "--authority", AUTHORITY, "--decision",
                          "=HYPERLINK(1)")  # fmt: skip
    assert "decision number" in formula
    cli.ok("credit", "add", "physician", DR_WEI, "--from", "2026-03-01", "--reason", "x",
           "--authority", AUTHORITY)  # fmt: skip
    assert "before it begins" in cli.refused("credit", "end", "1", "--on", "2026-02-28")
    audit = cli.ok("credit", "show", "--json").json()["listings"]
    assert [x["to"] for x in audit] == [None]


def test_misconduct_points_are_shown_beside_the_listings(cli: Cli):
    cli.ok("credit", "points", DR_LU, "--on", "2026-05-06", "--points", "6", "--reason",
           "未按规定填写病历", "--authority", "南宁市卫生健康委员会")  # fmt: skip
    cli.ok("credit", "add", "physician", DR_LU, "--from", "2026-09-01", "--to", "2026-09-30",
           "--reason", "记分满12分", "--authority", AUTHORITY)  # fmt: skip
    record = cli.ok("credit", "show", "--physician", DR_LU, "--json").json()
    assert [(p["on"], p["points"]) for p in record["points"]] == [("2026-05-06", 6)]
    assert [x["to"] for x in record["listings"]] == ["2026-09-30"]
    table = cli.ok("credit", "show", "--physician", DR_LU).out
    assert "未按规定填写病历" in table and "记分满12分" in table
    zero = cli.refused(
        "credit", "points", DR_LU, "--on", "2026-05-06", "--points", "0", "--reason", "x",
        "--authority", "y",
    )  # fmt: skip
    assert "above 0" in zero
    shown = cli.ok("physician", "show", DR_LU, "--json").json()
    assert [p["points"] for p in shown["points"]] == [6]
    assert [v for v in shown["violations"] if v["code"] == "CREDIT"] != []  # Sept 2026 is listed


def test_the_old_dishonesty_flags_become_open_listings(db_url: str):
    """Revision 0008 on a registry whose flags were set: each flag becomes a listing open from
    the day its row last changed; the flags are gone."""
    import datetime as dt

    import sqlalchemy as sa
    from alembic import command

    from multisite.storage import Database, _alembic_config, connect, upgrade

    db = Database(db_url)
    with connect(db.engine) as connection, connection.begin():
        command.upgrade(_alembic_config(connection), "0007")
    changed = dt.datetime(2024, 5, 6, 7, 8, 9)
    with db.engine.begin() as c:
        meta = sa.MetaData()
        region, institution, physician = (
            sa.Table(name, meta, autoload_with=c) for name in ("region", "institution", "physician")
        )
        c.execute(sa.insert(region), [{"code": "450000", "name": "广西", "level": "province"},
                                       {"code": "450103", "name": "青秀区", "level": "county"}])  # fmt: skip
        c.execute(
            sa.insert(institution),
            [{"code": code, "name": code, "kind": "诊所", "beds": 0, "departments": [],
              "grassroots": False, "county_code": "450103", "address": "", "dishonest": flag,
              "notes": {}, "updated_at": changed} for code, flag in ((GX_CLINIC, True),
                                                                     (GX_HOSPITAL, False))],
        )  # fmt: skip
        c.execute(
            sa.insert(physician),
            [{"cert_no": cert, "name": "某", "initials": "m", "level": "执业医师", "category": "临床",
              "scopes": ["内科"], "title": "主治医师", "status": "registered", "dishonest": flag,
              "notes": {}, "updated_at": changed} for cert, flag in ((DR_MO, True), (DR_LU, False))],
        )  # fmt: skip
    upgrade(db.engine)
    with db.engine.connect() as c:
        rows = c.execute(
            sa.text(
                "SELECT p.cert_no, i.code, l.start, l.until, l.reason FROM credit_listing l "
                "LEFT JOIN physician p ON p.id = l.physician_id "
                "LEFT JOIN institution i ON i.id = l.institution_id ORDER BY l.id"
            )
        ).all()
        columns = {x["name"] for x in sa.inspect(c).get_columns("physician")}
    db.dispose()
    day = dt.date(2024, 5, 6)
    assert [(r[0], r[1], str(r[2]), r[3], r[4]) for r in rows] == [
        (DR_MO, None, str(day), None, "原失信标记"),
        (None, GX_CLINIC, str(day), None, "原失信标记"),
    ]
    assert "dishonest" not in columns


LISTING_HEADERS = (
    "执业证书编码",
    "机构代码",
    "列入日期",
    "移出日期",
    "列入原因",
    "认定机关",
    "决定文号",
)
LISTINGS = [
    (DR_MO, "", "2026-03-01", "", "骗取医保基金", AUTHORITY, "桂卫监〔2026〕12号"),
    ("", GX_CLINIC, "2026-11-01", "2027-10-31", "出具虚假证明", "南宁市卫生健康委员会", "南卫监〔2026〕7号"),
]  # fmt: skip
BAD = (DR_WEI, "", "2026-03-01", "2026-02-01", "x", AUTHORITY, "")  # ends before it begins


def test_a_listing_file_is_imported_like_the_other_office_files(cli: Cli, tmp_path: Path):
    path = cli.file("失信名单.csv", LISTING_HEADERS, [*LISTINGS, BAD])
    refused = cli("import", "credit", str(path))  # all or nothing: one bad row stores nothing
    assert refused.code == 1 and "2026-02-01" in refused.out
    assert cli.ok("credit", "show", "--json").json()["listings"] == []
    partial = cli("import", "credit", str(path), "--partial")
    assert partial.code == 1 and "GX-A-WEI" in partial.out  # the clinic's running contract
    listed = cli.ok("credit", "show", "--json").json()["listings"]
    assert [(x["key"], x["from"], x["to"], x["decision"]) for x in listed] == [
        (DR_MO, "2026-03-01", None, "桂卫监〔2026〕12号"),
        (GX_CLINIC, "2026-11-01", "2027-10-31", "南卫监〔2026〕7号"),
    ]
    assert [v["first_date"] for v in credit_errors(cli)] == ["2026-11-01"]
    # the same file again changes nothing; an .xlsx of the good rows neither
    again = cli("import", "credit", str(cli.file("again.csv", LISTING_HEADERS, LISTINGS)))
    assert again.code == 0 and cli.ok("credit", "show", "--json").json()["listings"] == listed
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in (LISTING_HEADERS, *LISTINGS):
        sheet.append(list(line))
    book.save(tmp_path / "失信名单.xlsx")
    assert cli("import", "credit", str(tmp_path / "失信名单.xlsx")).code == 0
    assert cli.ok("credit", "show", "--json").json()["listings"] == listed
    template = cli.ok("import", "template", "credit", "-o", str(tmp_path / "模板.xlsx"))
    assert "credit" in template.out
