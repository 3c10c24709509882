"""Nurses (护士区域注册, issue 18): a practitioner with a profession, imported from an office's
files (GB18030 CSV with Chinese headers, .xlsx) into an empty database in Guizhou (52xxxx),
bound by the rules of both professions and not by a physician's own."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from multisite.domain import identifiers as ids
from multisite.domain import rules
from multisite.domain.facts import AgreementFact, InstitutionFact, PhysicianFact, RegistrationFact
from multisite.domain.policy import defaults
from multisite.domain.schedule import Slot

from .clerk_cli import INSTITUTION_HEADERS, PHYSICIAN_HEADERS, Cli, credit_code
from .offices import write_xlsx

GZ_HOSPITAL = credit_code("520102", 201)  # 一级综合医院, 南明区
GZ_CLINIC = credit_code("520103", 202)  # 综合门诊部, 云岩区
GZ_OTHER = credit_code("520102", 203)  # 二级综合医院, 南明区
NURSE_HEADERS = ("护士执业证书编号", "姓名", "职称", "注册地", "主要执业机构", "注册日期")
CONTRACT_HEADERS = (
    "合同编号", "护士执业证书编号", "机构代码", "执业类型", "科室", "起始日期", "终止日期", "排班",
    "约定周工时", "主要机构同意",
)  # fmt: skip
DR_YANG = "152520000000001"
NURSE_LI = "201552000001"  # registered 2015 in Guizhou (52), serial 000001
NURSE_WU = "201852000002"
NURSE_HE = "202052000003"

GZ_INSTITUTIONS = [
    (GZ_HOSPITAL, "南明区人民医院", "一级综合医院", 60, "520102", "内科；外科", "否", "花果园1号"),
    (GZ_CLINIC, "云岩区综合门诊部", "综合门诊部", 0, "520103", "内科", "否", "中华北路2号"),
    (GZ_OTHER, "南明区第二人民医院", "二级综合医院", 200, "520102", "内科；外科", "否", "遵义路3号"),
]  # fmt: skip
GZ_PHYSICIANS = [
    (DR_YANG, "杨光明", "执业医师", "临床", "内科", "主治医师", "520000", GZ_HOSPITAL, "2014-03-01"),
]  # fmt: skip
GZ_NURSES = [
    (NURSE_LI, "李娜", "主管护师", "520000", GZ_HOSPITAL, "2015-07-01"),
    (NURSE_WU, "吴秀英", "护师", "520000", GZ_HOSPITAL, "2018-07-01"),
]


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    cli = Cli(db_url, capsys, tmp_path)
    cli.ok("init")
    cli.load("institutions", INSTITUTION_HEADERS, GZ_INSTITUTIONS)
    cli.load("physicians", PHYSICIAN_HEADERS, GZ_PHYSICIANS)
    cli.load("nurses", NURSE_HEADERS, GZ_NURSES)
    return cli


def report_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


# --- the certificate number and the rules (pure) ----------------------------------------------


def test_a_nurse_certificate_is_twelve_digits_of_year_province_and_serial():
    assert ids.nurse_cert_ok(NURSE_LI)
    assert ids.profession_of_cert(NURSE_LI) == "nurse"
    assert ids.profession_of_cert(DR_YANG) == "physician"
    for bad in ("201552", "1990520000001"[:12], "201500000001", "2015520000011", "20155200000X"):
        assert not ids.nurse_cert_ok(bad), bad
    assert ids.profession_of_cert("199052000001") is None  # before 1994


def test_scope_and_the_2014_gate_bind_physicians_only_the_other_rules_both():
    nurse_rules = {r.code for r in rules.applying_to("nurse")}
    physician_rules = {r.code for r in rules.applying_to("physician")}
    assert physician_rules == {r.code for r in rules.RULES}
    assert physician_rules - nurse_rules == {"SCOPE", "ELIGIBILITY"}
    for code in ("OVERLAP", "TRAVEL_GAP", "WEEKLY_HOURS", "DAILY_HOURS", "REST_DAY", "MIN_REST",
                 "REGISTRATION", "OUT_OF_REGION", "PRIMARY", "PERIOD", "CREDIT", "CONSENT"):  # fmt: skip
        assert code in nurse_rules, code


def _fact(profession: str, *slots: Slot, department: str = "护理部") -> PhysicianFact:
    place = InstitutionFact(1, GZ_HOSPITAL, "南明区人民医院", "一级综合医院", "520102",
                            frozenset({"内科"}))  # fmt: skip
    reg = RegistrationFact("520000", 1, dt.date(2015, 7, 1))
    agreements = tuple(
        AgreementFact(n, f"HT-{n}", place, "primary" if n == 1 else "additional", department,
                      dt.date(2026, 1, 5), dt.date(2026, 12, 31), 4, n > 1, (slot,))
        for n, slot in enumerate(slots, start=1)
    )  # fmt: skip
    level, category, scopes, title = (
        ("注册护士", "", frozenset(), "护师")
        if profession == "nurse"
        else ("执业医师", "临床", frozenset({"内科"}), "住院医师")
    )
    return PhysicianFact(1, NURSE_LI, "李娜", level, category, scopes, title, registrations=(reg,),
                         agreements=agreements, profession=profession)  # fmt: skip


def test_a_nurse_has_no_scope_to_break_but_overlaps_like_a_physician():
    ctx = rules.RuleContext(dataclasses.replace(defaults(), eligibility_gate=True))
    monday = Slot(0, 8 * 60, 12 * 60)
    nurse = rules.evaluate(_fact("nurse", monday, Slot(0, 10 * 60, 14 * 60)), ctx)
    assert {v.code for v in nurse if v.severity == rules.ERROR} == {"OVERLAP"}
    physician = rules.evaluate(_fact("physician", monday, Slot(0, 10 * 60, 14 * 60)), ctx)
    assert {"OVERLAP", "SCOPE", "ELIGIBILITY"} <= {v.code for v in physician}


# --- from the office's files --------------------------------------------------------------------


def test_nurses_import_from_gb18030_and_xlsx_and_show_as_nurses(cli: Cli):
    path = cli.folder / "护士.xlsx"
    write_xlsx(
        path, list(NURSE_HEADERS), [[NURSE_HE, "何丽", "护士", "520000", GZ_OTHER, "2020-08-01"]]
    )
    assert cli("import", "nurses", str(path)).code == 0
    shown = cli.ok("nurse", "show", NURSE_HE, "--json").json()
    assert (shown["profession"], shown["title"], shown["level"]) == ("nurse", "护士", "注册护士")
    assert shown["scopes"] == [] and shown["category"] == ""
    assert shown["registrations"][0]["main_institution"]["code"] == GZ_OTHER
    text = cli.ok("nurse", "show", NURSE_LI).out
    assert "李娜" in text and "主管护师" in text
    again = cli("import", "nurses", str(cli.file("again.csv", NURSE_HEADERS, GZ_NURSES)))
    assert (again.code == 0 and "unchanged" in again.out.lower()) or again.code == 0


def test_a_command_of_the_other_profession_is_one_sentence(cli: Cli):
    assert "registered as a nurse" in cli.refused("physician", "show", NURSE_LI)
    assert "registered as a physician" in cli.refused("nurse", "show", DR_YANG)
    assert "registered as a nurse" in cli.refused("ical", "physician", NURSE_LI)


def test_nurse_contracts_are_refused_on_conflict_like_physicians(cli: Cli):
    good = [
        ("HT-N-LI-1", NURSE_LI, GZ_HOSPITAL, "主要", "内科", "2026-01-05", "2026-12-31", "周一 08:00-16:00；周二 08:00-16:00", 16, ""),
        ("HT-N-LI-2", NURSE_LI, GZ_CLINIC, "其他", "内科", "2026-01-05", "2026-12-31", "周六 08:00-12:00", 4, "是"),
        ("HT-N-WU-1", NURSE_WU, GZ_HOSPITAL, "主要", "外科", "2026-01-05", "2026-12-31", "周三 08:00-16:00", 8, ""),
    ]  # fmt: skip
    cli.load("contracts", CONTRACT_HEADERS, good)
    clash = cli.file("clash.csv", CONTRACT_HEADERS, [
        ("HT-N-LI-3", NURSE_LI, GZ_OTHER, "其他", "内科", "2026-01-05", "2026-12-31", "周一 14:00-18:00", 4, "是"),
    ])  # fmt: skip
    report = cli.folder / "clash-report.csv"
    result = cli("import", "contracts", str(clash), "--report", str(report))
    assert result.code == 1
    codes = {(r["row"], r["code"]) for r in report_rows(report)}
    assert ("2", "OVERLAP") in codes
    shown = cli.ok("nurse", "show", NURSE_LI, "--json").json()
    assert [a["contract_no"] for a in shown["agreements"]] == ["HT-N-LI-1", "HT-N-LI-2"]
    # the time rules bind nurses; a nurse's department is no physician's scope (no SCOPE)
    assert not [v for v in cli.violations("--physician", NURSE_LI) if v["severity"] == "error"]


def test_a_nurse_is_suspended_reinstated_cancelled_and_subscribes_to_a_feed(cli: Cli):
    cli.load("contracts", CONTRACT_HEADERS, [
        ("HT-N-WU-1", NURSE_WU, GZ_HOSPITAL, "主要", "外科", "2026-01-05", "2026-12-31", "周三 08:00-16:00", 8, ""),
    ])  # fmt: skip
    suspended = cli("nurse", "suspend", NURSE_WU, "--from", "2026-03-01", "--to", "2026-05-31",
                    "--reason", "定期考核不合格")  # fmt: skip
    assert suspended.code == 0 and "REGISTRATION" in suspended.out
    cli.ok("nurse", "reinstate", NURSE_WU, "--on", "2026-04-01")
    calendar = cli.ok("ical", "nurse", NURSE_WU).out
    assert "BEGIN:VEVENT" in calendar and "HT-N-WU-1" in calendar
    url = cli.ok("feed", "issue", NURSE_WU).out.splitlines()[0]
    assert url.startswith("https://") and url.endswith(".ics")
    cli.ok("nurse", "cancel", NURSE_LI, "--on", "2026-09-01", "--reason", "本人申请注销")
    assert (
        cli.ok("nurse", "show", NURSE_LI, "--json").json()["registrations"][0]["history"][-1][
            "status"
        ]
        == "cancelled"
    )


# --- bad input: one row error each, naming row, column and rule --------------------------------


def _problems(cli: Cli, kind: str, headers, rows) -> list[dict[str, str]]:
    path = cli.file(f"bad-{kind}-{len(list(cli.folder.iterdir()))}.csv", headers, rows)
    report = path.with_suffix(".report.csv")
    result = cli("import", kind, str(path), "--report", str(report))
    assert result.code == 1, result.out + result.err
    return report_rows(report)


def test_a_physician_certificate_in_the_nurses_file_is_a_row_error(cli: Cli):
    (problem,) = _problems(cli, "nurses", NURSE_HEADERS, [
        ("152520000000009", "周敏", "护师", "520000", GZ_HOSPITAL, "2019-07-01"),
    ])  # fmt: skip
    assert (problem["row"], problem["column"], problem["code"]) == (
        "2",
        "护士执业证书编号",
        "PROFESSION",
    )
    assert "physician's certificate" in problem["message"]


def test_a_nurse_row_with_a_physician_scope_is_a_row_error(cli: Cli):
    headers = (*NURSE_HEADERS, "执业范围")
    (problem,) = _problems(cli, "nurses", headers, [
        ("201952000004", "周敏", "护师", "520000", GZ_HOSPITAL, "2019-07-01", "内科"),
    ])  # fmt: skip
    assert (problem["row"], problem["column"], problem["code"]) == ("2", "执业范围", "PROFESSION")


def test_a_physician_title_on_a_nurse_and_a_nurse_title_on_a_physician_are_row_errors(cli: Cli):
    (problem,) = _problems(cli, "nurses", NURSE_HEADERS, [
        ("201952000004", "周敏", "主治医师", "520000", GZ_HOSPITAL, "2019-07-01"),
    ])  # fmt: skip
    assert (problem["row"], problem["column"], problem["code"]) == ("2", "职称", "PROFESSION")
    (problem,) = _problems(cli, "physicians", PHYSICIAN_HEADERS, [
        ("152520000000008", "罗刚", "执业医师", "临床", "内科", "主管护师", "520000", GZ_HOSPITAL, "2016-01-01"),
    ])  # fmt: skip
    assert (problem["row"], problem["column"], problem["code"]) == ("2", "职称", "PROFESSION")


def test_a_nurse_certificate_in_the_physicians_file_is_a_row_error(cli: Cli):
    (problem,) = _problems(cli, "physicians", PHYSICIAN_HEADERS, [
        ("201952000005", "罗刚", "执业医师", "临床", "内科", "主治医师", "520000", GZ_HOSPITAL, "2016-01-01"),
    ])  # fmt: skip
    assert (problem["row"], problem["column"], problem["code"]) == (
        "2",
        "执业证书编码",
        "PROFESSION",
    )
    assert "nurse's certificate" in problem["message"]


def test_the_readme_rule_table_says_whom_each_rule_binds():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    section = readme[readme.index("### The rules") :]
    for rule in rules.RULES:
        line = next(x for x in section.splitlines() if x.startswith(f"| `{rule.code}` |"))
        whom = line.rstrip(" |").rsplit("|", 1)[1].strip()
        expected = "physicians and nurses" if "nurse" in rule.professions else "physicians"
        assert whom == expected, rule.code
