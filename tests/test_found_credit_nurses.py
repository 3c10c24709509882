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


def test_the_tui_credit_register_labels_a_nurses_listing_a_nurses(
    built_registry_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    import asyncio
    import datetime as dt

    from multisite.tui.app import MultisiteApp
    from textual.widgets import DataTable

    from multisite.domain.inputs import ListingInput
    from multisite.services import Registry
    from multisite.storage import Database

    db = Database(built_registry_url)
    registry = Registry(db, "窗口一")
    for cert in (NURSE_LI, DR_YANG):
        registry.add_listing(
            ListingInput("physician", cert, dt.date(2026, 3, 1), "虚假", "贵阳市卫健委")
        )

    async def labels() -> list[str]:
        app = MultisiteApp(registry, today=dt.date(2026, 3, 2), due_on_start=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("f6")
            for _ in range(200):
                await pilot.pause(0.02)
                tables = list(app.screen.query(DataTable))
                if tables and tables[0].row_count == 2:
                    break
            table = app.screen.query(DataTable).first()
            return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]

    try:
        assert sorted(asyncio.run(labels())) == ["nurse", "physician"]
    finally:
        db.dispose()


def test_f6_opens_the_credit_register_from_the_audit_screen(built_registry_url: str):
    """F6 is the credit register on every screen (README); the audit screen bound it to its
    entries' table, so F6 there did nothing a clerk expected."""
    import asyncio
    import datetime as dt

    from multisite.tui.app import MultisiteApp
    from multisite.tui.screens.audit import AuditScreen
    from multisite.tui.screens.credit import CreditScreen

    from multisite.services import Registry
    from multisite.storage import Database

    db = Database(built_registry_url)

    async def screens() -> tuple[str, str]:
        app = MultisiteApp(Registry(db, "窗口一"), today=dt.date(2026, 3, 2), due_on_start=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("f5")
            await pilot.pause(0.3)
            before = type(app.screen).__name__
            await pilot.press("f6")
            await pilot.pause(0.3)
            return before, type(app.screen).__name__

    try:
        assert asyncio.run(screens()) == (AuditScreen.__name__, CreditScreen.__name__)
    finally:
        db.dispose()
