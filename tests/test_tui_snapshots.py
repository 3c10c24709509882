"""SVG snapshots of the main screens on a fixed demo region (seed 3, "today" 2026-03-02).

Update after a deliberate change of the look with ``pytest --snapshot-update`` and review
the SVGs in ``tests/__snapshots__/``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from multisite.tui.app import MultisiteApp
from multisite.tui.screens.physician import PhysicianScreen
from textual.pilot import Pilot

from multisite.services import Registry, demo
from multisite.storage import Database, upgrade

TODAY = dt.date(2026, 3, 2)
SEED = 3

Snap = Callable[..., bool]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("snap") / "demo.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    demo.generate(Registry(db, "演示"), physicians=120, seed=SEED, today=TODAY)
    db.dispose()
    yield path


@pytest.fixture
def app(demo_db: Path) -> Iterator[MultisiteApp]:
    db = Database(f"sqlite:///{demo_db}")
    yield MultisiteApp(Registry(db, "窗口一"), today=TODAY)
    db.dispose()


def multi_site_cert(app: MultisiteApp) -> str:
    """The first demo physician with agreements at two or more institutions."""
    from multisite.services.views import physician_view

    for letter in "zwlc":
        page = __import__("multisite.services.search", fromlist=["x"]).find_physicians(
            app.registry, letter, limit=50
        )
        for hit in page.hits:
            view = physician_view(app.registry, hit.cert)
            if len({a["institution"]["code"] for a in view["agreements"]}) >= 2:
                return hit.cert
    raise AssertionError("the demo region has no multi-site physician")


async def settle(pilot: Pilot[Any], seconds: float = 0.0) -> None:
    if seconds:
        await pilot.pause(seconds)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_search_screen(snap_compare: Snap, app: MultisiteApp) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.press("z", "h")
        await settle(pilot)

    assert snap_compare(app, run_before=run_before, terminal_size=(80, 24))


def test_physician_screen(snap_compare: Snap, app: MultisiteApp) -> None:
    cert = multi_site_cert(app)

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.app.push_screen(PhysicianScreen(cert))
        await settle(pilot)
        pilot.app.screen.query_one("#physician").scroll_to(y=6, animate=False)
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=(80, 24))


def test_contract_form_shows_what_would_be_refused(snap_compare: Snap, app: MultisiteApp) -> None:
    cert = multi_site_cert(app)

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.app.push_screen(PhysicianScreen(cert))
        await settle(pilot)
        await pilot.press("e")  # edit the first (primary) contract
        await settle(pilot)
        sessions = pilot.app.screen.query_one("#sessions")
        sessions.value = "MO-SU 08:00-20:00"  # type: ignore[attr-defined]
        await settle(pilot, 0.4)
        await settle(pilot)
        pilot.app.screen.query_one("#contract-form").scroll_end(animate=False)
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=(80, 24))


def test_institutions_screen(snap_compare: Snap, app: MultisiteApp) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        await settle(pilot)

    assert snap_compare(app, run_before=run_before, terminal_size=(80, 24))
