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
from multisite.tui.screens.help import HelpScreen
from multisite.tui.screens.importing import ImportScreen
from multisite.tui.screens.institutions import ContributorsScreen
from multisite.tui.screens.physician import PhysicianScreen
from multisite.tui.widgets.tick import TickBox
from multisite.tui.widgets.virtual_table import VirtualTable, widths
from rich.cells import cell_len
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Footer, Header, Input, Static
from textual.widgets._footer import FooterKey

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
        await pilot.press("f9", "down")
    elif name == "import":
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


def cut_off(app: MultisiteApp, text: str) -> list[str]:
    """What a clerk would find cut on the screen shown: a table wider than its room (it
    scrolls sideways), a column header or a fixed column's value clipped, a footer key not
    whole on the last line, a clipped title bar, checkbox label or placeholder, a checkbox
    that says its state by colour alone."""
    screen = app.screen
    found = []
    for table in screen.query(DataTable):
        room = table.scrollable_content_region.width
        if table.virtual_size.width > room:
            found.append(f"#{table.id} is {table.virtual_size.width} columns wide in {room}")
        for column in table.columns.values():
            width = column.content_width if column.auto_width else column.width
            if cell_len(column.label.plain) > width:
                found.append(f"#{table.id}: header {column.label.plain!r} in {width} columns")
    for vtable in screen.query(VirtualTable):
        room = vtable.scrollable_content_region.width
        sizes = widths(vtable.columns, room)
        if max(vtable.virtual_size.width, sum(sizes) + len(sizes)) > room:
            found.append(f"#{vtable.id} is wider than its {room} columns")
        header = getattr(vtable, "header", None)
        if header is not None and header.laid_out != room:
            found.append(f"#{vtable.id}: header laid out for {header.laid_out} columns")
        top = vtable.scroll_offset.y
        for index in range(top, min(vtable.count, top + vtable.size.height)):
            cells = vtable.getter(index)
            for cell, column, width in zip(cells, vtable.columns, sizes, strict=True):
                value = cell.plain if isinstance(cell, Text) else cell
                if column.width is not None and cell_len(value) > width:
                    found.append(f"#{vtable.id}: {value!r} clipped to {width} ({column.label})")
    lines = text.splitlines()
    for footer in screen.query(Footer):
        for key in footer.query(FooterKey):
            label = " ".join(key.render().plain.split())
            if label not in lines[-1] or key.region.right > footer.region.right:
                found.append(f"footer key {label!r} not whole in {lines[-1]!r}")
    if screen.query(Header) and "…" in lines[0]:
        found.append(f"title bar clipped: {lines[0]!r}")
    for box in screen.query(Checkbox):
        if not isinstance(box, TickBox):
            found.append(f"#{box.id} is a Checkbox: ticked and not differ by colour only")
        elif box.get_content_width(box.size, box.size) > box.content_region.width:
            found.append(f"#{box.id}: label {box.label.plain!r} clipped")
    for field in screen.query(Input):
        shown = field.display and not field.value and field.placeholder
        if shown and cell_len(field.placeholder) >= field.content_region.width:
            found.append(f"#{field.id}: placeholder {field.placeholder!r} clipped")
    return found


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("name", SCREENS)
def test_every_screen_fits_80_columns(
    demo_db: Path, name: str, office: Path, language: str
) -> None:
    """Nothing on any screen at 80×24 needs scrolling sideways or is cut at the right edge:
    the tables fit (no horizontal scrolling), the footer's keys are whole (f1 Help included),
    column headers, kinds and statuses are not clipped, and every checkbox says its state by
    its glyph. On the physician screen the head is one line and the violations are in view;
    the help screen shows every key at once."""
    i18n.set_language(language)
    db = Database(f"sqlite:///{demo_db}")

    async def run() -> tuple[str, list[str], list[str]]:
        app = MultisiteApp(Registry(db, "窗口一"), today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await open_screen(pilot, name, office)
            text = screen_text(app)
            extra = []
            screen = app.screen
            if isinstance(screen, PhysicianScreen):
                head = screen.query_one("#physician-head", Static)
                if head.size.height != 1:
                    extra.append(f"the physician's head takes {head.size.height} lines")
                if i18n._("Violations and warnings") not in text:
                    extra.append("the violations are below the fold")
            if isinstance(screen, ContributorsScreen):
                hint = i18n._("Enter opens the physician · Esc back")
                extra += [] if hint in text else ["the contributors' hint is cut off"]
            if isinstance(screen, HelpScreen):
                extra += [f"{what!r} not in view" for _k, what in screen.keys if what not in text]
                extra += [f"{k} not in view" for k in ("f7", "f8") if f" {k} " not in text]
            return text, cut_off(app, text), extra

    try:
        text, problems, extra = asyncio.run(run())
    finally:
        i18n.set_language("en")
        db.dispose()
    assert problems + extra == [], text


def test_physician_table_fits_when_the_screen_scrolls(demo_db: Path) -> None:
    """On a shorter terminal the physician screen scrolls and its scrollbar takes two
    columns: the institution column gives them up, the contracts table still fits."""
    db = Database(f"sqlite:///{demo_db}")

    async def run() -> tuple[int, int, int, str]:
        app = MultisiteApp(Registry(db, "窗口一"), today=TODAY, due_on_start=False)
        async with app.run_test(size=(80, 16)) as pilot:
            await app.push_screen(PhysicianScreen(multi_site_cert(app.registry)))
            await settle(pilot)
            await settle(pilot)
            scroll = app.screen.query_one("#physician")
            table = app.screen.query_one("#agreements", DataTable)
            return (
                scroll.scrollable_content_region.width,
                table.virtual_size.width,
                table.scrollable_content_region.width,
                screen_text(app),
            )

    try:
        outer, wanted, room, text = asyncio.run(run())
    finally:
        db.dispose()
    assert outer < 78  # the screen does scroll: its scrollbar took its columns
    assert wanted <= room, text


@pytest.mark.parametrize("language", ["zh", "en"])
def test_institutions_fit_beside_their_scrollbar(demo_db: Path, language: str) -> None:
    """Every institution (f three times: all of them) on a terminal too short for them: the
    scrollbar takes two columns, the rows and their header give them up together, the kind at
    the right edge is whole and nothing scrolls sideways."""
    i18n.set_language(language)
    db = Database(f"sqlite:///{demo_db}")

    async def run() -> tuple[str, list[str], int]:
        app = MultisiteApp(Registry(db, "窗口一"), today=TODAY, due_on_start=False)
        async with app.run_test(size=(80, 12)) as pilot:
            await pilot.press("f3")
            await settle(pilot)
            await pilot.press("f", "f", "f")
            await settle(pilot)
            text = screen_text(app)
            table = app.screen.query_one(VirtualTable)
            return text, cut_off(app, text), table.count - table.size.height

    try:
        text, problems, hidden = asyncio.run(run())
    finally:
        i18n.set_language("en")
        db.dispose()
    assert hidden > 0  # more rows than room: the scrollbar is there
    assert problems == [], text


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_checkbox_says_ticked_or_not_by_its_glyph(
    demo_db: Path, office: Path, language: str
) -> None:
    """The import's "partial" box reads [ ] and, once ticked with the space bar, [x]: not the
    same mark in another colour."""
    i18n.set_language(language)
    db = Database(f"sqlite:///{demo_db}")
    label = i18n._("partial: store good rows")

    async def run() -> tuple[str, str]:
        app = MultisiteApp(Registry(db, "窗口一"), today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await app.push_screen(ImportScreen(Path(office.name)))
            await settle(pilot)
            before = screen_text(app)
            app.screen.query_one("#partial", Checkbox).focus()
            await pilot.press("space")
            await settle(pilot)
            assert app.screen.query_one("#partial", Checkbox).value
            return before, screen_text(app)

    try:
        before, after = asyncio.run(run())
    finally:
        i18n.set_language("en")
        db.dispose()
    assert f"[ ] {label}" in before and f"[x] {label}" not in before, before
    assert f"[x] {label}" in after, after
