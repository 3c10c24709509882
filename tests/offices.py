"""The files a commission's offices send, for a region that is not the demo's — a generator
for tests that start from an empty database.

    office = make_office()                  # 四川省: 24 counties of 成都市 and 绵阳市
    paths = office.write(tmp_path)          # {"institutions": …csv, "physicians": …xlsx, …}
    office.expected["contracts"]            # row → the codes the registry must refuse it with

Institutions of every kind, one or two per county; physicians (执业医师 registered for the
province, a few 执业助理医师 for their county) with 注册, 暂停 and 注销; contracts whose rows
conflict with each other (the later row must be refused) and, in ``contracts_more``, with
contracts stored by the first file. Files are GB18030 CSV with Chinese headers (what Excel in
China writes) or .xlsx with text cells. Every row is built here from the rules as a clerk
reads them, not from the product's code, so the expected refusals are an independent oracle.
``inputs(kind)`` gives the same rows as the service's typed inputs, for comparing the import
with the service's own writes.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from multisite.domain.identifiers import credit_check_char
from multisite.domain.inputs import AgreementInput, InstitutionInput, PhysicianInput
from multisite.domain.sessions_text import parse_sessions

PROVINCE = "510000"  # 四川省
COUNTIES = (
    # 成都市
    "510104", "510105", "510106", "510107", "510108", "510112", "510113", "510114", "510115",
    "510116", "510117", "510118", "510121", "510129", "510131", "510181", "510182", "510183",
    "510184", "510185",
    # 绵阳市
    "510703", "510704", "510722", "510781",
)  # fmt: skip

# SPEC §7's Chinese headers, in the order the files carry them.
HEADERS = {
    "institutions": ["机构代码", "机构名称", "机构类别", "床位数", "行政区划代码", "诊疗科目",
                     "基层", "地址", "登记日期"],
    "physicians": ["执业证书编码", "姓名", "医师级别", "执业类别", "执业范围", "职称", "注册地",
                   "主要执业机构", "注册日期", "状态", "状态起始日期", "状态终止日期", "状态原因",
                   "执业起始日期"],
    "contracts": ["合同编号", "执业证书编码", "机构代码", "执业类型", "科室", "起始日期",
                  "终止日期", "排班", "约定周工时", "主要机构同意", "工作任务", "医疗责任", "薪酬",
                  "相关保险", "人事关系"],
}  # fmt: skip

# kind → (beds, grassroots, departments)
KINDS = {
    "诊所": (0, True, ["内科"]),
    "口腔诊所": (0, True, ["口腔专业"]),
    "中医诊所": (0, True, ["中医"]),
    "综合门诊部": (0, False, ["内科", "外科", "全科医学"]),
    "中医门诊部": (0, False, ["中医", "内科"]),
    "一级综合医院": (40, True, ["内科", "外科", "全科医学"]),
    "二级综合医院": (300, False, ["内科", "外科", "儿科", "口腔专业", "中医"]),
    "三级综合医院": (1200, False, ["内科", "外科", "儿科", "口腔专业", "中医"]),
    "专科医院": (150, False, ["儿科", "内科"]),
    "社区卫生服务中心": (30, True, ["全科医学", "内科", "中医"]),
    "社区医院": (60, True, ["全科医学", "内科"]),
    "乡镇卫生院": (20, True, ["全科医学", "内科", "中医"]),
}
SCOPE_CATEGORY = {"内科": "临床", "外科": "临床", "儿科": "临床", "全科医学": "临床",
                  "中医": "中医", "口腔专业": "口腔"}  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"

YEAR_START, YEAR_END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
SUSPENDED = (dt.date(2026, 3, 1), dt.date(2026, 5, 31))
CANCELLED_ON = dt.date(2026, 7, 1)
TERMS = ["门诊诊疗", "由执业机构承担", "按次结算", "医疗责任保险", "人事关系在主要执业机构"]


def credit_code(county: str, serial: int) -> str:
    first17 = f"12{county}{serial:09d}"
    return first17 + credit_check_char(first17)


@dataclass
class Office:
    """The rows of an office's three files (cells as text, keyed by header), and what the
    registry must do with them."""

    institutions: list[dict[str, str]] = field(default_factory=list)
    physicians: list[dict[str, str]] = field(default_factory=list)
    contracts: list[dict[str, str]] = field(default_factory=list)
    contracts_more: list[dict[str, str]] = field(default_factory=list)
    # file → spreadsheet row (header = 1) → codes of which the refusal must name one
    expected: dict[str, dict[int, set[str]]] = field(default_factory=dict)

    def rows(self, kind: str) -> list[dict[str, str]]:
        return {
            "institutions": self.institutions,
            "physicians": self.physicians,
            "contracts": self.contracts,
            "contracts_more": self.contracts_more,
        }[kind]

    def write(self, folder: Path, formats: dict[str, str] | None = None) -> dict[str, Path]:
        """Write the four files (``csv`` GB18030 or ``xlsx``; by default institutions and
        contracts as CSV, physicians and the second contracts file as .xlsx)."""
        chosen = {"institutions": "csv", "physicians": "xlsx", "contracts": "csv",
                  "contracts_more": "xlsx", **(formats or {})}  # fmt: skip
        paths = {}
        for kind, fmt in chosen.items():
            headers = HEADERS["contracts" if kind == "contracts_more" else kind]
            path = folder / f"{kind}.{fmt}"
            cells = [[row.get(h, "") for h in headers] for row in self.rows(kind)]
            (write_csv if fmt == "csv" else write_xlsx)(path, headers, cells)
            paths[kind] = path
        return paths

    def inputs(self, kind: str) -> list[tuple[int, object]]:
        """The rows of ``kind`` as the service's inputs, numbered as the spreadsheet numbers
        them (built here, not by the import's reader)."""
        make = {"institutions": _institution, "physicians": _physician}.get(kind, _agreement)
        return [(number, make(row)) for number, row in enumerate(self.rows(kind), start=2)]


def write_csv(path: Path, headers: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)


def write_xlsx(path: Path, headers: list[str], rows: list[list[str]]) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            cell.number_format = "@"  # text: certificate numbers keep all 15 digits
    workbook.save(path)


def make_office(physicians: int = 40, seed: int = 3) -> Office:
    rng = random.Random(seed)
    office = Office()
    kinds = list(KINDS)
    hosts: dict[str, list[str]] = {}  # scope → institution codes offering it
    counties_of: dict[str, str] = {}
    for i, county in enumerate(COUNTIES):
        for j in range(1 + (i % 2)):  # one or two per county; every kind at least twice
            kind = kinds[(2 * i + j) % len(kinds)]
            beds, grassroots, departments = KINDS[kind]
            code = credit_code(county, 100 * i + j + 1)
            office.institutions.append({
                "机构代码": code, "机构名称": f"{county}{kind}{j + 1}号", "机构类别": kind,
                "床位数": str(beds), "行政区划代码": county, "诊疗科目": "；".join(departments),
                "基层": "是" if grassroots else "否", "地址": f"四川省某路{i + 1}号",
                "登记日期": f"20{10 + i % 10}-0{1 + j}-15",
            })  # fmt: skip
            counties_of[code] = county
            for scope in departments:
                hosts.setdefault(scope, []).append(code)
    office.expected = {"contracts": {}, "contracts_more": {}, "physicians": {}}
    serial = 0
    for n in range(physicians):
        scope = rng.choice(["内科", "内科", "外科", "全科医学", "儿科", "中医", "口腔专业"])
        main = rng.choice(hosts[scope])
        assistant = n % 11 == 5 and KINDS[_kind(office, main)][1]
        status = "暂停" if n % 10 == 3 else "注销" if n % 10 == 7 else "注册"
        cert = f"{2 if assistant else 1}51{n:012d}"
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        row = {
            "执业证书编码": cert, "姓名": name,
            "医师级别": "执业助理医师" if assistant else "执业医师",
            "执业类别": SCOPE_CATEGORY[scope], "执业范围": scope,
            "职称": "住院医师" if assistant else rng.choice(["主治医师", "副主任医师", "主任医师"]),
            "注册地": counties_of[main] if assistant else PROVINCE, "主要执业机构": main,
            "注册日期": "2015-03-01", "状态": status, "执业起始日期": "2012-09-01",
        }  # fmt: skip
        if status == "暂停":
            row.update({"状态起始日期": SUSPENDED[0].isoformat(),
                        "状态终止日期": SUSPENDED[1].isoformat(), "状态原因": "定期考核不合格"})  # fmt: skip
        elif status == "注销":
            row.update({"状态起始日期": CANCELLED_ON.isoformat(), "状态原因": "调离"})
        office.physicians.append(row)
        serial = _contracts(office, rng, n, row, scope, hosts, counties_of, serial)
    return office


def _kind(office: Office, code: str) -> str:
    return next(i["机构类别"] for i in office.institutions if i["机构代码"] == code)


def _contracts(
    office: Office,
    rng: random.Random,
    n: int,
    physician: dict[str, str],
    scope: str,
    hosts: dict[str, list[str]],
    counties_of: dict[str, str],
    serial: int,
) -> int:
    """One physician's contracts: a primary at the main institution and, for some, further
    institutions; rows the registry must refuse are recorded with the codes that say why."""
    cert, main, status = physician["执业证书编码"], physician["主要执业机构"], physician["状态"]
    assistant = physician["医师级别"] == "执业助理医师"
    start, end = YEAR_START, YEAR_END
    if status == "暂停":
        start = SUSPENDED[1] + dt.timedelta(days=1)  # after the suspension
    elif status == "注销":
        end = CANCELLED_ON - dt.timedelta(days=1)  # before the cancellation
    others = [c for c in hosts[scope] if c != main
              and (not assistant or counties_of[c] == counties_of[main])]  # fmt: skip
    serial += 1
    office.contracts.append(_contract(serial, cert, main, "主要", scope, start, end,
                                      "周一至周五 08:00-12:00", "20", terms=True))  # fmt: skip
    if others and n % 3 == 0:  # a Saturday clinic elsewhere
        serial += 1
        office.contracts.append(
            _contract(serial, cert, rng.choice(others), "其他", scope, start, end,
                      "SA 08:30-12:00", "3.5")
        )  # fmt: skip
    if others and n % 7 == 2:  # a Monday clinic overlapping the primary: the later row goes
        serial += 1
        office.contracts.append(
            _contract(serial, cert, rng.choice(others), "其他", scope, start, end,
                      "MO 10:00-12:00", "2")
        )  # fmt: skip
        office.expected["contracts"][len(office.contracts) + 1] = {"OVERLAP"}
    if status == "暂停":  # a contract over the suspension
        serial += 1
        office.contracts.append(_contract(serial, cert, main, "主要", scope, YEAR_START,
                                          SUSPENDED[1], "SU 08:00-12:00", "4"))  # fmt: skip
        office.expected["contracts"][len(office.contracts) + 1] = {"REGISTRATION"}
    if status == "注销":  # a contract starting after the cancellation
        serial += 1
        office.contracts.append(_contract(serial, cert, main, "主要", scope, dt.date(2026, 8, 1),
                                          YEAR_END, "SU 08:00-12:00", "4"))  # fmt: skip
        office.expected["contracts"][len(office.contracts) + 1] = {"REGISTRATION"}
    if others and n % 5 == 1 and status == "注册":  # the second file: against stored ones
        serial += 1
        office.contracts_more.append(
            _contract(serial, cert, rng.choice(others), "其他", scope, start, end,
                      "TU 09:00-11:00", "2")
        )  # fmt: skip
        office.expected["contracts_more"][len(office.contracts_more) + 1] = {"OVERLAP"}
        serial += 1
        office.contracts_more.append(
            _contract(serial, cert, rng.choice(others), "其他", scope, start, end,
                      "SU 14:00-17:00", "3")
        )  # fmt: skip
    return serial


def _contract(serial: int, cert: str, code: str, role: str, scope: str, start: dt.date,
              end: dt.date, sessions: str, hours: str, *, terms: bool = False) -> dict[str, str]:  # fmt: skip
    row = {
        "合同编号": f"SC2026-{serial:05d}", "执业证书编码": cert, "机构代码": code,
        "执业类型": role, "科室": scope, "起始日期": start.isoformat(),
        "终止日期": end.isoformat(), "排班": sessions, "约定周工时": hours,
        "主要机构同意": "是",
    }  # fmt: skip
    if terms:
        row.update(zip(HEADERS["contracts"][10:], TERMS, strict=True))
    return row


# --- the same rows as the service's inputs (no import code involved) --------------------------


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _institution(row: dict[str, str]) -> InstitutionInput:
    return InstitutionInput(
        row["机构代码"], row["机构名称"], row["机构类别"], row["行政区划代码"], int(row["床位数"]),
        row["诊疗科目"].split("；"), row["基层"] == "是", row["地址"],
        licensed_on=_date(row["登记日期"]),
    )  # fmt: skip


STATUS = {"注册": "registered", "暂停": "suspended", "注销": "cancelled"}


def _physician(row: dict[str, str]) -> PhysicianInput:
    registered = _date(row["注册日期"])
    assert registered is not None
    return PhysicianInput(
        row["执业证书编码"], row["姓名"], row["医师级别"], row["执业类别"], [row["执业范围"]],
        row["职称"], row["注册地"], row["主要执业机构"], registered, STATUS[row["状态"]],
        practising_since=_date(row["执业起始日期"]), status_from=_date(row.get("状态起始日期", "")),
        status_to=_date(row.get("状态终止日期", "")), status_reason=row.get("状态原因", ""),
    )  # fmt: skip


def _agreement(row: dict[str, str]) -> AgreementInput:
    start, end = _date(row["起始日期"]), _date(row["终止日期"])
    assert start is not None and end is not None
    terms = [row.get(h) or None for h in HEADERS["contracts"][10:]]
    return AgreementInput(
        row["合同编号"], row["执业证书编码"], row["机构代码"],
        "primary" if row["执业类型"] == "主要" else "additional", row["科室"], start, end,
        tuple(parse_sessions(row["排班"])), float(row["约定周工时"]), row["主要机构同意"] == "是",
        tasks=terms[0], liability=terms[1], pay=terms[2], insurance=terms[3],
        employment=terms[4],
    )  # fmt: skip


def certificates(office: Office, status: str = "注册") -> Iterator[str]:
    return (p["执业证书编码"] for p in office.physicians if p["状态"] == status)
