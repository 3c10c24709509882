"""One contract from the command line (``contract show``, ``contract terminate``), on a Guangxi
region imported from the office's files: the seven items seed 004 asks every contract to fix
are shown, in the JSON of ``physician show`` and ``institution show`` too, and an edit that
does not name them — a re-import without the columns, a clerk's form, a termination — never
erases them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from multisite.services import Registry
from multisite.storage import Database

from .clerk_cli import CONTRACT_HEADERS, DR_WEI, GX_CLINIC, Cli, guangxi

TERM_HEADERS = (*CONTRACT_HEADERS, "工作任务", "医疗责任", "薪酬", "相关保险", "人事关系")
TERMS = {
    "tasks": "每周五下午内科门诊",
    "liability": "医疗责任由执业机构承担",
    "pay": "每次门诊600元",
    "insurance": "执业机构购买医疗责任保险",
    "employment": "人事关系保留在广西壮族自治区人民医院",
}
ROW = ("GX-A-WEI", DR_WEI, GX_CLINIC, "其他", "内科", "2024-01-01", "2026-12-31",
       "周五 14:00-17:00", 3, "是")  # fmt: skip


def guangxi_with_terms(url: str, folder: Path) -> None:
    """The Guangxi office, its clinic contract filed again with the seven terms: built once per
    test worker and engine (``BUILD_REGISTRY``), copied for each test."""
    cli = guangxi(Cli(url, None, folder))
    cli.load("contracts", TERM_HEADERS, [(*ROW, *TERMS.values())])


BUILD_REGISTRY = guangxi_with_terms


@pytest.fixture
def cli(built_registry_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """The Guangxi office with the terms, a copy for each test."""
    return Cli(built_registry_url, capsys, tmp_path)


def test_contract_show_gives_the_seven_terms(cli: Cli):
    shown = cli.ok("contract", "show", "GX-A-WEI", "--json").json()
    assert shown["terms"] == {
        "period": {"start": "2024-01-01", "end": "2026-12-31"},
        "schedule": ["FR 14:00-17:00"],
        **TERMS,
    }
    assert shown["physician"]["cert"] == DR_WEI and shown["state"] in ("active", "ended")
    assert shown["filing"]["valid_to"] == "2026-12-31"
    assert not [v for v in shown["violations"] if v["code"] == "TERMS"]
    table = cli.ok("contract", "show", "GX-A-WEI").out
    assert all(text in table for text in TERMS.values())
    chinese = cli("contract", "show", "GX-A-WEI", lang="zh").out
    assert "执业期限" in chinese and "时间安排" in chinese and "人事（劳动）关系" in chinese
    physician = cli.ok("physician", "show", DR_WEI, "--json").json()
    [mine] = [a for a in physician["agreements"] if a["contract_no"] == "GX-A-WEI"]
    assert mine["terms"] == TERMS
    institution = cli.ok("institution", "show", GX_CLINIC, "--json").json()
    [theirs] = [a for a in institution["agreements"] if a["contract_no"] == "GX-A-WEI"]
    assert theirs["terms"] == TERMS


def test_edits_that_do_not_name_the_terms_keep_them(cli: Cli):
    revision = cli.ok("contract", "show", "GX-A-WEI", "--json").json()["revision"]
    # a re-import of a changed schedule from a file without the terms columns
    changed = (*ROW[:7], "周五 14:00-17:30", 3.5, "是")
    assert (
        cli("import", "contracts", str(cli.file("改.csv", CONTRACT_HEADERS, [changed]))).code == 0
    )
    shown = cli.ok("contract", "show", "GX-A-WEI", "--json").json()
    assert shown["terms"]["schedule"] == ["FR 14:00-17:30"] and shown["revision"] == revision + 1
    assert {k: shown["terms"][k] for k in TERMS} == TERMS
    # a clerk's form names no terms either (the TUI builds its input this way)
    db = Database(cli.db_url)
    try:
        registry = Registry(db, clerk="窗口一")
        import datetime as dt

        from multisite.domain.sessions_text import parse_sessions
        from multisite.services import AgreementInput

        form = AgreementInput(
            "GX-A-WEI", DR_WEI, GX_CLINIC, "additional", "内科", dt.date(2024, 1, 1),
            dt.date(2026, 12, 31), parse_sessions("FR 14:00-18:00"), 4, True,
        )  # fmt: skip
        assert all(getattr(form, term) is None for term in TERMS)
        assert registry.save_agreement(dataclasses.replace(form)).outcome == "updated"
    finally:
        db.dispose()
    shown = cli.ok("contract", "show", "GX-A-WEI", "--json").json()
    assert shown["terms"]["schedule"] == ["FR 14:00-18:00"]
    assert {k: shown["terms"][k] for k in TERMS} == TERMS
    # a termination keeps them too
    cli.ok("contract", "terminate", "GX-A-WEI", "--last-day", "2026-06-30", "--reason", "协商解除")
    ended = cli.ok("contract", "show", "GX-A-WEI", "--json").json()
    assert (ended["end"], ended["contracted_end"], ended["termination_reason"]) == (
        "2026-06-30",
        "2026-12-31",
        "协商解除",
    )
    assert {k: ended["terms"][k] for k in TERMS} == TERMS


def test_terminate_from_the_command_line_and_its_bad_input(cli: Cli):
    done = cli.ok("contract", "terminate", "GX-A-WEI", "--last-day", "2026-06-30")
    assert "2026-06-30" in done.out
    assert cli.ok("contract", "show", "GX-A-WEI", "--json").json()["state"] == "terminated"
    assert "already terminated" in cli.refused(
        "contract", "terminate", "GX-A-WEI", "--last-day", "2026-05-31"
    )
    cli.refused("contract", "terminate", "GX-P-WEI", "--last-day", "2020-01-01")  # before it starts
    cli.refused("contract", "terminate", "NO-SUCH", "--last-day", "2026-05-31")
    cli.refused("contract", "show", "NO-SUCH")
    cli.refused("contract", "terminate", "GX-P-WEI", "--last-day", "2026-02-30")
    assert cli.ok("contract", "show", "GX-P-WEI", "--json").json()["terminated_on"] is None
