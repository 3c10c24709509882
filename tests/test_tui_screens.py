"""Every screen of the clerks' UI at 80×24, in Chinese and in English: an SVG snapshot of each,
and a check that the Chinese screens hold no English word outside a short allow-list.

The region is the demo's (seed 3, "today" 2026-03-02) with its audit rows dated 2026-03-02
09:00 Beijing time, so the snapshots do not change from run to run. Update after a deliberate
change of the look with ``pytest tests/test_tui_screens.py --snapshot-update`` and review the
SVGs in ``tests/__snapshots__/``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from multisite.tui.app import MultisiteApp
from multisite.tui.screens.due import DueScreen
from multisite.tui.screens.physician import PhysicianScreen
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from multisite import i18n
from multisite.services import Registry, demo
from multisite.services.search import find_physicians
from multisite.services.views import physician_card
from multisite.storage import Database, models, upgrade

TODAY = dt.date(2026, 3, 2)
SIZE = (80, 24)
Snap = Callable[..., bool]

SCREENS = (
    "search", "physician", "next_week", "contract", "suspend", "terminate", "filings",
    "credit", "institutions", "contributors", "audit", "help", "register", "registration",
    "due", "import",
)  # fmt: skip

# Words a Chinese screen may show: rule codes, key names, units and the product's name.
ALLOWED = {
    "multisite", "esc", "Esc", "ctrl", "Ctrl", "tab", "pgup", "pgdn", "PgUp", "PgDn", "home",
    "end", "enter", "shift", "up", "down", "min", "h", "YYYY", "MM", "DD", "csv", "xlsx",
    "jsonl", "txt", "tsv", "xlsm", "ndjson", "S", "R", "P", "y", "n", "N",
    "OVERLAP", "TRAVEL_GAP", "WEEKLY_HOURS", "STANDARD_HOURS", "DAILY_HOURS", "REST_DAY",
    "MIN_REST", "REGISTRATION", "OUT_OF_REGION", "SCOPE", "PRIMARY", "PERIOD", "SITE_LIMIT",
    "CREDIT", "ELIGIBILITY", "CONSENT", "CONTRACT_HOURS", "HOLIDAY_DATA", "TERMS",
}  # fmt: skip


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("screens") / "demo.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    with pytest.MonkeyPatch.context() as patch:
        # every module that stamps a time reads the one clock: 2026-03-02 09:00 in Beijing
        clock = models.utcnow
        for module in list(sys.modules.values()):
            if module.__name__.startswith("multisite") and getattr(module, "utcnow", 0) is clock:
                patch.setattr(module, "utcnow", lambda: dt.datetime(2026, 3, 2, 1, 0))
        demo.generate(Registry(db, "演示"), physicians=120, seed=3, today=TODAY)
    db.dispose()
    yield path


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder an office's files arrive in (the import screen's tree)."""
    folder = tmp_path_factory.mktemp("来件", numbered=False)
    (folder / "合同.csv").write_text("合同编号\n", encoding="utf-8")
    (folder / "医师.xlsx").write_bytes(b"")
    return folder


@pytest.fixture(autouse=True)
def in_office(office: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(office.parent)


@pytest.fixture(params=["zh", "en"])
def lang(request: pytest.FixtureRequest) -> Iterator[str]:
    i18n.set_language(request.param)
    yield str(request.param)
    i18n.set_language("en")


@pytest.fixture
def app(demo_db: Path, lang: str) -> Iterator[MultisiteApp]:
    db = Database(f"sqlite:///{demo_db}")
    yield MultisiteApp(Registry(db, "窗口一"), today=TODAY, due_on_start=False)
    db.dispose()


def multi_site_cert(registry: Registry) -> str:
    """The first demo physician with agreements at two or more institutions."""
    for letter in "zwlc":
        for hit in find_physicians(registry, letter, limit=50).hits:
            card = physician_card(registry, hit.cert)
            if len({a.institution_code for a in card.agreements}) >= 2:
                return hit.cert
    raise AssertionError("the demo region has no multi-site physician")


async def settle(pilot: Pilot[Any], seconds: float = 0.0) -> None:
    """Wait until the screen is still: every worker that ends has ended (a DirectoryTree's
    ``_loader`` never does, and an empty list would mean every worker to
    ``wait_for_complete``), and every DataTable has measured its new rows (it widens its
    columns when it next falls idle: a snapshot under load could catch them still as wide
    as their headers). Twice in a row, since a finished worker may start the next step."""
    if seconds:
        await pilot.pause(seconds)
    app = pilot.app
    quiet = 0
    for _ in range(500):
        await pilot.pause()
        ending = [w for w in app.workers if w.group != "_loader" and not w.is_finished]
        tables = list(app.screen.query(DataTable))
        measuring = any(t._require_update_dimensions or t._updated_cells for t in tables)
        if ending:
            await app.workers.wait_for_complete(ending)
        if ending or measuring:
            quiet = 0
            await pilot.pause(0.01)
            continue
        quiet += 1
        if quiet == 2:
            return


async def open_screen(pilot: Pilot[Any], name: str, office: Path) -> None:
    """Bring up screen ``name`` as a clerk would, with its data shown."""
    app = pilot.app
    cert = multi_site_cert(app.registry)  # type: ignore[attr-defined]
    if name == "search":
        await pilot.press("z")
        for _ in range(500):
            if getattr(app.screen, "shown_query", None) == "z":
                break
            await pilot.pause(0.01)
    elif name in ("physician", "next_week", "contract", "suspend", "terminate", "filings", "help"):
        await app.push_screen(PhysicianScreen(cert))
        await settle(pilot)
        keys = {
            "next_week": ["right_square_bracket"], "contract": ["e"], "suspend": ["s"],
            "terminate": ["t"], "filings": ["f"], "help": ["question_mark"], "physician": [],
        }[name]  # fmt: skip
        await pilot.press(*keys)
        await settle(pilot)
        if name == "contract":
            app.screen.query_one("#sessions").value = "周一至周日 08:00-20:00"  # type: ignore[attr-defined]
            await settle(pilot, 0.4)
        if name in ("suspend", "terminate"):
            if name == "suspend":
                app.screen.query_one("#until").value = "2026-06-30"  # type: ignore[attr-defined]
            app.screen.query_one("#reason").value = "停职调查"  # type: ignore[attr-defined]
            await settle(pilot, 0.4)
    elif name == "register":
        await pilot.press("f8")
    elif name == "registration":  # a registered physician's details (d on the physician screen)
        await app.push_screen(PhysicianScreen(cert))
        await settle(pilot)
        await pilot.press("d")
    elif name == "credit":
        await pilot.press("f6")
    elif name == "due":
        await pilot.press("f7")
    elif name in ("institutions", "contributors"):
        await pilot.press("f3")
        await settle(pilot)
        if name == "contributors":
            await pilot.press("enter")
    elif name == "audit":
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("f6", "down")
    elif name == "import":
        from multisite.tui.screens.importing import ImportScreen

        # relative to the working directory (see ``in_office``): the tree's root reads 来件,
        # not a temporary path that changes from run to run
        await app.push_screen(ImportScreen(Path(office.name)))
    await settle(pilot)
    await settle(pilot)


def screen_text(app: MultisiteApp) -> str:
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def english_words(text: str) -> set[str]:
    """Words of Latin letters that are not part of a code (certificate, contract number)."""
    found = set()
    for token in re.findall(r"[A-Za-z0-9_]+", text):
        if re.search(r"\d", token) or token in ALLOWED or len(token) == 1:  # keys: n, e, …
            continue
        found.add(token)
    return found


@pytest.mark.parametrize("name", SCREENS)
def test_screen_at_80x24(snap_compare: Snap, app: MultisiteApp, name: str, office: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_screen(pilot, name, office)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False  # the cursor drawn, whatever the moment
        await settle(pilot)

    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)


@pytest.mark.parametrize("name", SCREENS)
def test_chinese_screen_has_no_english_word(demo_db: Path, name: str, office: Path) -> None:
    i18n.set_language("zh")
    db = Database(f"sqlite:///{demo_db}")

    async def run() -> str:
        app = MultisiteApp(Registry(db, "窗口一"), today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await open_screen(pilot, name, office)
            return screen_text(app)

    try:
        text = asyncio.run(run())
    finally:
        i18n.set_language("en")
        db.dispose()
    assert english_words(text) == set(), text


@pytest.mark.parametrize("language", ["zh", "en"])
def test_due_screen_shows_each_reference_whole_at_80_columns(demo_db: Path, language: str) -> None:
    """The demo's long institution names and contract numbers (HT2025-0000059): the institution
    is clipped, the reference (编号) at the right edge never is."""
    i18n.set_language(language)
    db = Database(f"sqlite:///{demo_db}")

    async def run() -> tuple[str, list[str], int, int]:
        app = MultisiteApp(Registry(db, "窗口一"), today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f7")
            await settle(pilot)
            await pilot.press("plus", "plus", "plus")  # 30 → 365 days
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, DueScreen) and screen.within == 365
            table = screen.query_one("#due", DataTable)
            shown = [x.reference for x in screen.items[: table.size.height - 1]]
            return screen_text(app), shown, table.virtual_size.width, table.size.width

    try:
        text, references, wanted, room = asyncio.run(run())
    finally:
        i18n.set_language("en")
        db.dispose()
    assert any(r.startswith("HT") for r in references)  # contract numbers among them
    assert wanted <= room
    for reference in references:
        assert reference in text, (reference, text)
