"""Filings (备案) as a lifecycle, as a commission's clerk meets them from the command line on a
Guangxi region imported from the office's files: a follow-on contract or an extension files,
extends or renews the filing in the same save (never a dead end); a filing ended by a decision
(撤销) needs an explicit ``filing renew``; the history says who did what."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from multisite.domain.sessions_text import parse_sessions
from multisite.services import AgreementInput, Registry
from multisite.storage import Database

from .clerk_cli import CONTRACT_HEADERS, DR_LU, GX_CLINIC, Cli, guangxi_office

CLINIC_NAME = "兴宁区朝阳内科诊所"


BUILD_REGISTRY = guangxi_office


@pytest.fixture
def cli(built_registry_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """The Guangxi office (``BUILD_REGISTRY``), a copy for each test."""
    return Cli(built_registry_url, capsys, tmp_path)


def follow_on(contract: str, start: str, end: str) -> list[tuple[object, ...]]:
    return [(contract, DR_LU, GX_CLINIC, "其他", "内科", start, end, "周六 08:00-12:00", 4, "是")]


def clinic_filings(cli: Cli) -> list[dict[str, object]]:
    shown = cli.ok("filing", "show", DR_LU, "--json").json()
    return [f for f in shown if f["institution"]["code"] == GX_CLINIC]


def history(filing: dict[str, object]) -> list[tuple[object, ...]]:
    return [(e["action"], e["valid_to"], e["contract_no"]) for e in filing["history"]]  # type: ignore[index,union-attr]


def test_a_follow_on_contract_extends_the_filing_in_the_same_save(cli: Cli):
    [filed] = clinic_filings(cli)
    assert (filed["valid_from"], filed["valid_to"]) == ("2025-01-01", "2025-12-31")
    path = cli.file(
        "续签.csv", CONTRACT_HEADERS, follow_on("GX-A-LU-2026", "2026-01-01", "2026-12-31")
    )
    dry = cli("import", "contracts", str(path), "--dry-run")
    assert dry.code == 0 and "This will extend the filing" in dry.out  # what the save will do
    assert clinic_filings(cli) == [filed]
    done = cli("import", "contracts", str(path))
    assert done.code == 0, done.out
    assert "Extended the filing" in done.out and "2026-12-31" in done.out
    [extended] = clinic_filings(cli)
    assert (extended["valid_from"], extended["valid_to"]) == ("2025-01-01", "2026-12-31")
    assert history(extended) == [
        ("filed", "2025-12-31", "GX-A-LU"),
        ("extended", "2026-12-31", "GX-A-LU-2026"),
    ]
    assert [v for v in cli.violations("--physician", DR_LU) if v["code"] == "PERIOD"] == []


def test_a_contract_after_the_filing_lapsed_renews_it(cli: Cli):
    path = cli.file(
        "续签.csv", CONTRACT_HEADERS, follow_on("GX-A-LU-2027", "2027-03-01", "2027-12-31")
    )
    done = cli("import", "contracts", str(path))
    assert done.code == 0 and "Renewed the lapsed filing" in done.out, done.out
    [renewed] = clinic_filings(cli)
    assert renewed["valid_to"] == "2027-12-31"
    assert [e[0] for e in history(renewed)] == ["filed", "renewed"]


def test_lengthening_a_contract_extends_its_filing(cli: Cli):
    path = cli.file("延长.csv", CONTRACT_HEADERS, follow_on("GX-A-LU", "2025-01-01", "2026-06-30"))
    assert cli("import", "contracts", str(path)).code == 0
    [extended] = clinic_filings(cli)
    assert extended["valid_to"] == "2026-06-30"
    assert history(extended)[-1] == ("extended", "2026-06-30", "GX-A-LU")


def test_a_filing_ended_by_a_decision_needs_an_explicit_renewal(cli: Cli):
    ended = cli.ok("filing", "end", DR_LU, GX_CLINIC, "--on", "2025-09-30", "--reason", "撤销备案")
    assert "PERIOD" in ended.out and "GX-A-LU" in ended.out  # the contract ran past it
    path = cli.file(
        "续签.csv", CONTRACT_HEADERS, follow_on("GX-A-LU-2026", "2026-01-01", "2026-12-31")
    )
    refused = cli("import", "contracts", str(path))
    assert refused.code == 1 and "PERIOD" in refused.out and "ended on 2025-09-30" in refused.out
    renewed = cli.ok(
        "filing", "renew", DR_LU, GX_CLINIC, "--until", "2026-12-31", "--authority",
        "兴宁区卫生健康局", "--number", "兴卫备〔2026〕3号",
    )  # fmt: skip
    assert "2025-10-01" in renewed.out and "2026-12-31" in renewed.out
    assert cli("import", "contracts", str(path)).code == 0
    first, second = clinic_filings(cli)
    assert (first["valid_to"], first["ended_on"], first["end_reason"]) == (
        "2025-09-30",
        "2025-09-30",
        "撤销备案",
    )
    assert (second["valid_from"], second["valid_to"], second["authority"], second["number"]) == (
        "2025-10-01",
        "2026-12-31",
        "兴宁区卫生健康局",
        "兴卫备〔2026〕3号",
    )
    assert [e[0] for e in history(first)] == ["filed", "ended"]
    assert [e[0] for e in history(second)] == ["renewed"]
    # the ended filing and its renewal from the next day cover the 2025 contract together
    assert [v for v in cli.violations("--physician", DR_LU) if v["code"] == "PERIOD"] == []


@pytest.mark.parametrize(
    "args",
    [
        ("filing", "renew", DR_LU, GX_CLINIC, "--until", "2024-12-31"),  # before it starts
        ("filing", "renew", DR_LU, GX_CLINIC, "--until", "2025-06-30"),  # already valid then
        ("filing", "end", DR_LU, GX_CLINIC, "--on", "2024-12-31", "--reason", "撤销"),
        ("filing", "end", DR_LU, GX_CLINIC, "--on", "2025-06-30", "--reason", " "),
        ("filing", "renew", DR_LU, "12450103MB0000000X", "--until", "2026-12-31"),
        ("filing", "show", "145450000009999"),
    ],
)
def test_bad_filing_requests_are_one_sentence_and_change_nothing(cli: Cli, args):
    before = clinic_filings(cli)
    sentence = cli.refused(*args)
    assert sentence
    assert clinic_filings(cli) == before


def test_the_preview_says_what_the_save_will_do_to_the_filing(cli: Cli):
    """What the TUI's contract form shows before saving (the service's typed preview)."""
    db = Database(cli.db_url)
    try:
        registry = Registry(db, clerk="窗口一")
        data = AgreementInput(
            "GX-A-LU-2026", DR_LU, GX_CLINIC, "additional", "内科", dt.date(2026, 1, 1),
            dt.date(2026, 12, 31), parse_sessions("SA 08:00-12:00"), 4, True,
            liability="机构承担", pay="每次400元", insurance="医责险", tasks="内科门诊",
            employment="人事关系保留在原单位",
        )  # fmt: skip
        preview = registry.agreement_preview(data)
        assert preview.violations == []
        assert preview.note == (
            f"This will extend the filing at {CLINIC_NAME} to 2025-01-01 until 2026-12-31."
        )
        result = registry.save_agreement(data)
        assert result.notes == [
            f"Extended the filing at {CLINIC_NAME} to 2025-01-01 until 2026-12-31."
        ]
        assert registry.agreement_preview(data).note is None  # covered now
    finally:
        db.dispose()
