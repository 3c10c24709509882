"""A Guangxi office (南宁市兴宁区, 450102) as it starts: an empty registry fed the GB18030 CSV
files with Chinese headers that its HR offices send, through the import (the service path)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select

from multisite.services import Registry
from multisite.services.imports import run_import

from .factories import credit

HOSPITAL = credit("450102", "47100001X")  # 二级综合医院
CLINIC = credit("450102", "47100002X")  # 诊所
DOCTORS = [f"1104500000000{n:02d}" for n in range(1, 11)]  # 15-digit 执业证书编码

INSTITUTION_HEADERS = [
    "机构代码",
    "机构名称",
    "机构类别",
    "床位数",
    "行政区划代码",
    "诊疗科目",
    "基层",
    "地址",
]
PHYSICIAN_HEADERS = ["执业证书编码", "姓名", "医师级别", "执业类别", "执业范围", "职称", "注册地", "主要执业机构", "注册日期"]  # fmt: skip
CONTRACT_HEADERS = ["合同编号", "执业证书编码", "机构代码", "执业类型", "科室", "起始日期", "终止日期", "排班", "约定周工时"]  # fmt: skip


def count(registry: Registry, model: type) -> int:
    """How many rows of ``model`` the registry holds."""
    with registry.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def write_csv(path: Path, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def contract(number: str, doctor: str, sessions: str = "周一 08:00-12:00", **cells: str) -> dict:
    """A primary contract at the hospital, as a JSON-lines object with Chinese keys."""
    row = dict(
        zip(
            CONTRACT_HEADERS,
            [number, doctor, HOSPITAL, "主要", "内科", "2026-01-05", "2026-12-31", sessions, "4"],
            strict=True,
        )
    )
    row.update(cells)
    return row


def write_jsonl(path: Path, lines: Sequence[dict | str]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False))
            handle.write("\n")
    return path


def open_office(registry: Registry, folder: Path, doctors: int = 3) -> None:
    """File the hospital, the clinic and ``doctors`` physicians from the office's CSV files."""
    institutions = write_csv(
        folder / "机构.csv",
        INSTITUTION_HEADERS,
        [
            [
                HOSPITAL,
                "南宁市兴宁区第一人民医院",
                "二级综合医院",
                "300",
                "450102",
                "内科；外科",
                "否",
                "民主路1号",
            ],
            [CLINIC, "兴宁区李氏内科诊所", "诊所", "0", "450102", "内科", "是", "朝阳路2号"],
        ],
    )
    physicians = write_csv(
        folder / "医师.csv",
        PHYSICIAN_HEADERS,
        [
            [
                cert,
                f"韦医生{n}",
                "执业医师",
                "临床",
                "内科",
                "主治医师",
                "450000",
                HOSPITAL,
                "2020-03-01",
            ]
            for n, cert in enumerate(DOCTORS[:doctors], start=1)
        ],
    )
    for kind, path in (("institutions", institutions), ("physicians", physicians)):
        report = run_import(registry, kind, path)
        assert report.committed and not report.rejected, report.problems
