"""A commission's first day: an empty database, then the files its offices send (GB18030 CSV
with Chinese headers), in counties the registry has never seen — and what a migration from an
existing registry carries (status history, practice and licence dates, contract terms)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from sqlalchemy import select

from multisite.cli.main import main
from multisite.domain.identifiers import credit_check_char
from multisite.services import Registry
from multisite.services.imports import run_import
from multisite.storage import Database
from multisite.storage.models import (
    Agreement,
    AuditEntry,
    Institution,
    Physician,
    Region,
    RegistrationEvent,
)

NANNING = ("450102", "450103", "450105", "450107", "450108", "450109", "450110")
INSTITUTION_HEADERS = ["机构代码", "机构名称", "机构类别", "床位数", "行政区划代码", "诊疗科目",
                       "基层", "地址", "登记日期"]  # fmt: skip
PHYSICIAN_HEADERS = ["执业证书编码", "姓名", "医师级别", "执业类别", "执业范围", "职称", "注册地",
                     "主要执业机构", "注册日期", "状态", "状态起始日期", "状态终止日期", "状态原因",
                     "执业起始日期"]  # fmt: skip
CONTRACT_HEADERS = ["合同编号", "执业证书编码", "机构代码", "执业类型", "科室", "起始日期",
                    "终止日期", "排班", "约定周工时", "主要机构同意", "工作任务", "医疗责任",
                    "薪酬", "相关保险", "人事关系"]  # fmt: skip


def credit(county: str, serial: int) -> str:
    first17 = f"12{county}{serial:09d}"
    return first17 + credit_check_char(first17)


HOSPITAL = credit("450103", 1)  # 青秀区
CLINIC = credit("450105", 2)  # 江南区
CENTRE = credit("450107", 3)  # 西乡塘区


def write_gb18030(path: Path, headers: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def institutions_file(tmp_path: Path) -> Path:
    rows = [
        [HOSPITAL, "广西壮族自治区某某人民医院", "三级综合医院", "1200", "450103", "内科；外科",
         "否", "南宁市青秀区某路1号", "2001-07-01"],
        [CLINIC, "江南区黄氏内科诊所", "诊所", "0", "450105", "内科", "是", "", "2019-03-15"],
        [CENTRE, "西乡塘区某街道社区卫生服务中心", "社区卫生服务中心", "30", "450107",
         "全科医学；内科", "是", "", ""],
    ]  # fmt: skip
    rows += [
        [credit(county, 10 + i), f"{county}诊所", "诊所", "0", county, "内科", "是", "", ""]
        for i, county in enumerate(NANNING)
    ]
    return write_gb18030(tmp_path / "机构.csv", INSTITUTION_HEADERS, rows)


def physician(cert: str, name: str, main: str, *status: str, since: str = "") -> list[str]:
    cells = [cert, name, "执业医师", "临床", "内科", "主治医师", "450000", main, "2015-03-01"]
    return cells + [*status, "", "", "", ""][:4] + [since]


WANG, LIU, CHEN = "145000000000001", "145000000000002", "145000000000003"


def physicians_file(tmp_path: Path, *extra: list[str]) -> Path:
    rows = [
        physician(WANG, "王芳", HOSPITAL, "注册", since="2012-09-01"),
        physician(LIU, "刘强", HOSPITAL, "暂停", "2026-03-01", "2026-08-31", "定期考核不合格"),
        physician(CHEN, "陈静", CLINIC, "注销", "2026-06-30", "", "死亡"),
        *extra,
    ]
    return write_gb18030(tmp_path / "医师.csv", PHYSICIAN_HEADERS, rows)


def contract(no: str, cert: str, inst: str, role: str, sessions: str, *terms: str,
             start: str = "2026-01-05", end: str = "2026-12-31") -> list[str]:  # fmt: skip
    return [no, cert, inst, role, "内科", start, end, sessions, "", "是", *terms]


def ready(registry: Registry, tmp_path: Path) -> None:
    assert run_import(registry, "institutions", institutions_file(tmp_path)).committed
    assert run_import(registry, "physicians", physicians_file(tmp_path)).committed


def test_init_then_institutions_in_counties_never_seen_stores_every_row(db_url, tmp_path):
    path = institutions_file(tmp_path)
    assert main(["--db", db_url, "init"]) == 0
    assert main(["--db", db_url, "--clerk", "窗口一", "import", "institutions", str(path)]) == 0
    db = Database(db_url)
    try:
        with db.read() as s:
            assert len(s.scalars(select(Institution)).all()) == 3 + len(NANNING)
            regions = {r.code: r.level for r in s.scalars(select(Region))}
            audited = {
                e.entity_key
                for e in s.scalars(select(AuditEntry).where(AuditEntry.entity == "region"))
            }
            licensed = s.scalar(select(Institution.licensed_on).where(Institution.code == CLINIC))
    finally:
        db.dispose()
    assert regions == {"450000": "province", "450100": "city", **dict.fromkeys(NANNING, "county")}
    assert audited == set(regions)  # every region filed on the way carries its audit row
    assert licensed == dt.date(2019, 3, 15)


def test_a_migration_carries_status_history_and_practice_dates(registry, tmp_path):
    ready(registry, tmp_path)
    with registry.db.read() as s:
        events = {
            (cert, e.status, e.on, e.until, e.reason)
            for cert, e in s.execute(
                select(Physician.cert_no, RegistrationEvent)
                .join(Physician.registrations)
                .join(RegistrationEvent)
                .where(RegistrationEvent.status != "registered")
            )
        }
        since = s.scalar(select(Physician.practising_since).where(Physician.cert_no == WANG))
    assert events == {
        (LIU, "suspended", dt.date(2026, 3, 1), dt.date(2026, 8, 31), "定期考核不合格"),
        (CHEN, "cancelled", dt.date(2026, 6, 30), None, "死亡"),
    }
    assert since == dt.date(2012, 9, 1)
    again = run_import(registry, "physicians", physicians_file(tmp_path))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_registration_applies_to_contracts_over_the_days_a_migrated_status_stops_practice(
    registry, tmp_path
):
    ready(registry, tmp_path)
    path = write_gb18030(
        tmp_path / "合同.csv",
        CONTRACT_HEADERS,
        [
            contract("GX-1", WANG, HOSPITAL, "主要", "MO 08:00-12:00"),
            contract("GX-2", LIU, HOSPITAL, "主要", "TU 08:00-12:00"),  # over the suspension
            contract("GX-3", CHEN, CLINIC, "主要", "WE 08:00-12:00", start="2026-07-01"),
        ],
    )
    report = run_import(registry, "contracts", path, mode="partial")
    found = {(p.row, p.column, p.code) for p in report.problems if p.severity == "error"}
    assert found == {(3, "执业证书编码", "REGISTRATION"), (4, "执业证书编码", "REGISTRATION")}
    assert report.stored == 1


def test_bad_status_and_region_cells_are_one_row_error_each_and_change_nothing(registry, tmp_path):
    ready(registry, tmp_path)
    contracts = write_gb18030(
        tmp_path / "合同.csv",
        CONTRACT_HEADERS,
        [contract("GX-1", WANG, HOSPITAL, "主要", "MO 08:00-12:00", start="2026-09-01")],
    )
    assert run_import(registry, "contracts", contracts).committed
    with registry.db.read() as s:
        audits = len(s.scalars(select(AuditEntry)).all())
    zhao = physician("145000000000004", "赵敏", HOSPITAL, "注册")
    zhao[6] = "45A000"  # not a GB/T 2260 code
    bad = physicians_file(
        tmp_path,
        zhao,
        physician("145000000000005", "孙丽", HOSPITAL, "暂停", "2026-05-01", "2026-04-01", "处罚"),
    )
    rows = list(csv.reader(bad.open(encoding="gb18030")))
    rows[1][9:13] = ["注销", "2026-06-30", "", "调离"]  # 王芳 注销 before GX-1 starts
    write_gb18030(bad, rows[0], rows[1:])
    report = run_import(registry, "physicians", bad)
    found = {(p.row, p.column, p.code) for p in report.problems if p.severity == "error"}
    assert found == {
        (2, "状态", "REGISTRATION"),
        (5, "注册地", "INVALID"),
        (6, "状态终止日期", "INVALID"),
    }
    assert not report.committed and report.rejected == 3
    with registry.db.read() as s:
        assert len(s.scalars(select(AuditEntry)).all()) == audits
        assert s.scalars(select(Physician.status).where(Physician.cert_no == WANG)).one() == (
            "registered"
        )


def test_contract_terms_are_kept_verbatim_and_never_erased_by_a_file_without_them(
    registry, tmp_path
):
    ready(registry, tmp_path)
    terms = ["内科门诊, 每周一次", "由医院承担", "每次800元", "医疗责任保险", "人事关系在本院"]
    path = write_gb18030(
        tmp_path / "合同.csv",
        CONTRACT_HEADERS,
        [contract("GX-1", WANG, HOSPITAL, "主要", "MO 08:00-12:00", *terms)],
    )
    assert run_import(registry, "contracts", path).created == 1
    plain = write_gb18030(
        tmp_path / "合同-无条款.csv",
        CONTRACT_HEADERS[:10],
        [contract("GX-1", WANG, HOSPITAL, "主要", "MO 08:00-11:30")],
    )
    assert run_import(registry, "contracts", plain).updated == 1
    assert run_import(registry, "contracts", plain).unchanged == 1
    with registry.db.read() as s:
        stored = s.scalars(select(Agreement).where(Agreement.contract_no == "GX-1")).one()
        kept = [stored.tasks, stored.liability, stored.pay, stored.insurance, stored.employment]
    assert kept == terms
