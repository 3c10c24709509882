"""``multisite due`` on an Inner Mongolia region built from an empty database: every item due
within the window is listed (contracts ending, filings lapsing, suspensions ending, 校验
applications, credit listings ending) and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from .clerk_cli import Cli
from .disclosure_region import BATER, CENTRE, DUE, ON, WULAN, inner_mongolia_office

BUILD_REGISTRY = inner_mongolia_office


@pytest.fixture
def cli(built_registry_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """The Inner Mongolia office (``BUILD_REGISTRY``), a copy for each test."""
    return Cli(built_registry_url, capsys, tmp_path)


def listed(cli: Cli, *args: str) -> list[tuple[object, ...]]:
    items = cli.ok("due", "--json", *args).json()
    return [
        (x["kind"], x["due"], None if x["kind"] == "filing_lapse" else x["reference"],
         x["physician"], x["institution"] if x["kind"] != "listing_end" else None)
        for x in items
    ]  # fmt: skip


def test_due_lists_exactly_the_items_inside_the_window(cli: Cli):
    assert listed(cli, "--on", ON.isoformat(), "--within", "30") == DUE


def test_a_window_of_one_day_holds_that_day_only(cli: Cli):
    assert listed(cli, "--on", "2027-03-10", "--within", "0") == [
        ("contract_end", "2027-03-10", "NM-A-2", BATER, CENTRE),
        ("filing_lapse", "2027-03-10", None, BATER, CENTRE),
    ]


def test_the_window_moves_with_its_first_day(cli: Cli):
    # from the day after the 呼和浩特市第一医院's application date to the day before NM-P-1 ends
    assert listed(cli, "--on", "2027-03-16", "--within", "3") == []
    assert [x[2] for x in listed(cli, "--on", "2027-03-16", "--within", "4")] == ["NM-P-1"]


def test_an_ended_filing_is_no_reminder(cli: Cli):
    cli.ok("filing", "end", BATER, CENTRE, "--on", "2027-03-05", "--reason", "协议解除")
    kinds = [x[0] for x in listed(cli, "--on", ON.isoformat(), "--within", "30")]
    assert "filing_lapse" not in kinds


def test_one_institutions_items(cli: Cli):
    from .disclosure_region import HOSPITAL

    assert listed(cli, "--on", ON.isoformat(), "--institution", HOSPITAL) == [
        x for x in DUE if x[4] == HOSPITAL
    ]
    assert [x[3] for x in listed(cli, "--on", ON.isoformat())].count(WULAN) == 1


def test_the_table_in_chinese_names_each_item(cli: Cli):
    out = cli("due", "--on", ON.isoformat(), lang="zh").out
    assert "NM-A-2" in out and "巴特尔" in out and "2027-03-31" in out


def test_bad_windows_are_one_sentence(cli: Cli):
    assert "within" in cli.refused("due", "--within", "-3")
    assert "--within" in cli.refused("due", "--within", "99999")
    assert "Unknown institution" in cli.refused("due", "--institution", "X")


def test_due_json_keeps_its_schema(cli: Cli):
    (first, *_rest) = cli.ok("due", "--json", "--on", ON.isoformat()).json()
    assert set(first) == {"kind", "due", "reference", "physician", "physician_name",
                          "profession", "institution", "institution_name", "message"}  # fmt: skip
