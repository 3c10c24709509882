"""An Inner Mongolia region (内蒙古 150000) as its offices send it, for the disclosure tests
(reminders, public pages, inspections): GB18030 CSV files with Chinese headers imported into
an empty database through the command line, then a few clerk's steps (a suspension, a
termination, credit listings).

What falls due from ``ON`` within 30 days is written down here by hand (``DUE``), from the
rules as a clerk reads them — not computed by the product.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .clerk_cli import (
    CONTRACT_HEADERS,
    INSTITUTION_HEADERS,
    PHYSICIAN_HEADERS,
    Cli,
    credit_code,
)

ON = dt.date(2027, 3, 1)

HOSPITAL = credit_code("150102", 201)  # 二级综合医院, 300 beds: validated every 3 years
CLINIC = credit_code("150103", 202)  # 诊所: yearly
CENTRE = credit_code("150104", 203)  # 社区卫生服务中心: yearly
DENTAL = credit_code("150104", 204)  # 口腔诊所 without a licence date
WULAN, BATER, QIQIGE, ZHANG, LI = (f"11515000000000{n}" for n in range(1, 6))

INSTITUTIONS = [
    (HOSPITAL, "呼和浩特市第一医院", "二级综合医院", 300, "150102", "内科；外科；全科医学", "否", "新华大街1号", "2021-06-15"),
    (CLINIC, "回民区张氏内科诊所", "诊所", 0, "150103", "内科", "是", "中山西路8号", "2020-07-10"),
    (CENTRE, "玉泉区小召社区卫生服务中心", "社区卫生服务中心", 30, "150104", "全科医学；内科", "是", "大召前街3号", "2019-06-01"),
    (DENTAL, "玉泉区口腔诊所", "口腔诊所", 0, "150104", "口腔专业", "是", "南二环路5号", ""),
]  # fmt: skip
PHYSICIANS = [
    (WULAN, "乌兰", "执业医师", "临床", "内科", "主治医师", "150000", HOSPITAL, "2015-03-01"),
    (BATER, "巴特尔", "执业医师", "临床", "内科", "副主任医师", "150000", HOSPITAL, "2012-05-01"),
    (QIQIGE, "其其格", "执业医师", "临床", "内科", "主治医师", "150000", HOSPITAL, "2016-07-01"),
    (ZHANG, "张伟", "执业医师", "临床", "内科", "主任医师", "150000", CLINIC, "2010-09-01"),
    (LI, "李娜", "执业医师", "临床", "全科医学", "主治医师", "150000", CENTRE, "2018-01-01"),
]  # fmt: skip
CONTRACTS = [
    ("NM-P-1", WULAN, HOSPITAL, "主要", "内科", "2026-01-01", "2027-03-20", "周一 08:00-12:00", 4, ""),
    ("NM-P-2", BATER, HOSPITAL, "主要", "内科", "2026-01-01", "2028-12-31", "周二 08:00-12:00", 4, ""),
    ("NM-A-2", BATER, CENTRE, "其他", "内科", "2026-01-01", "2027-03-10", "周六 08:00-12:00", 4, "是"),
    ("NM-P-3", QIQIGE, HOSPITAL, "主要", "内科", "2026-01-01", "2028-12-31", "周三 08:00-12:00", 4, ""),
    ("NM-P-4", ZHANG, CLINIC, "主要", "内科", "2026-01-01", "2028-12-31", "周四 08:00-12:00", 4, ""),
    ("NM-P-5", LI, CENTRE, "主要", "全科医学", "2026-01-01", "2027-02-28", "周五 08:00-12:00", 4, ""),
]  # fmt: skip

# (kind, due, reference, physician, institution) of everything due from ON within 30 days
DUE = [
    ("validation_apply", "2027-03-01", "2027-06-01", None, CENTRE),
    ("listing_end", "2027-03-05", "1", ZHANG, None),
    ("contract_end", "2027-03-10", "NM-A-2", BATER, CENTRE),
    ("filing_lapse", "2027-03-10", None, BATER, CENTRE),
    ("validation_apply", "2027-03-15", "2027-06-15", None, HOSPITAL),
    ("contract_end", "2027-03-20", "NM-P-1", WULAN, HOSPITAL),
    ("suspension_end", "2027-03-31", "150000", QIQIGE, HOSPITAL),
]


def inner_mongolia(cli: Cli) -> Cli:
    """``init`` the database (empty or migrated), import the three office files, then: 其其格
    suspended until 2027-03-31, 张伟's contract terminated on 2027-04-01 (the day after the
    window), 张伟 listed until 2027-03-05 and the clinic until 2027-04-30 (after the window)."""
    cli.ok("init")
    cli.load("institutions", (*INSTITUTION_HEADERS, "登记日期"), INSTITUTIONS)
    cli.load("physicians", PHYSICIAN_HEADERS, PHYSICIANS)
    cli.load("contracts", CONTRACT_HEADERS, CONTRACTS)
    cli.ok("physician", "suspend", QIQIGE, "--from", "2027-01-01", "--to", "2027-03-31",
           "--reason", "定期考核不合格")  # fmt: skip
    cli.ok("contract", "terminate", "NM-P-4", "--last-day", "2027-04-01", "--reason", "退休")
    cli.ok("credit", "add", "physician", ZHANG, "--from", "2026-06-01", "--to", "2027-03-05",
           "--reason", "违规开具处方", "--authority", "呼和浩特市卫生健康委员会",
           "--decision", "呼卫监〔2026〕3号")  # fmt: skip
    cli.ok("credit", "add", "institution", CLINIC, "--from", "2026-06-01", "--to", "2027-04-30",
           "--reason", "超范围执业", "--authority", "呼和浩特市卫生健康委员会")  # fmt: skip
    return cli


def inner_mongolia_office(url: str, folder: Path) -> None:
    """``inner_mongolia`` as a module's ``BUILD_REGISTRY`` (see conftest): built once per test
    worker and engine, copied for each test."""
    inner_mongolia(Cli(url, None, folder))
