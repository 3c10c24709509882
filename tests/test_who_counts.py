"""Who counts toward which minimum (医疗机构基本标准), the validation cycle by kind, the
scopes a region licenses, and the eligibility gate: a Guangxi (45xxxx) region built from the
GB18030 files an office sends, on SQLite and PostgreSQL, driven through the command line."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from multisite.cli.main import main
from multisite.domain.identifiers import credit_check_char
from multisite.domain.sessions_text import parse_sessions
from multisite.domain.vocabulary import Kind, practising_from, shipped
from multisite.services import (
    AgreementInput,
    InstitutionInput,
    RefusedError,
    Registry,
    ServiceError,
)
from multisite.services.validation_base import _practised_by, apply_by, next_validation

ON = dt.date.today()


def code(county: str, body: str) -> str:
    first = "12" + county + body
    return first + credit_check_char(first)


CENTRE = code("450103", "45000001X")  # 青秀区 社区卫生服务中心
CLINIC = code("450103", "45000002X")  # 青秀区 诊所
HOSPITAL = code("450102", "45000003X")  # 兴宁区 二级综合医院
SPECIAL = code("450102", "45000004X")  # 兴宁区 专科医院, 40 beds: still every 3 years


PHYSICIANS = ["执业证书编码", "姓名", "医师级别", "执业类别", "执业范围", "职称", "注册地",
              "主要执业机构", "注册日期"]  # fmt: skip


def start(db_url: str) -> None:
    """An empty registry: the files below bring everything else (counties included)."""
    assert main(["--db", db_url, "init"]) == 0


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def cert(n: int) -> str:
    return f"1454501{n:08d}"


def guangxi_centre(db_url: str, tmp_path: Path) -> None:
    """Four institutions, six 内科 physicians at the centre, two at the clinic: built once per
    test worker and engine (``BUILD_REGISTRY``), copied for each test."""
    start(db_url)
    institutions = write(
        tmp_path / "机构.csv",
        ["机构代码", "机构名称", "机构类别", "床位数", "行政区划代码", "诊疗科目", "基层"],
        [
            [CENTRE, "南宁市青秀区中山街道社区卫生服务中心", "社区卫生服务中心", "20", "450103",
             "内科；全科医学", "是"],
            [CLINIC, "青秀区韦氏内科诊所", "诊所", "0", "450103", "内科", "是"],
            [HOSPITAL, "南宁市兴宁区人民医院", "二级综合医院", "300", "450102", "内科；全科医学",
             "否"],
            [SPECIAL, "南宁市兴宁区眼科医院", "专科医院", "40", "450102", "内科", "否"],
        ],
    )  # fmt: skip
    assert main(["--db", db_url, "import", "institutions", str(institutions)]) == 0
    last_month = (ON - dt.timedelta(days=30)).isoformat()
    people = [
        [cert(i), f"韦医生{i}", "执业医师", "临床", "内科", "主治医师", "450000", CENTRE,
         "2012-03-01"]
        for i in range(1, 7)
    ]  # fmt: skip
    people += [
        [cert(7), "黄助理", "执业助理医师", "临床", "内科", "住院医师", "450103", CLINIC, last_month],
        [cert(8), "覃医生", "执业医师", "临床", "内科", "主治医师", "450000", CLINIC, last_month],
    ]  # fmt: skip
    physicians = write(
        tmp_path / "医师.csv",
        PHYSICIANS,
        people,
    )  # fmt: skip
    assert main(["--db", db_url, "import", "physicians", str(physicians)]) == 0
    contracts = write(
        tmp_path / "合同.csv",
        ["合同编号", "执业证书编码", "机构代码", "执业类型", "科室", "起始日期", "终止日期",
         "排班", "约定周工时"],
        [
            [f"GX-{i}", cert(i), CENTRE if i <= 6 else CLINIC, "主要", "内科",
             (ON - dt.timedelta(days=20)).isoformat(), (ON + dt.timedelta(days=700)).isoformat(),
             "周一至周五 08:00-16:00", "40"]
            for i in range(1, 9)
        ],
    )  # fmt: skip
    assert main(["--db", db_url, "import", "contracts", str(contracts)]) == 0


BUILD_REGISTRY = guangxi_centre


@pytest.fixture
def guangxi(built_registry_url: str) -> str:
    """The centre's registry (``BUILD_REGISTRY``), a copy for each test."""
    return built_registry_url


def base_json(db_url: str, capsys: pytest.CaptureFixture[str], institution: str) -> dict:
    assert main(["--db", db_url, "base", "--institution", institution, "--json"]) == 0
    (document,) = json.loads(capsys.readouterr().out)
    return document


def test_a_centre_with_six_internists_and_no_gp_is_short(guangxi, capsys):
    centre = base_json(guangxi, capsys, CENTRE)
    assert (centre["required"], centre["counted"], centre["status"]) == (6, 0.0, "short")
    assert len(centre["contributors"]) == 6  # shown, not counted
    assert {(c["counted"], c["not_counted"]) for c in centre["contributors"]} == {
        (False, "general_practitioners")
    }
    assert main(["--db", guangxi, "base", "--institution", CENTRE]) == 0
    assert "not a general practitioner" in capsys.readouterr().out


def test_general_practitioners_count_toward_the_centre(guangxi, tmp_path, capsys):
    rows = [
        [cert(i), f"韦医生{i}", "执业医师", "临床", "内科；全科医学", "主治医师", "450000", CENTRE,
         "2012-03-01"]
        for i in range(1, 7)
    ]  # fmt: skip
    again = write(
        tmp_path / "医师-全科.csv",
        PHYSICIANS,
        rows,
    )  # fmt: skip
    assert main(["--db", guangxi, "import", "physicians", str(again)]) == 0
    capsys.readouterr()
    centre = base_json(guangxi, capsys, CENTRE)
    assert (centre["counted"], centre["title_short"]) == (6.0, ["副主任医师"])
    assert all(c["counted"] for c in centre["contributors"])
    # the stored region-wide report says the same as the fresh one
    assert main(["--db", guangxi, "base", "--json"]) == 0
    stored = {d["institution"]: d for d in json.loads(capsys.readouterr().out)}
    assert stored[CENTRE]["counted"] == 6.0


def test_a_clinic_counts_only_an_practising_physician_of_five_years(guangxi, tmp_path, capsys):
    clinic = base_json(guangxi, capsys, CLINIC)
    # 黄助理 is an 执业助理医师, 覃医生 registered last month: both shown, neither counted
    assert (clinic["required"], clinic["counted"], clinic["status"]) == (1, 0.0, "short")
    assert sorted(c["not_counted"] for c in clinic["contributors"]) == [
        "practising_physicians",
        "practising_physicians",
    ]
    # the office's file says when 覃医生 began to practise (执业起始日期): long before
    import_start_of_practice(guangxi, tmp_path)
    capsys.readouterr()
    clinic = base_json(guangxi, capsys, CLINIC)
    assert (clinic["counted"], clinic["status"]) == (1.0, "meets")
    assert main(["--db", guangxi, "physician", "show", cert(7), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["counts_toward_minimum"] == [
        {"institution": CLINIC, "name": "青秀区韦氏内科诊所", "kind": "诊所", "counted": False,
         "not_counted": "practising_physicians"}
    ]  # fmt: skip


def import_start_of_practice(db_url: str, folder: Path) -> None:
    """覃医生 (registered last month) again, with the 执业起始日期 column: 2014-09-01."""
    since = write(
        folder / "医师-执业起始.csv",
        [*PHYSICIANS, "执业起始日期"],
        [[cert(8), "覃医生", "执业医师", "临床", "内科", "主治医师", "450000", CLINIC,
          (ON - dt.timedelta(days=30)).isoformat(), "2014-09-01"]],
    )  # fmt: skip
    assert main(["--db", db_url, "import", "physicians", str(since)]) == 0


def Registry_for(db_url: str) -> Registry:
    from multisite.storage import Database

    return Registry(Database(db_url), clerk="测试员")


def test_institution_show_gives_the_base_the_next_validation_and_the_apply_by_day(guangxi, capsys):
    assert main(["--db", guangxi, "institution", "show", SPECIAL, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["validation"]
    assert shown["next_validation"] == dt.date(ON.year, 12, 31).isoformat()  # no licence date
    assert shown["apply_by"] == dt.date(ON.year, 9, 30).isoformat()
    assert main(["--db", guangxi, "institution", "show", CENTRE]) == 0
    out = capsys.readouterr().out
    assert "apply by" in out and "not a general practitioner" in out


def test_the_cycle_runs_by_kind_with_beds_as_the_fallback():
    licensed = dt.date(2020, 6, 15)
    on = dt.date(2026, 6, 16)
    special, centre = shipped().kind("专科医院"), shipped().kind("社区卫生服务中心")
    assert next_validation(licensed, 40, on, special) == dt.date(2029, 6, 15)  # 3 years, 40 beds
    assert next_validation(licensed, 300, on, centre) == dt.date(2027, 6, 15)  # yearly kind
    general = shipped().kind("二级综合医院")
    assert next_validation(licensed, 300, on, general) == dt.date(2029, 6, 15)  # ≥100 beds
    assert next_validation(licensed, 99, on, general) == dt.date(2027, 6, 15)
    assert next_validation(licensed, 99, on, Kind("某新类别")) == dt.date(2027, 6, 15)
    assert apply_by(dt.date(2027, 6, 15)) == dt.date(2027, 3, 15)
    assert apply_by(dt.date(2027, 5, 31)) == dt.date(2027, 2, 28)
    assert apply_by(dt.date(2027, 2, 10)) == dt.date(2026, 11, 10)


def test_the_licence_date_sets_the_cycle_and_the_report_follows_it(guangxi, tmp_path, capsys):
    # 登记日期 two years and a day ago: a 专科医院 (every 3 years) is due in a year less a day
    licensed = dt.date(ON.year - 2, ON.month, min(ON.day, 28)) - dt.timedelta(days=1)
    again = write(
        tmp_path / "机构-登记日期.csv",
        ["机构代码", "机构名称", "机构类别", "床位数", "行政区划代码", "诊疗科目", "登记日期"],
        [
            [
                SPECIAL,
                "南宁市兴宁区眼科医院",
                "专科医院",
                "40",
                "450102",
                "内科",
                licensed.isoformat(),
            ]
        ],
    )
    assert main(["--db", guangxi, "import", "institutions", str(again)]) == 0
    capsys.readouterr()
    special = base_json(guangxi, capsys, SPECIAL)
    expected = licensed.replace(year=licensed.year + 3)
    assert special["next_validation"] == expected.isoformat()
    assert special["apply_by"] == apply_by(expected).isoformat()


def test_a_kind_a_province_adds_can_be_filed_there_and_nowhere_else(guangxi, tmp_path, capsys):
    header = ["机构代码", "机构名称", "机构类别", "床位数", "行政区划代码", "诊疗科目"]
    zhuang = [code("450102", "45000009X"), "南宁市壮医医院", "壮医医院", "80", "450102", "中医"]
    sichuan = [code("510104", "51000009X"), "成都市某壮医医院", "壮医医院", "80", "510104", "中医"]
    path = write(tmp_path / "壮医医院.csv", header, [zhuang])
    assert main(["--db", guangxi, "import", "institutions", str(path)]) == 1  # not a kind yet
    assert main(["--db", guangxi, "vocabulary", "add", "450000", "kinds", "壮医医院"]) == 0
    assert main(["--db", guangxi, "import", "institutions", str(path)]) == 0
    report = tmp_path / "报告.csv"
    elsewhere = write(tmp_path / "四川.csv", header, [sichuan])
    assert (
        main(["--db", guangxi, "import", "institutions", str(elsewhere), "--report", str(report)])
        == 1
    )
    with report.open(encoding="utf-8-sig") as handle:
        (problem,) = list(csv.DictReader(handle))
    assert (
        problem["column"] == "机构类别" and "壮医医院" in problem["message"]
    )  # as the file names it


def test_guangxi_licenses_zhuang_medicine_and_a_county_physician_holds_three_scopes(
    db_url, tmp_path, capsys
):
    start(db_url)
    write(
        tmp_path / "机构.csv",
        ["机构代码", "机构名称", "机构类别", "床位数", "行政区划代码", "诊疗科目", "基层"],
        [[HOSPITAL, "南宁市兴宁区人民医院", "二级综合医院", "300", "450102", "中医；内科", "否"],
         [CLINIC, "青秀区护理院", "护理院", "60", "450103", "内科", "否"]],
    )  # fmt: skip
    assert main(["--db", db_url, "import", "institutions", str(tmp_path / "机构.csv")]) == 0
    header = PHYSICIANS
    zhuang = write(
        tmp_path / "壮医.csv",
        header,
        [[cert(1), "蓝医生", "执业医师", "中医", "壮医", "主治医师", "450000", HOSPITAL,
          "2015-01-01"]],
    )  # fmt: skip
    assert main(["--db", db_url, "import", "physicians", str(zhuang)]) == 0
    five = write(
        tmp_path / "五个范围.csv",
        header,
        [[cert(2), "农助理", "执业助理医师", "临床", "内科；外科；儿科；妇产科；全科医学",
          "住院医师", "450102", HOSPITAL, "2020-01-01"]],
    )  # fmt: skip
    report = tmp_path / "报告.csv"
    assert main(["--db", db_url, "import", "physicians", str(five), "--report", str(report)]) == 1
    with report.open(encoding="utf-8-sig") as handle:
        (problem,) = list(csv.DictReader(handle))
    assert "at most 3 scopes" in problem["message"]
    three = write(
        tmp_path / "三个范围.csv",
        header,
        [[cert(2), "农助理", "执业助理医师", "临床", "内科；儿科；全科医学", "住院医师", "450102",
          HOSPITAL, "2020-01-01"]],
    )  # fmt: skip
    assert main(["--db", db_url, "import", "physicians", str(three)]) == 0


def test_a_region_edits_its_vocabulary_through_the_service_audited(registry: Registry):
    for credit, county in ((HOSPITAL, "450102"), (code("510104", "51000001X"), "510104")):
        registry.file_institution(InstitutionInput(credit, "某医院", "二级综合医院", county, 120))
    assert "瑶医" not in registry.vocabulary("450000").scopes["中医"]
    registry.change_vocabulary("450000", "scopes.中医", "瑶医")
    assert "瑶医" in registry.vocabulary("450102").scopes["中医"]  # a county of the province
    assert "瑶医" not in registry.vocabulary("510104").scopes["中医"]  # not another province
    registry.change_vocabulary("450000", "scopes.中医", "壮医", remove=True)
    assert "壮医" not in registry.vocabulary("450000").scopes["中医"]
    [removed, added] = [e for e in registry.audit_log() if e.entity == "vocabulary"]  # newest first
    assert (added.action, added.after) == ("add", {"value": "瑶医"})
    assert (removed.action, removed.before) == ("remove", {"value": "壮医"})
    for bad in (
        ("450000", "scopes.中医", "瑶医", False),  # already there
        ("450000", "scopes.西医", "某", False),  # no such list
        ("450000", "kinds", "", False),
        ("990000", "kinds", "某院", False),  # unknown region
        ("450000", "kinds", "火星医院", True),  # not in the list
    ):
        with pytest.raises(ServiceError):
            registry.change_vocabulary(bad[0], bad[1], bad[2], remove=bad[3])
    assert len([e for e in registry.audit_log() if e.entity == "vocabulary"]) == 2


def test_the_eligibility_gate_reads_the_start_of_practice(guangxi, tmp_path, capsys):
    registry = Registry_for(guangxi)
    registry.set_policy("450000", {"eligibility_gate": True})
    # 韦医生1 (主治医师, registered 2012 by the import, no start of practice in the file)
    # takes an additional site at the hospital: five years of registered practice are on file

    result = registry.save_agreement(
        AgreementInput("GX-A1", cert(1), HOSPITAL, "additional", "内科",
                       ON, ON + dt.timedelta(days=90), parse_sessions("SA 08:00-12:00"), 4, True)
    )  # fmt: skip
    assert "ELIGIBILITY" not in {v.code for v in result.warnings}
    # 覃医生 registered last month with no earlier start on record: not yet eligible
    with pytest.raises(RefusedError) as refused:
        registry.save_agreement(
            AgreementInput("GX-A2", cert(8), HOSPITAL, "additional", "内科",
                           ON, ON + dt.timedelta(days=90), parse_sessions("SU 08:00-12:00"), 4, True)
        )  # fmt: skip
    errors = [v.code for v in refused.value.violations if v.severity == "error"]
    assert errors == ["ELIGIBILITY"]
    # the office's file gives 覃医生's start of practice (执业起始日期): now eligible
    import_start_of_practice(guangxi, tmp_path)
    registry.save_agreement(
        AgreementInput("GX-A2", cert(8), HOSPITAL, "additional", "内科",
                       ON, ON + dt.timedelta(days=90), parse_sessions("SU 08:00-12:00"), 4, True)
    )  # fmt: skip


def test_a_province_adds_a_scope_on_the_command_line_and_its_files_may_use_it(
    guangxi, tmp_path, capsys
):
    header = PHYSICIANS
    yao = write(
        tmp_path / "瑶医.csv",
        header,
        [[cert(9), "盘医生", "执业医师", "中医", "瑶医", "主治医师", "450000", HOSPITAL,
          "2016-01-01"]],
    )  # fmt: skip
    assert main(["--db", guangxi, "import", "physicians", str(yao)]) == 1  # not licensed yet
    assert main(["--db", guangxi, "vocabulary", "add", "450000", "scopes.中医", "瑶医"]) == 0
    assert main(["--db", guangxi, "import", "physicians", str(yao)]) == 0
    capsys.readouterr()
    assert main(["--db", guangxi, "vocabulary", "show", "--region", "450102", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert "瑶医" in shown["scopes"]["中医"] and "壮医" in shown["scopes"]["中医"]
    assert shown["county_scope_limit"] == 3
    kinds = {k["kind"]: k for k in shown["kinds"]}
    assert kinds["专科医院"]["validation_years"] == 3
    assert kinds["社区卫生服务中心"]["counts"] == "general_practitioners"
    assert kinds["护理院"]["confirmed"] is False
    assert main(["--db", guangxi, "vocabulary", "add", "450000", "scopes.中医", "瑶医"]) == 2
    assert "already" in capsys.readouterr().err
    assert main(["--db", guangxi, "--lang", "zh", "vocabulary", "show"]) == 0
    assert "按床位" in capsys.readouterr().out


def test_grassroots_hours_count_the_days_that_have_passed_and_plan_the_rest(guangxi, capsys):
    assert main(["--db", guangxi, "physician", "show", cert(1), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    # the day the command counted to: the suite may cross midnight after the office was filed
    today = dt.date.today()
    start, end = ON - dt.timedelta(days=20), ON + dt.timedelta(days=700)

    def weekdays(first: dt.date, last: dt.date) -> int:
        return sum(
            1 for n in range((last - first).days + 1)
            if (first + dt.timedelta(days=n)).weekday() < 5
        )  # fmt: skip

    year_end = dt.date(today.year, 12, 31)
    served = {str(today.year): 8.0 * weekdays(start, today)}
    if start.year < today.year:  # the agreement began last year
        served = {str(start.year): 8.0 * weekdays(start, dt.date(start.year, 12, 31)),
                  str(today.year): 8.0 * weekdays(dt.date(today.year, 1, 1), today)}  # fmt: skip
    assert shown["grassroots_hours"] == {k: v for k, v in served.items() if v}
    planned = shown["grassroots_planned_hours"]
    assert planned.get(str(today.year), 0) == 8.0 * weekdays(today + dt.timedelta(days=1), year_end)
    assert planned[str(end.year)] == 8.0 * weekdays(dt.date(end.year, 1, 1), end)
    assert str(end.year) not in shown["grassroots_hours"]  # years to come are planned only


@settings(max_examples=300, deadline=None)
@given(
    st.dates(dt.date(2000, 1, 1), dt.date(2060, 12, 31)),
    st.dates(dt.date(1990, 1, 1), dt.date(2060, 12, 31)),
)
@example(dt.date(2025, 2, 28), dt.date(2020, 2, 29))  # five years on from a 29 February
@example(dt.date(2024, 2, 29), dt.date(2019, 2, 28))
@example(dt.date(2024, 2, 29), dt.date(2019, 3, 1))
def test_the_database_counts_the_five_years_as_the_rule_does(on: dt.date, since: dt.date) -> None:
    """The cold report's database count takes an 执业医师 at a 诊所 as counted when their start
    of practice is on or before one day (``_practised_by``); that is exactly when five years
    of practice are complete by the rule (``practising_from``), 29 February included."""
    clinic = Kind("诊所", counts="practising_physicians")
    completed = practising_from(clinic, "执业医师", since)
    assert completed is not None
    assert (since <= _practised_by(on)) == (completed <= on)
