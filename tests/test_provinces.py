"""Two provinces in one registry: each province's policy judges its own agreements, from an
empty database fed with the files two offices send (Guangxi 45xxxx, Inner Mongolia 15xxxx)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .clerk_cli import CONTRACT_HEADERS, INSTITUTION_HEADERS, PHYSICIAN_HEADERS, Cli, credit_code

GX_HOSPITAL = credit_code("450103", 1)  # 青秀区
GX_CLINIC = credit_code("450102", 2)  # 兴宁区
NM_HOSPITAL = credit_code("150102", 3)  # 呼和浩特市新城区
GX_DR = "145450000000001"
NM_DR = "115150000000002"
WEEK_35 = "周一 08:00-15:00；周二 08:00-15:00；周三 08:00-15:00；周四 08:00-15:00；周五 08:00-15:00"


def two_provinces(url: str, folder: Path) -> None:
    """A Guangxi and an Inner Mongolia hospital, a physician and a primary contract at each:
    built once per test worker and engine (``BUILD_REGISTRY``), copied for each test."""
    cli = Cli(url, None, folder)
    cli.ok("init")
    cli.load(
        "institutions",
        INSTITUTION_HEADERS,
        [
            (GX_HOSPITAL, "广西壮族自治区人民医院", "三级综合医院", 1500, "450103", "内科；外科", "否", "桃源路6号"),
            (GX_CLINIC, "兴宁区朝阳内科诊所", "诊所", 0, "450102", "内科", "是", "朝阳路1号"),
            (NM_HOSPITAL, "内蒙古自治区人民医院", "三级综合医院", 1800, "150102", "内科；外科", "否", "昭乌达路1号"),
        ],
    )  # fmt: skip
    cli.load(
        "physicians",
        PHYSICIAN_HEADERS,
        [
            (GX_DR, "韦建国", "执业医师", "临床", "内科", "主治医师", "450000", GX_HOSPITAL, "2015-03-01"),
            (NM_DR, "巴特尔", "执业医师", "临床", "内科", "主治医师", "150000", NM_HOSPITAL, "2014-07-01"),
        ],
    )  # fmt: skip
    cli.load(
        "contracts",
        CONTRACT_HEADERS,
        [
            ("GX-2026-001", GX_DR, GX_HOSPITAL, "主要", "内科", "2026-01-01", "2026-12-31", WEEK_35, 35, ""),
            ("NM-2026-001", NM_DR, NM_HOSPITAL, "主要", "内科", "2026-01-01", "2026-12-31", WEEK_35, 35, ""),
        ],
    )  # fmt: skip


BUILD_REGISTRY = two_provinces


@pytest.fixture
def cli(built_registry_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """The two provinces' registry, a copy for each test."""
    return Cli(built_registry_url, capsys, tmp_path)


def codes(found: list[dict[str, object]], cert: str) -> set[object]:
    return {v["code"] for v in found if v["physician"] == cert}


def test_one_provinces_policy_does_not_judge_another_provinces_physicians(cli: Cli):
    assert "WEEKLY_HOURS" not in codes(cli.violations(), GX_DR)
    cli.ok("policy", "set", "150000", "weekly_max_hours=30")
    found = cli.violations()
    assert "WEEKLY_HOURS" in codes(found, NM_DR)  # Inner Mongolia's own physician: 35 h > 30
    assert "WEEKLY_HOURS" not in codes(found, GX_DR)  # Guangxi keeps the default 60
    assert cli.ok("policy", "show", "--region", "450000", "--json").json()["weekly_max_hours"] == 60
    # the Guangxi physician's next update is judged by Guangxi's policy and stored
    update = cli.file(
        "更新.csv",
        CONTRACT_HEADERS,
        [("GX-2026-001", GX_DR, GX_HOSPITAL, "主要", "内科", "2026-01-01", "2026-12-31", WEEK_35, 36, "")],
    )  # fmt: skip
    assert cli("import", "contracts", str(update)).code == 0
    shown = cli.ok("physician", "show", GX_DR, "--json").json()
    assert shown["agreements"][0]["weekly_hours"] == 36
    assert not [v for v in shown["violations"] if v["code"] == "WEEKLY_HOURS"]
    # and an Inner Mongolian change of the same size is refused under Inner Mongolia's limit
    refused = cli.file(
        "更新2.csv",
        CONTRACT_HEADERS,
        [("NM-2026-001", NM_DR, NM_HOSPITAL, "主要", "内科", "2026-01-01", "2026-12-31", WEEK_35, 36, "")],
    )  # fmt: skip
    result = cli("import", "contracts", str(refused))
    assert result.code == 1 and "WEEKLY_HOURS" in result.out


def test_each_province_tightened_on_its_own(cli: Cli):
    cli.ok("policy", "set", "450000", "weekly_max_hours=34")
    cli.ok("policy", "set", "150000", "weekly_max_hours=40")
    found = cli.violations()
    assert "WEEKLY_HOURS" in codes(found, GX_DR)
    assert "WEEKLY_HOURS" not in codes(found, NM_DR)
    one = cli.violations("--physician", GX_DR)
    assert [v["measure"] for v in one if v["code"] == "WEEKLY_HOURS"] == [1]


def test_a_policy_for_an_unknown_province_is_one_sentence(cli: Cli):
    sentence = cli.refused("policy", "set", "990000", "weekly_max_hours=30")
    assert "990000" in sentence
    assert cli.ok("policy", "show", "--region", "150000", "--json").json()["version"] == 0


# --- a physician registered in both provinces (增加注册) -----------------------------------

NM_CLINIC_WEEK = "周六 08:00-12:00；周日 08:00-12:00"


@pytest.fixture
def both(cli: Cli) -> Cli:
    """Dr Wei (Guangxi) adds a registration in Inner Mongolia with its own main institution,
    and files a primary contract there: the second office's files."""
    cli.load(
        "physicians",
        PHYSICIAN_HEADERS,
        [(GX_DR, "韦建国", "执业医师", "临床", "内科", "主治医师", "150000", NM_HOSPITAL, "2026-01-01")],
    )  # fmt: skip
    cli.load(
        "contracts",
        CONTRACT_HEADERS,
        [("NM-2026-002", GX_DR, NM_HOSPITAL, "主要", "内科", "2026-01-01", "2026-12-31",
          NM_CLINIC_WEEK, 8, "")],
    )  # fmt: skip
    return cli


def test_a_primary_contract_in_the_second_province_is_not_a_second_primary(both: Cli):
    shown = both.ok("physician", "show", GX_DR, "--json").json()
    assert [r["region"] for r in shown["registrations"]] == ["450000", "150000"]
    assert [v for v in both.violations("--physician", GX_DR) if v["severity"] == "error"] == []
    # a second primary in one province is still refused
    second = both.file(
        "第二主要.csv",
        CONTRACT_HEADERS,
        [("GX-2026-009", GX_DR, GX_CLINIC, "主要", "内科", "2026-01-01", "2026-12-31",
          "周日 14:00-16:00", 2, "")],
    )  # fmt: skip
    refused = both("import", "contracts", str(second))
    assert refused.code == 1 and "PRIMARY" in refused.out


def counted(cli: Cli, code: str, on: str) -> set[str]:
    report = cli.ok("base", "--institution", code, "--on", on, "--json").json()
    return {c["physician"] for b in report for c in b["contributors"] if c["share"] > 0}


def registration_errors(cli: Cli) -> list[str]:
    found = cli.violations("--physician", GX_DR)
    return sorted(a for v in found if v["code"] == "REGISTRATION" for a in v["agreements"])


def test_a_suspension_without_a_region_covers_every_registration(both: Cli):
    done = both.ok("physician", "suspend", GX_DR, "--from", "2026-06-01", "--to", "2026-11-30",
                   "--reason", "定期考核不合格")  # fmt: skip
    assert "450000, 150000" in done.out
    assert registration_errors(both) == ["GX-2026-001", "NM-2026-002"]
    assert GX_DR not in counted(both, GX_HOSPITAL, "2026-07-01")
    assert GX_DR not in counted(both, NM_HOSPITAL, "2026-07-01")
    both.ok("physician", "reinstate", GX_DR, "--on", "2026-08-01")
    assert GX_DR in counted(both, GX_HOSPITAL, "2026-08-01")
    assert GX_DR in counted(both, NM_HOSPITAL, "2026-08-01")


def test_a_suspension_of_one_registration_stops_practice_there_only(both: Cli):
    both.ok("physician", "suspend", GX_DR, "--from", "2026-06-01", "--to", "2026-11-30",
            "--reason", "处罚", "--region", "150000")  # fmt: skip
    assert registration_errors(both) == ["NM-2026-002"]  # check …
    assert GX_DR in counted(both, GX_HOSPITAL, "2026-07-01")  # … and the base agree
    assert GX_DR not in counted(both, NM_HOSPITAL, "2026-07-01")
    regs = both.ok("physician", "show", GX_DR, "--json").json()["registrations"]
    assert [[e["status"] for e in r["history"]] for r in regs] == [
        ["registered"],
        ["registered", "suspended"],
    ]
    sentence = both.refused("physician", "reinstate", GX_DR, "--on", "2026-07-01",
                            "--region", "450000")  # fmt: skip
    assert "not suspended" in sentence


def test_a_physician_registered_in_two_provinces_is_found_once(both: Cli):
    """The clerks' search listed Dr Wei once a registration: the TUI's table refused the second
    row with the same key (DuplicateKey) and the whole UI ended with a traceback."""
    from multisite.services import Registry
    from multisite.services.search import find_physicians
    from multisite.storage import Database

    db = Database(both.db_url)
    try:
        registry = Registry(db)
        for query in (GX_DR, "韦建国", "wjg"):
            hits = find_physicians(registry, query).hits
            assert [h.cert for h in hits] == [GX_DR], query
            assert hits[0].main_institution == "广西壮族自治区人民医院"  # the first registration's
    finally:
        db.dispose()
