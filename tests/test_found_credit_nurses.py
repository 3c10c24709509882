"""Defects found by using the credit register as a commission officer does (helper trial2):
a nurse's listing and points read as a physician's. Each test failed before its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from .clerk_cli import Cli
from .test_nurses import DR_YANG, NURSE_LI, guangzhou_office

BUILD_REGISTRY = guangzhou_office


@pytest.fixture
def cli(built_registry_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    return Cli(built_registry_url, capsys, tmp_path)


def test_a_nurses_listing_and_points_are_labelled_a_nurses(cli: Cli):
    for cert in (NURSE_LI, DR_YANG):
        cli.ok("credit", "add", "physician", cert, "--from", "2026-12-01", "--reason", "虚假",
               "--authority", "贵阳市卫健委")  # fmt: skip
        cli.ok("credit", "points", cert, "--on", "2026-11-30", "--points", "3", "--reason", "病历",
               "--authority", "南明区卫健局")  # fmt: skip
    record = cli.ok("credit", "show", "--json").json()
    listed = {x["key"]: x["profession"] for x in record["listings"]}
    scored = {x["physician"]: x["profession"] for x in record["points"]}
    assert listed == scored == {NURSE_LI: "nurse", DR_YANG: "physician"}
    for lang, nurse, physician in (("zh", "护士", "医师"), ("en", "nurse", "physician")):
        text = cli("credit", "show", lang=lang).out
        assert text.count(f"{nurse} {NURSE_LI}") == 2, text  # the listing and the points
        assert text.count(f"{physician} {DR_YANG}") == 2, text
