"""Nurses (护士区域注册, issue 18): a practitioner with a profession, imported from an office's
files (GB18030 CSV with Chinese headers, .xlsx) into an empty database in Guizhou (52xxxx),
bound by the rules of both professions and not by a physician's own."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multisite.domain import identifiers as ids
from multisite.domain import rules
from multisite.domain.facts import AgreementFact, InstitutionFact, PhysicianFact, RegistrationFact
from multisite.domain.policy import defaults
from multisite.domain.schedule import Slot
from multisite.domain.sweep import Sweeper

from .clerk_cli import INSTITUTION_HEADERS, PHYSICIAN_HEADERS, Cli, credit_code
from .offices import write_xlsx
from .test_sweep import STRICT, physicians

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


def guangzhou_office(url: str, folder: Path) -> None:
    """The office's institutions, physicians and nurses imported: built once per test worker
    and engine (``BUILD_REGISTRY``), copied for each test."""
    cli = Cli(url, None, folder)
    cli.ok("init")
    cli.load("institutions", INSTITUTION_HEADERS, GZ_INSTITUTIONS)
    cli.load("physicians", PHYSICIAN_HEADERS, GZ_PHYSICIANS)
    cli.load("nurses", NURSE_HEADERS, GZ_NURSES)


BUILD_REGISTRY = guangzhou_office


@pytest.fixture
def cli(built_registry_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """The office's registry, a copy for each test."""
    return Cli(built_registry_url, capsys, tmp_path)


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
    # nothing to reinstate, said of a nurse as a nurse, and of a cancellation as one
    assert "Nurse" in cli.refused("nurse", "reinstate", NURSE_WU, "--on", "2026-07-01")
    cancelled = cli.refused("nurse", "reinstate", NURSE_LI, "--on", "2026-10-01")
    assert "nurse" in cancelled and "cancelled" in cancelled and "Physician" not in cancelled


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


# --- the validation base: nurses toward the nurse minimum, beside the physicians ----------------

BASE_CONTRACTS = [
    ("HT-D-YANG", DR_YANG, GZ_HOSPITAL, "主要", "内科", "2026-01-05", "2026-12-31", "周一 08:00-16:00；周二 08:00-16:00；周三 08:00-16:00；周四 08:00-16:00；周五 08:00-16:00", 40, ""),
    ("HT-N-LI-1", NURSE_LI, GZ_HOSPITAL, "主要", "内科", "2026-01-05", "2026-12-31", "周一 08:00-16:00；周二 08:00-16:00", 16, ""),
    ("HT-N-WU-1", NURSE_WU, GZ_HOSPITAL, "主要", "外科", "2026-01-05", "2026-12-31", "周三 08:00-16:00", 8, ""),
]  # fmt: skip


def _hospital(cli: Cli, *args: str) -> dict:
    documents = cli.ok("base", "--json", "--on", "2026-03-02", *args).json()
    return next(d for d in documents if d["institution"] == GZ_HOSPITAL)


def test_nurses_count_toward_the_nurse_minimum_not_the_physician_base(cli: Cli):
    cli.load("contracts", CONTRACT_HEADERS, BASE_CONTRACTS)
    h = _hospital(cli)
    assert h["counted"] == 1.0  # the physician alone: 40 h ÷ 40 h
    assert (h["nurse_required"], h["nurse_counted"], h["nurse_status"]) == (5, 0.6, "short")
    assert h["nurse_required_confirmed"] is False and h["nurse_count"] == 2
    assert [c["profession"] for c in h["contributors"]] == ["physician", "nurse", "nurse"]
    shown = cli.ok("institution", "show", GZ_HOSPITAL).out
    assert "Nurses: required 5, counted 0.6: short." in shown
    professions = {c["physician"]: c["profession"] for c in h["contributors"]}
    assert professions == {DR_YANG: "physician", NURSE_LI: "nurse", NURSE_WU: "nurse"}
    assert sum(c["share"] for c in h["contributors"] if c["profession"] == "physician") == 1.0
    cli.ok("policy", "set", "520000", "counting=headcount")
    assert _hospital(cli)["nurse_counted"] == 2
    more = [
        (f"20205200001{n}", f"护士{n}", "护士", "520000", GZ_HOSPITAL, "2020-07-01")
        for n in range(3)
    ]
    cli.load("nurses", NURSE_HEADERS, more)
    cli.load("contracts", CONTRACT_HEADERS, [
        (f"HT-N-{n}", cert, GZ_HOSPITAL, "主要", "内科", "2026-01-05", "2026-12-31", "周四 08:00-16:00", 8, "")
        for n, (cert, *_rest) in enumerate(more)
    ])  # fmt: skip
    h = _hospital(cli)
    assert (h["nurse_counted"], h["nurse_status"], h["status"]) == (5, "meets", h["status"])
    table = cli.ok("base", "--on", "2026-03-02").out
    assert "5/5* meets" in table
    detail = cli.ok("base", "--institution", GZ_HOSPITAL, "--on", "2026-03-02").out
    assert "Nurses: required 5, counted 5: meets." in detail


def test_the_nurse_minimum_is_an_editable_staffing_row(cli: Cli):
    cli.load("contracts", CONTRACT_HEADERS, BASE_CONTRACTS)
    cli.ok(
        "staffing",
        "set",
        "520000",
        "一级综合医院",
        "--min-nurses",
        "2",
        "--nurses-per-physician",
        "1",
    )
    rows = cli.ok("staffing", "show", "--region", "520000", "--json").json()
    row = next(r for r in rows if r["kind"] == "一级综合医院")
    assert (row["min_nurses"], row["nurses_per_physician"], row["nurse_confirmed"]) == (2, 1, False)
    h = _hospital(cli)
    assert (h["nurse_required"], h["nurse_status"]) == (2, "short")  # max(2, 1 × 1.0)
    cli.ok("staffing", "set", "520000", "一级综合医院", "--min-nurses", "0.5", "--nurse-confirmed")
    h = _hospital(cli)
    assert (h["nurse_required"], h["nurse_status"], h["nurse_required_confirmed"]) == (
        1,
        "short",
        True,
    )
    cli.ok("policy", "set", "520000", "counting=headcount")
    assert _hospital(cli)["nurse_status"] == "meets"
    shipped = cli.ok("staffing", "show", "--json").json()
    centre = next(r for r in shipped if r["kind"] == "社区卫生服务中心")
    assert (centre["nurses_per_physician"], centre["nurse_confirmed"]) == (1, False)


# --- the sweep's shortcut holds for nurses too ----------------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(physicians(), st.sampled_from([defaults(), STRICT]))
def test_a_nurse_the_shortcut_clears_has_no_violation(p: PhysicianFact, policy):
    """The same random practitioners as ``test_sweep``'s, as nurses (no scopes): the sweep
    skips the rules that do not bind nurses and still misses nothing the full rules find."""
    nurse = dataclasses.replace(
        p, level="注册护士", category="", scopes=frozenset(), title="护师", profession="nurse"
    )
    ctx = rules.RuleContext(policy, unknown_holiday_years=lambda a, b: [
        y for y in range(a.year, b.year + 1) if not 2004 <= y <= 2026
    ])  # fmt: skip
    clean = Sweeper(ctx, {}, set(), lambda year: 2004 <= year <= 2026).facts_clean(nurse)
    found = rules.evaluate(nurse, ctx)
    assert not {v.code for v in found} & {"SCOPE", "ELIGIBILITY"}
    if clean:
        assert found == []


def test_a_suspended_nurse_counts_nothing(cli: Cli):
    cli.load("contracts", CONTRACT_HEADERS, BASE_CONTRACTS)
    cli.ok("policy", "set", "520000", "counting=headcount")
    assert _hospital(cli)["nurse_counted"] == 2
    cli(
        "nurse",
        "suspend",
        NURSE_WU,
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--reason",
        "处罚",
    )
    h = _hospital(cli)
    assert (h["nurse_counted"], h["counted"]) == (1, 1)


# --- the demo region: nurses through the batch path, and the physician base untouched ----------


def _nurse_recount(registry, on: dt.date, mode: str) -> dict[int, float]:
    """Per institution id, the nurses counted from the raw rows (no suspensions here)."""
    from sqlalchemy import select

    from multisite.storage.models import Agreement, Physician

    minutes: dict[tuple[int, int], int] = {}
    primary: set[tuple[int, int]] = set()
    with registry.db.read() as s:
        rows = s.execute(
            select(Agreement.institution_id, Agreement.physician_id, Agreement.role,
                   Agreement.start, Agreement.end, Agreement.terminated_on,
                   Agreement.weekly_minutes)
            .join(Physician, Physician.id == Agreement.physician_id)
            .where(Physician.profession == "nurse")
        ).all()  # fmt: skip
    for inst, pid, role, start, end, terminated, weekly in rows:
        last = min(end, terminated) if terminated else end
        if start <= on <= last:
            minutes[inst, pid] = minutes.get((inst, pid), 0) + weekly
            if role == "primary":
                primary.add((inst, pid))
    out: dict[int, float] = {}
    for (inst, pid), m in minutes.items():
        share = {
            "fte": min(1.0, m / 2400),
            "headcount": 1.0 if m >= 240 else 0.0,
            "primary_only": 1.0 if (inst, pid) in primary else 0.0,
        }[mode]
        out[inst] = out.get(inst, 0.0) + share
    return out


def test_the_demo_builds_nurses_that_leave_the_physician_base_as_it_was(
    db_url: str, tmp_path: Path
):
    """The same seed without nurses (SQLite) and with 1.2 nurses per physician (each backend)."""
    from multisite.services import Registry, demo
    from multisite.services.validation_base import validation_base
    from multisite.storage import Database, upgrade

    today = dt.date(2026, 11, 28)
    registries = []
    databases = []
    try:
        for ratio, url in ((0.0, f"sqlite:///{tmp_path / 'plain.db'}"), (1.2, db_url)):
            database = Database(url)
            upgrade(database.engine)
            databases.append(database)
            registry = Registry(database, clerk="演示")
            built = demo.generate(registry, 150, seed=11, today=today, nurses_per_physician=ratio)
            registries.append((registry, built))
        (plain, _), (nursed, built) = registries
        nurses = [p for p in built.physicians if p.get("profession") == "nurse"]
        assert len(nurses) == 180 and nursed.summary()["nurses"] == 180
        codes = {i["id"]: i["code"] for i in built.institutions}
        for mode in ("fte", "headcount", "primary_only"):
            for registry, _built in registries:
                registry.set_policy("330000", {"counting": mode})
            before = {b.institution: b for b in validation_base(plain, today)}
            after = {b.institution: b for b in validation_base(nursed, today)}
            summary = {b.institution: b for b in validation_base(nursed, today, detail=False)}
            expected = _nurse_recount(nursed, today, mode)
            for iid, code in codes.items():
                b, a, s = before[code], after[code], summary[code]
                assert (a.counted, a.required, a.status) == (b.counted, b.required, b.status)
                assert a.nurse_counted == pytest.approx(expected.get(iid, 0.0), abs=1e-3), code
                assert (s.nurse_counted, s.nurse_required, s.nurse_status) == pytest.approx(
                    (a.nurse_counted, a.nurse_required, a.nurse_status)
                ), code
    finally:
        for database in databases:
            database.dispose()
