"""Suspending (暂停), cancelling (注销) and reinstating a registration from the command line, on
a Guangxi region imported from the office's files into an empty database; afterwards
``check``, ``base`` and ``physician show`` tell the same story."""

from __future__ import annotations

from pathlib import Path

import pytest

from .clerk_cli import (
    DR_MO,
    DR_WEI,
    GX_HOSPITAL,
    INSTITUTION_HEADERS,
    PHYSICIAN_HEADERS,
    Cli,
    credit_code,
    guangxi_office,
)

BUILD_REGISTRY = guangxi_office
NM_HOSPITAL = credit_code("150102", 3)  # a hospital of Inner Mongolia, for a second registration
NM_HOSPITAL_ROW = (NM_HOSPITAL, "内蒙古自治区人民医院", "三级综合医院", 1800, "150102", "内科；外科", "否",
                   "昭乌达路1号")  # fmt: skip


@pytest.fixture
def cli(built_registry_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """The Guangxi office (``BUILD_REGISTRY``), a copy for each test."""
    return Cli(built_registry_url, capsys, tmp_path)


def registration_errors(cli: Cli, cert: str) -> dict[str, str]:
    found = cli.violations("--physician", cert)
    return {v["agreements"][0]: v["first_date"] for v in found if v["code"] == "REGISTRATION"}


def counted_at(cli: Cli, code: str, on: str) -> set[str]:
    report = cli.ok("base", "--institution", code, "--on", on, "--json").json()
    return {c["physician"] for b in report for c in b["contributors"] if c["share"] > 0}


def test_a_suspension_and_its_reinstatement_agree_in_check_base_and_show(cli: Cli):
    assert DR_WEI in counted_at(cli, GX_HOSPITAL, "2026-04-01")
    done = cli.ok(
        "physician", "suspend", DR_WEI, "--from", "2026-03-01", "--to", "2026-08-31",
        "--reason", "定期考核不合格",
    )  # fmt: skip
    assert "450000" in done.out and "GX-P-WEI" in done.out and "GX-A-WEI" in done.out
    assert registration_errors(cli, DR_WEI) == {"GX-P-WEI": "2026-03-01", "GX-A-WEI": "2026-03-01"}
    assert DR_WEI not in counted_at(cli, GX_HOSPITAL, "2026-04-01")
    cli.ok("physician", "reinstate", DR_WEI, "--on", "2026-05-01")
    assert DR_WEI in counted_at(cli, GX_HOSPITAL, "2026-05-01")
    assert DR_WEI not in counted_at(cli, GX_HOSPITAL, "2026-04-30")
    history = cli.ok("physician", "show", DR_WEI, "--json").json()["registrations"][0]["history"]
    assert [(e["status"], e["on"], e["until"]) for e in history][1:] == [
        ("suspended", "2026-03-01", "2026-04-30"),
        ("reinstated", "2026-05-01", None),
    ]
    # the contracts ran through the two suspended months: REGISTRATION still names them
    assert registration_errors(cli, DR_WEI) == {"GX-P-WEI": "2026-03-01", "GX-A-WEI": "2026-03-01"}


def test_reinstating_a_physician_who_is_not_suspended_is_one_sentence(cli: Cli):
    before = cli.ok("physician", "show", DR_WEI, "--json").json()["registrations"]
    sentence = cli.refused("physician", "reinstate", DR_WEI, "--on", "2026-05-01")
    assert DR_WEI in sentence and "not suspended" in sentence
    cli.ok("physician", "suspend", DR_WEI, "--from", "2026-03-01", "--to", "2026-03-31",
           "--reason", "处罚")  # fmt: skip
    cli.refused("physician", "reinstate", DR_WEI, "--on", "2026-04-01")  # already over by then
    after = cli.ok("physician", "show", DR_WEI, "--json").json()["registrations"]
    assert len(after[0]["history"]) == len(before[0]["history"]) + 1  # only the suspension


@pytest.mark.parametrize(
    "args",
    [
        ("physician", "suspend", DR_WEI, "--from", "2026-03-01", "--to", "2026-02-01",
         "--reason", "处罚"),
        ("physician", "suspend", DR_WEI, "--from", "2026-03-01", "--to", "2026-04-01",
         "--reason", "处罚", "--region", "150000"),
        ("physician", "suspend", DR_WEI, "--from", "2026-03-01", "--to", "2026-04-01",
         "--reason", " "),
        ("physician", "cancel", "145450000009999", "--on", "2026-03-01", "--reason", "死亡"),
        ("physician", "suspend", DR_WEI, "--from", "2026-13-01", "--to", "2026-04-01",
         "--reason", "处罚"),
    ],
)  # fmt: skip
def test_bad_suspensions_are_one_sentence_and_change_nothing(cli: Cli, args: tuple[str, ...]):
    cli.refused(*args)
    history = cli.ok("physician", "show", DR_WEI, "--json").json()["registrations"][0]["history"]
    assert [e["status"] for e in history] == ["registered"]


def test_a_cancelled_registration_cannot_be_suspended_and_touches_no_past_contract(cli: Cli):
    done = cli.ok("physician", "cancel", DR_MO, "--on", "2026-01-01", "--reason", "死亡")
    assert "REGISTRATION" not in done.out  # the one contract ended in 2025
    assert registration_errors(cli, DR_MO) == {}
    assert "cancelled" in cli.refused(
        "physician", "suspend", DR_MO, "--from", "2026-03-01", "--to", "2026-04-01",
        "--reason", "处罚",
    )  # fmt: skip
    assert cli.ok("physician", "show", DR_MO, "--json").json()["status"] == "cancelled"


def test_the_status_shown_is_the_status_today_not_the_last_event(cli: Cli):
    import datetime as dt

    today = dt.date.today()
    over = (today - dt.timedelta(days=60), today - dt.timedelta(days=30))
    cli.ok("physician", "suspend", DR_WEI, "--from", over[0].isoformat(),
           "--to", over[1].isoformat(), "--reason", "处罚")  # fmt: skip
    shown = cli.ok("physician", "show", DR_WEI, "--json").json()
    assert shown["status"] == "registered"
    assert [r["status"] for r in shown["registrations"]] == ["registered"]
    cli.ok("physician", "suspend", DR_WEI, "--from", today.isoformat(),
           "--to", (today + dt.timedelta(days=30)).isoformat(), "--reason", "处罚")  # fmt: skip
    shown = cli.ok("physician", "show", DR_WEI, "--json").json()
    assert shown["status"] == "suspended"
    assert [r["status"] for r in shown["registrations"]] == ["suspended"]


def test_a_physician_with_errors_on_record_can_still_be_updated_from_a_file(cli: Cli):
    """A suspension leaves Dr Wei's two contracts in error (REGISTRATION: they run through
    it) until they are ended or the suspension lifted. The office's next file, promoting him
    and adding a registration in another province (增加注册), is stored: a row is refused for
    the errors it brings, not for those already on record."""
    cli.ok("physician", "suspend", DR_WEI, "--from", "2026-03-01", "--to", "2026-08-31",
           "--reason", "定期考核不合格")  # fmt: skip
    assert set(registration_errors(cli, DR_WEI)) == {"GX-P-WEI", "GX-A-WEI"}
    promoted = (DR_WEI, "韦建国", "执业医师", "临床", "内科", "副主任医师", "450000", GX_HOSPITAL,
                "2015-03-01")  # fmt: skip
    done = cli.load("physicians", PHYSICIAN_HEADERS, [promoted])
    assert done.code == 0, done.out
    elsewhere = (*promoted[:6], "150000", NM_HOSPITAL, "2026-01-01")
    cli.load("institutions", INSTITUTION_HEADERS, [NM_HOSPITAL_ROW])  # 内蒙古
    assert cli.load("physicians", PHYSICIAN_HEADERS, [elsewhere]).code == 0
    shown = cli.ok("physician", "show", DR_WEI, "--json").json()
    assert shown["title"] == "副主任医师"
    assert [r["region"] for r in shown["registrations"]] == ["450000", "150000"]
