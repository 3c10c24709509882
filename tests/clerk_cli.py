"""What an office sends and how a clerk's script drives the registry (the workflows tests): GB18030
Chinese headers, and the ``multisite`` command line run in this process.

Tests of the daily workflows build their data with these from an empty database, in regions
that are not the demo's (Guangxi 45xxxx, Inner Mongolia 15xxxx, Sichuan 51xxxx).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from multisite.cli.main import main
from multisite.domain.identifiers import credit_check_char

INSTITUTION_HEADERS = (
    "机构代码",
    "机构名称",
    "机构类别",
    "床位数",
    "行政区划代码",
    "诊疗科目",
    "基层",
    "地址",
)
PHYSICIAN_HEADERS = (
    "执业证书编码", "姓名", "医师级别", "执业类别", "执业范围", "职称", "注册地", "主要执业机构",
    "注册日期",
)  # fmt: skip
CONTRACT_HEADERS = (
    "合同编号", "执业证书编码", "机构代码", "执业类型", "科室", "起始日期", "终止日期", "排班",
    "约定周工时", "主要机构同意",
)  # fmt: skip


def credit_code(county: str, serial: int) -> str:
    """A valid 统一社会信用代码 of a public institution (12…) in ``county``."""
    first = f"12{county}{serial:08d}X"
    return first + credit_check_char(first)


def write_csv(path: Path, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    """A CSV as Excel in China saves it: GB18030, Chinese headers."""
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(["" if v is None else str(v) for v in row])
    return path


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """``multisite --db URL --lang en …`` in this process (the same ``main`` the console
    script runs), its exit code and output captured (by ``capsys`` in a test; without it, as a
    module's ``BUILD_REGISTRY`` runs, by redirecting ``sys.stdout`` and ``sys.stderr``)."""

    def __init__(
        self, db_url: str, capsys: pytest.CaptureFixture[str] | None, folder: Path
    ) -> None:
        self.db_url = db_url
        self.capsys = capsys
        self.folder = folder

    def __call__(self, *args: str, lang: str = "en") -> Outcome:
        argv = ["--db", self.db_url, "--lang", lang, "--clerk", "窗口一", *map(str, args)]
        if self.capsys is None:
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(argv)
            return Outcome(code, out.getvalue(), err.getvalue())
        self.capsys.readouterr()
        code = main(argv)
        captured = self.capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    def ok(self, *args: str) -> Outcome:
        result = self(*args)
        assert result.code == 0, (args, result.err or result.out)
        return result

    def refused(self, *args: str) -> str:
        """A bad request: exit 2 and one sentence on stderr; returns the sentence."""
        result = self(*args)
        assert result.code == 2, (args, result.code, result.out, result.err)
        assert "Traceback" not in result.err
        lines = result.err.strip().splitlines()
        assert len(lines) == 1, result.err
        return lines[0]

    def file(self, name: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
        return write_csv(self.folder / name, headers, rows)

    def load(self, kind: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> Outcome:
        """Import an office file of ``kind``; every row must be stored."""
        path = self.file(f"{kind}-{len(list(self.folder.iterdir()))}.csv", headers, rows)
        result = self("import", kind, str(path))
        assert result.code == 0, result.out + result.err
        return result

    def violations(self, *args: str) -> list[dict[str, Any]]:
        """``check --json`` (with ``args``): the violations found."""
        result = self("check", "--json", *args)
        assert result.code in (0, 1), result.err
        found: list[dict[str, Any]] = result.json()
        return found


# --- a Guangxi region (450000) as three office files: institutions, physicians, contracts ----

GX_HOSPITAL = credit_code("450103", 101)  # 三级综合医院, 青秀区
GX_CLINIC = credit_code("450102", 102)  # 诊所, 兴宁区 (grassroots)
GX_CENTRE = credit_code("450105", 103)  # 社区卫生服务中心, 江南区 (grassroots)
DR_WEI = "145450000000011"  # primary at the hospital, additional at the clinic since 2024
DR_LU = "145450000000012"  # primary at the hospital; a clinic contract for 2025 only
DR_MO = "145450000000013"  # one contract, ended 2025-06-30

GX_INSTITUTIONS = [
    (GX_HOSPITAL, "广西壮族自治区人民医院", "三级综合医院", 1500, "450103", "内科；外科；儿科", "否", "桃源路6号"),
    (GX_CLINIC, "兴宁区朝阳内科诊所", "诊所", 0, "450102", "内科", "是", "朝阳路1号"),
    (GX_CENTRE, "江南区福建园街道社区卫生服务中心", "社区卫生服务中心", 30, "450105", "全科医学；内科", "是", "星光大道2号"),
]  # fmt: skip
GX_PHYSICIANS = [
    (DR_WEI, "韦建国", "执业医师", "临床", "内科", "主治医师", "450000", GX_HOSPITAL, "2015-03-01"),
    (DR_LU, "陆秀兰", "执业医师", "临床", "内科", "副主任医师", "450000", GX_HOSPITAL, "2012-05-01"),
    (DR_MO, "莫志强", "执业医师", "临床", "内科", "住院医师", "450000", GX_HOSPITAL, "2020-07-01"),
]  # fmt: skip
GX_CONTRACTS = [
    ("GX-P-WEI", DR_WEI, GX_HOSPITAL, "主要", "内科", "2024-01-01", "2026-12-31", "周一 08:00-12:00；周二 08:00-12:00；周三 08:00-12:00；周四 08:00-12:00", 16, ""),
    ("GX-A-WEI", DR_WEI, GX_CLINIC, "其他", "内科", "2024-01-01", "2026-12-31", "周五 14:00-17:00", 3, "是"),
    ("GX-P-LU", DR_LU, GX_HOSPITAL, "主要", "内科", "2024-01-01", "2027-12-31", "周一 08:00-12:00；周二 08:00-12:00；周三 08:00-12:00；周四 08:00-12:00；周五 08:00-12:00", 20, ""),
    ("GX-A-LU", DR_LU, GX_CLINIC, "其他", "内科", "2025-01-01", "2025-12-31", "周六 08:00-12:00", 4, "是"),
    ("GX-P-MO", DR_MO, GX_HOSPITAL, "主要", "内科", "2023-01-01", "2025-06-30", "周一 08:00-17:00；周二 08:00-17:00", 18, ""),
]  # fmt: skip


def guangxi(cli: Cli) -> Cli:
    """``init`` the database (empty, or a registry at the newest revision) and import the Guangxi
    office's three files into it."""
    cli.ok("init")
    cli.load("institutions", INSTITUTION_HEADERS, GX_INSTITUTIONS)
    cli.load("physicians", PHYSICIAN_HEADERS, GX_PHYSICIANS)
    cli.load("contracts", CONTRACT_HEADERS, GX_CONTRACTS)
    return cli


def guangxi_office(url: str, folder: Path) -> None:
    """``guangxi`` as a module's ``BUILD_REGISTRY`` (see conftest): built once per test worker
    and engine, copied for each test."""
    guangxi(Cli(url, None, folder))
