"""The TUI's Due screen on an Inner Mongolia region imported into an empty database: it opens on
start when something is due within the week, lists what the window holds, fits 80×24 in zh,
and opens the physician an item concerns."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from multisite.tui.app import MultisiteApp
from multisite.tui.screens.due import DueScreen
from multisite.tui.screens.physician import PhysicianScreen
from multisite.tui.screens.search import SearchScreen
from textual.pilot import Pilot
from textual.widgets import DataTable

from multisite import i18n
from multisite.services import Registry
from multisite.storage import Database

from .disclosure_region import BATER, CLINIC, DUE, ON, ZHANG, inner_mongolia_office

BUILD_REGISTRY = inner_mongolia_office


@pytest.fixture
def region(built_registry_url: str):
    """The Inner Mongolia office (``BUILD_REGISTRY``), a copy for each test."""
    db = Database(built_registry_url)
    yield Registry(db, "窗口一")
    db.dispose()


async def settle(pilot: Pilot[None], screen_type: type) -> None:
    for _ in range(200):
        await pilot.pause(0.02)
        screen = pilot.app.screen
        if isinstance(screen, screen_type) and getattr(screen, "loaded", True):
            return
    raise AssertionError(f"{screen_type.__name__} did not settle")


def rows(table: DataTable[str]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(n)] for n in range(table.row_count)]


def test_the_due_screen_opens_on_start_when_something_is_due_this_week(region: Registry):
    async def run() -> None:
        app = MultisiteApp(region, today=dt.date(2027, 3, 5))  # a listing ends today
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot, DueScreen)
            table = app.screen.query_one("#due", DataTable)
            shown = rows(table)
            # 30 days from 03-05: DUE from that day, and NM-P-4's termination on 04-01
            expected = [x for x in DUE if x[1] >= "2027-03-05"]
            expected.append(("contract_end", "2027-04-01", "NM-P-4", ZHANG, CLINIC))
            assert [r[0].replace("[b]", "").replace("[/b]", "") for r in shown] == [
                x[1] for x in expected
            ]
            assert shown[0][0] == "[b]2027-03-05[/b]"  # due this week: bold
            table.move_cursor(row=[x[3] for x in expected].index(BATER))
            await pilot.press("enter")
            await settle(pilot, PhysicianScreen)
            assert app.screen.cert == BATER  # type: ignore[attr-defined]

    asyncio.run(run())


def test_nothing_due_this_week_starts_on_the_search_screen(region: Registry):
    async def run() -> None:
        app = MultisiteApp(region, today=dt.date(2027, 4, 20))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.1)
            assert isinstance(app.screen, SearchScreen)

    asyncio.run(run())


def test_the_due_screen_fits_80_by_24_in_chinese(region: Registry):
    async def run() -> None:
        i18n.set_language("zh")
        app = MultisiteApp(region, today=ON)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, DueScreen)
            screen = app.screen
            assert isinstance(screen, DueScreen) and len(screen.items) == len(DUE)
            text = app.export_screenshot()
            assert "合同到期" in text and "校验申请截止" in text and "到期日" in text
            assert "contract ends" not in text
            table = screen.query_one("#due", DataTable)
            assert table.virtual_size.width <= 80  # no column cut off to the right
            await pilot.press("minus")  # 30 → 7 days
            await settle(pilot, DueScreen)
            assert screen.within == 7 and len(screen.items) == 2

    asyncio.run(run())


def test_an_app_told_not_to_starts_on_the_search_screen_anyway(region: Registry):
    async def run() -> None:
        app = MultisiteApp(region, today=dt.date(2027, 3, 5), due_on_start=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.1)
            assert isinstance(app.screen, SearchScreen)

    asyncio.run(run())
