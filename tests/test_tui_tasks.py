"""The ten tasks of the clerks' UI at 80×24, keyboard first, in a region that is not the demo's:
an empty registry fed the GB18030 files a Guangxi office sends (``tests/office.py``)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from multisite.tui.app import MultisiteApp
from multisite.tui.screens import SCREENS
from multisite.tui.screens.audit import AuditScreen
from multisite.tui.screens.change import ChangeScreen
from multisite.tui.screens.contract import ContractScreen
from multisite.tui.screens.dialog import FormDialog
from multisite.tui.screens.filings import FilingsScreen
from multisite.tui.screens.importing import ImportScreen
from multisite.tui.screens.institutions import ContributorsScreen, InstitutionsScreen
from multisite.tui.screens.physician import PhysicianScreen
from multisite.tui.screens.search import SearchScreen
from textual.pilot import Pilot
from textual.widgets import DataTable, DirectoryTree, Input, Select

from multisite.services import Registry
from multisite.services.imports import run_import
from multisite.services.validation_base import validation_base
from multisite.services.views import physician_card
from multisite.storage import audit

from .office import CLINIC, CONTRACT_HEADERS, DOCTORS, HOSPITAL, open_office, write_csv

TODAY = dt.date(2026, 3, 2)  # a Monday
SIZE = (80, 24)
HEADERS = [*CONTRACT_HEADERS, "主要机构同意"]


def row(
    no: str, doctor: str, where: str, role: str, sessions: str, start: str, hours: str
) -> list[str]:
    return [no, doctor, where, role, "内科", start, "2026-12-31", sessions, hours, "是"]


@pytest.fixture
def office(registry: Registry, tmp_path: Path) -> Registry:
    """韦医生1 works Monday–Thursday mornings at the hospital and, from next week, Friday
    afternoons at the clinic; 韦医生2 full days at the hospital."""
    open_office(registry, tmp_path)
    path = write_csv(
        tmp_path / "合同.csv",
        HEADERS,
        [
            row("GX-1", DOCTORS[0], HOSPITAL, "主要", "周一至周四 08:00-12:00", "2026-01-05", "16"),
            row("GX-2", DOCTORS[0], CLINIC, "其他", "周五 14:00-17:00", "2026-03-09", "3"),
            row("GX-3", DOCTORS[1], HOSPITAL, "主要", "周一至周五 08:00-16:00", "2026-01-05", "40"),
        ],
    )
    report = run_import(registry, "contracts", path)
    assert report.committed and not report.rejected, report.problems
    return registry


async def settle(pilot: Pilot[Any], seconds: float = 0.0) -> None:
    """Wait until the app's work is done: every worker that ends has ended.

    A DirectoryTree (the import screen's file picker) keeps one worker for its whole life:
    ``_loader`` waits on its queue of folders to read and never completes, so waiting for
    *all* workers would wait forever once the import screen was shown. (An empty list given
    to ``wait_for_complete`` means every worker, the loader included: hence the ``if``.)
    """
    if seconds:
        await pilot.pause(seconds)
    ending = [w for w in pilot.app.workers if w.group != "_loader"]
    if ending:
        await pilot.app.workers.wait_for_complete(ending)
    await pilot.pause()


async def type_into(pilot: Pilot[Any], selector: str, text: str) -> None:
    widget = pilot.app.screen.query_one(selector, Input)
    widget.focus()
    await pilot.pause()
    widget.value = text[:-1]
    widget.cursor_position = len(widget.value)
    await pilot.press(text[-1])


async def open_physician(pilot: Pilot[Any], cert: str) -> PhysicianScreen:
    await type_into(pilot, "#query", cert)
    await settle(pilot, 0.3)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, PhysicianScreen) and screen.cert == cert
    return screen


def clerk(registry: Registry, task: Any) -> None:
    async def run() -> None:
        app = MultisiteApp(registry, today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await task(pilot)

    asyncio.run(run())


def test_find_a_physician_by_pinyin_and_by_certificate(office: Registry) -> None:
    async def task(pilot: Pilot[Any]) -> None:
        await type_into(pilot, "#query", "wys")
        await settle(pilot, 0.3)
        search = pilot.app.screen
        assert isinstance(search, SearchScreen) and search.page is not None
        assert {h.cert for h in search.page.hits} >= set(DOCTORS[:3])
        await open_physician(pilot, DOCTORS[1])

    clerk(office, task)


def test_read_this_weeks_and_next_weeks_grid(office: Registry) -> None:
    async def task(pilot: Pilot[Any]) -> None:
        screen = await open_physician(pilot, DOCTORS[0])
        grid = screen.query_one("#week")
        plan = grid.plan  # type: ignore[attr-defined]
        assert plan.monday == TODAY
        assert len(plan.lanes) == 1  # the clinic's contract starts next week
        assert "03-02" in str(grid.render())
        await pilot.press("right_square_bracket")
        plan = grid.plan  # type: ignore[attr-defined]
        assert plan.monday == dt.date(2026, 3, 9) and len(plan.lanes) == 2
        assert "03-13" in str(grid.render())  # the Friday the clinic's session is on
        friday = plan.days[4]
        assert any(s.start == 14 * 60 for s in friday.stretches)
        await pilot.press("0")
        assert grid.plan.monday == TODAY  # type: ignore[attr-defined]

    clerk(office, task)


def test_file_a_conflicting_contract_see_why_fix_and_save(office: Registry) -> None:
    async def task(pilot: Pilot[Any]) -> None:
        await open_physician(pilot, DOCTORS[1])
        await pilot.press("n")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, ContractScreen)
        assert form.problem == ""  # nothing said before anything is typed
        await type_into(pilot, "#contract_no", "GX-9")
        await type_into(pilot, "#institution-query", CLINIC)
        await type_into(pilot, "#end", "2026-12-31")
        await type_into(pilot, "#sessions", "周二 10:00-12:00")
        await type_into(pilot, "#weekly_hours", "2")
        form.query_one("#consent").value = True  # type: ignore[attr-defined]
        await settle(pilot, 0.4)
        await settle(pilot)
        assert "OVERLAP" in {v["code"] for v in form.previewed or []}
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is form and form.problem
        await type_into(pilot, "#sessions", "周六 09:00-11:00")
        await settle(pilot, 0.4)
        await settle(pilot)
        assert not [v for v in form.previewed or [] if v["severity"] == "error"]
        assert form.filing_note and CLINIC not in form.filing_note  # names the clinic
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, PhysicianScreen) and screen.card is not None
        assert screen.card.agreement("GX-9") is not None

    clerk(office, task)


def test_renew_a_filing(office: Registry) -> None:
    async def task(pilot: Pilot[Any]) -> None:
        await open_physician(pilot, DOCTORS[0])
        await pilot.press("f")
        await settle(pilot)
        filings = pilot.app.screen
        assert isinstance(filings, FilingsScreen) and len(filings.filings) == 1
        await pilot.press("r")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, FormDialog)
        await type_into(pilot, "#until", "2027-12-31")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert pilot.app.screen is filings
        assert filings.filings[0].valid_to == dt.date(2027, 12, 31)

    clerk(office, task)
    assert office.filings(DOCTORS[0])[0].valid_to == dt.date(2027, 12, 31)


def test_terminate_a_contract_and_the_cursor_stays_on_it(office: Registry) -> None:
    async def task(pilot: Pilot[Any]) -> None:
        screen = await open_physician(pilot, DOCTORS[0])
        await pilot.press("down")
        assert screen.selected_contract() == "GX-2"
        await pilot.press("t")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, ChangeScreen)
        assert str(dialog.query_one("#change-error").render()) == ""
        await type_into(pilot, "#start", "2026-06-30")
        await type_into(pilot, "#reason", "合同提前解除")
        await settle(pilot, 0.4)
        assert dialog.impact_text and "2026-07-01" in dialog.impact_text  # labelled by date
        await pilot.press("ctrl+s")
        await settle(pilot)
        if pilot.app.screen is dialog:  # the first Ctrl+S may ask to check the effect
            await settle(pilot, 0.4)
            await pilot.press("ctrl+s")
            await settle(pilot)
        assert pilot.app.screen is screen, str(dialog.query_one("#change-error").render())
        assert screen.selected_contract() == "GX-2"  # not back on row 1
        a = screen.card.agreement("GX-2")  # type: ignore[union-attr]
        assert a is not None and a.terminated_on == dt.date(2026, 6, 30)

    clerk(office, task)


def test_suspend_a_physician_and_see_the_base_drop(office: Registry) -> None:
    before = validation_base(office, on=TODAY, institution=HOSPITAL)[0].counted

    async def task(pilot: Pilot[Any]) -> None:
        await open_physician(pilot, DOCTORS[1])
        await pilot.press("s")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, ChangeScreen)
        assert dialog.query("#suspend-warning")  # contracts become REGISTRATION errors
        await type_into(pilot, "#until", "2026-06-30")
        await type_into(pilot, "#reason", "定期考核不合格")
        await settle(pilot, 0.4)
        assert dialog.impact_text and "南宁市兴宁区第一人民医院" in dialog.impact_text
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, PhysicianScreen)

    clerk(office, task)
    assert validation_base(office, on=TODAY, institution=HOSPITAL)[0].counted < before


def test_sort_and_filter_institutions_and_jump_to_a_contributor(office: Registry) -> None:
    async def task(pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, InstitutionsScreen)
        while screen.mode != "all":
            await pilot.press("f")
        await pilot.press("o")
        assert screen.sort == "name" and len(screen.shown) == 2
        await pilot.press("slash")
        await type_into(pilot, "#inst-text", "第一人民")
        await pilot.press("enter")
        await settle(pilot)
        contributors = pilot.app.screen
        assert isinstance(contributors, ContributorsScreen)
        assert contributors.base.institution == HOSPITAL
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, PhysicianScreen)
        await pilot.press("escape")
        assert pilot.app.screen is contributors  # Esc walks back along the path
        await pilot.press("escape")
        assert pilot.app.screen is screen

    clerk(office, task)


def test_import_a_file_picked_from_a_tree(office: Registry, tmp_path: Path) -> None:
    folder = tmp_path / "来件"
    folder.mkdir()
    write_csv(
        folder / "contracts.csv",
        HEADERS,
        [
            row("GX-20", DOCTORS[2], HOSPITAL, "主要", "周二 08:00-12:00", "2026-01-05", "4"),
            row("GX-21", DOCTORS[2], HOSPITAL, "主要", "周二 09:00-10:00", "2026-01-05", "1"),
        ],
    )

    async def task(pilot: Pilot[Any]) -> None:
        await pilot.app.push_screen(ImportScreen(folder))
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ImportScreen)
        tree = screen.query_one(DirectoryTree)
        assert tree.has_focus  # the clerk starts in the tree
        for _step in range(5):
            node = tree.cursor_node
            if node is not None and node.data is not None and node.data.path.is_file():
                break
            await pilot.press("down")
            await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.path == folder / "contracts.csv"
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.outcome.startswith("Nothing stored: 1 of 2 rows rejected")
        assert physician_card(office, DOCTORS[2], TODAY).agreement("GX-20") is None
        screen.query_one("#partial").value = True  # type: ignore[attr-defined]
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.outcome.startswith("Stored 1 rows (1 new, 0 changed), rejected 1")

    clerk(office, task)
    card = physician_card(office, DOCTORS[2], TODAY)
    assert [n for n in ("GX-20", "GX-21") if card.agreement(n) is not None] == ["GX-20"]


def test_filter_the_audit_log_by_date_and_action(
    office: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    # terminated at 01:30 on 2 March in Beijing, which is still 1 March in UTC
    monkeypatch.setattr(audit, "utcnow", lambda: dt.datetime(2026, 3, 1, 17, 30))
    office.terminate_agreement("GX-2", dt.date(2026, 6, 30), "合同提前解除")
    monkeypatch.undo()

    async def task(pilot: Pilot[Any]) -> None:
        await pilot.press("f5")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, AuditScreen)
        await settle(pilot, 0.4)
        assert len(screen.entries) > 1  # the office's imports as well
        await type_into(pilot, "#first_day", "2026-03-02")
        await settle(pilot, 0.4)
        # the imports ran today (the real clock), the termination on 2 March
        assert "terminate" in {e.action for e in screen.entries}
        screen.query_one("#action", Select).value = "terminate"
        await settle(pilot, 0.4)
        assert screen.loaded and [e.action for e in screen.entries] == ["terminate"]
        assert screen.entries[0].at.utcoffset() == dt.timedelta(hours=8)
        table = screen.query_one("#audit", DataTable)
        table.focus()
        table.move_cursor(row=0)
        await settle(pilot)
        detail = str(screen.query_one("#audit-detail").render())
        assert "2026-03-02 01:30" in detail and "GX-2" in detail
        assert "2026-06-30" in detail and "→" in detail
        # 1 March, a local date: the termination (1 March in UTC) is not on it
        await type_into(pilot, "#first_day", "2026-03-01")
        await type_into(pilot, "#last_day", "2026-03-01")
        await settle(pilot, 0.4)
        assert screen.loaded and screen.entries == []
        assert "No entries" in str(screen.query_one("#audit-status").render())
        await type_into(pilot, "#last_day", "2026-03-02")
        await settle(pilot, 0.4)
        assert [e.key for e in screen.entries] == ["GX-2"]

    clerk(office, task)


@pytest.mark.parametrize("entry", SCREENS, ids=[e.name for e in SCREENS])
def test_reach_every_screen_from_the_palette(office: Registry, entry: Any) -> None:
    async def task(pilot: Pilot[Any]) -> None:
        await pilot.press("ctrl+p")
        await settle(pilot)
        for key in str(entry.title).lower()[:5]:
            await pilot.press("space" if key == " " else key)
        await settle(pilot, 0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == entry.target.split(":")[1]

    clerk(office, task)
