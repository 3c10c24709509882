"""The clerks' UI driven as a clerk would: keys in, screens and the database checked."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from multisite.tui.app import MultisiteApp
from multisite.tui.screens.audit import AuditScreen
from multisite.tui.screens.change import ChangeScreen
from multisite.tui.screens.contract import ContractScreen
from multisite.tui.screens.physician import PhysicianScreen
from multisite.tui.screens.search import SearchScreen
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from multisite.services import PhysicianInput, Registry
from multisite.services.search import find_institutions, find_physicians
from multisite.services.validation_base import validation_base
from tests.factories import CLINIC, DR_LI, DR_ZHANG, agreement, build_region, primary

TODAY = dt.date(2026, 1, 5)
SIZE = (100, 40)


@pytest.fixture
def region(registry: Registry) -> Registry:
    build_region(registry)
    primary(registry)  # 张伟 works MO–TH 08:00–12:00 at the hospital
    return registry


async def settle(pilot: Pilot[None], seconds: float = 0.0) -> None:
    """Let timers fire and worker threads finish, then let their results be drawn."""
    if seconds:
        await pilot.pause(seconds)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_into(pilot: Pilot[None], selector: str, text: str) -> None:
    """Focus a field, replace its text, and type the last character as a real key press
    (typing every character of long values would make the suite slow for nothing)."""
    widget = pilot.app.screen.query_one(selector, Input)
    widget.focus()
    await pilot.pause()  # focusing selects the old text; replace it after that
    widget.value = text[:-1]
    widget.cursor_position = len(widget.value)
    await pilot.press(text[-1])
    assert widget.value == text


def test_search_pages_in_the_database(region: Registry) -> None:
    assert [h.name for h in find_physicians(region, "zw").hits] == ["张伟"]
    assert [h.name for h in find_physicians(region, "ZW").hits] == ["张伟"]
    assert [h.cert for h in find_physicians(region, DR_LI[:12]).hits] == [DR_ZHANG, DR_LI]
    assert [h.name for h in find_physicians(region, "娜").hits] == ["李娜"]
    first = find_physicians(region, "1103", limit=1)
    second = find_physicians(region, "1103", offset=1, limit=1)
    assert first.more and not second.more
    assert first.hits[0].cert != second.hits[0].cert
    assert find_physicians(region, "  ").hits == ()
    assert find_physicians(region, "100%_").hits == ()
    assert [i.code for i in find_institutions(region, "张氏")] == [CLINIC]
    assert [i.code for i in find_institutions(region, CLINIC[:10].lower())][:1] != []


def test_clerk_files_a_conflicting_contract_fixes_it_and_finds_the_audit_row(
    region: Registry,
) -> None:
    asyncio.run(file_a_contract(region))


async def file_a_contract(region: Registry) -> None:
    app = MultisiteApp(region, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        # find 张伟 by pinyin initials
        await pilot.press("z", "w")
        await settle(pilot)
        search = app.screen
        assert isinstance(search, SearchScreen)
        assert search.shown_query == "zw"
        assert [h.name for h in search.page.hits] == ["张伟"]  # type: ignore[union-attr]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PhysicianScreen)
        assert app.screen.cert == DR_ZHANG

        # a contract at the clinic on Monday 10:00 overlaps the hospital's morning
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ContractScreen)
        await type_into(pilot, "#contract_no", "C-2026-1")
        await type_into(pilot, "#institution-query", "张氏")
        await settle(pilot)
        await pilot.press("down", "enter")  # pick the first match
        await type_into(pilot, "#sessions", "MO 10:00-13:00")
        await type_into(pilot, "#weekly_hours", "3")
        form.query_one("#consent").value = True  # type: ignore[attr-defined]
        await settle(pilot, 0.4)
        await settle(pilot)
        assert form.problem == ""
        assert form.previewed is not None
        codes = {v["code"] for v in form.previewed if v["severity"] == "error"}
        assert "OVERLAP" in codes

        # saving now is refused and stores nothing
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "refuse" in form.problem
        assert region.audit_log(physician=DR_ZHANG, limit=5)[0].entity_key != "C-2026-1"

        # a bad sessions text is one sentence in the form, not a traceback
        await type_into(pilot, "#sessions", "MO 25:00")
        await settle(pilot, 0.4)
        assert form.problem.startswith("Sessions:")

        # right after the hospital's morning: too little time to travel
        await type_into(pilot, "#sessions", "MO 12:10-15:00")
        await settle(pilot, 0.4)
        await settle(pilot)
        assert {v["code"] for v in form.previewed or []} >= {"TRAVEL_GAP"}

        # Friday afternoon is clean
        await type_into(pilot, "#sessions", "FR 14:00-17:00")
        await settle(pilot, 0.4)
        await settle(pilot)
        assert [v for v in form.previewed or [] if v["severity"] == "error"] == []
        await pilot.press("ctrl+s")
        await settle(pilot)
        physician = app.screen
        assert isinstance(physician, PhysicianScreen)
        assert physician.card is not None
        contracts = [a.contract_no for a in physician.card.agreements]
        assert "C-2026-1" in contracts

        # the audit screen shows the row, naming the clerk
        await pilot.press("f5")
        await settle(pilot)
        audit = app.screen
        assert isinstance(audit, AuditScreen)
        await type_into(pilot, "#physician", DR_ZHANG)
        await settle(pilot, 0.4)
        await settle(pilot)
        table = audit.query_one("#audit", DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert any(r[4] == "C-2026-1" and r[1] == "测试员" for r in rows)

    # the newest rows: the agreement's and the filing (备案) its save made
    stored = next(e for e in region.audit_log(physician=DR_ZHANG, limit=2) if e.entity != "filing")
    assert (stored.entity, stored.entity_key, stored.action, stored.clerk) == (
        "agreement",
        "C-2026-1",
        "create",
        "测试员",
    )
    assert stored.after is not None and stored.after["sessions"] == ["FR 14:00-17:00"]


DR_WANG = "110330000000003"


def clinic_doctor(registry: Registry) -> None:
    """王芳: main institution the clinic, full time there: the clinic's only counted physician."""
    registry.register_physician(
        PhysicianInput(
            DR_WANG,
            "王芳",
            "执业医师",
            "临床",
            ["内科"],
            "主治医师",
            "330000",
            CLINIC,
            dt.date(2010, 3, 1),
        )
    )
    registry.save_agreement(
        agreement(
            "P-WANG",
            CLINIC,
            "MO-FR 08:00-16:00",
            physician=DR_WANG,
            role="primary",
            start=dt.date(2025, 1, 1),
            end=dt.date(2027, 12, 31),
            consent=None,
        )
    )


def test_suspending_a_registration_shows_the_clinic_falling_below_its_base(
    region: Registry,
) -> None:
    clinic_doctor(region)
    assert validation_base(region, on=TODAY, institution=CLINIC)[0].status == "meets"
    asyncio.run(suspend(region))
    after = validation_base(region, on=TODAY, institution=CLINIC)[0]
    assert after.status == "short"
    entry = region.audit_log(physician=DR_WANG, limit=1)[0]
    assert (entry.action, entry.clerk, entry.after["reason"]) == (  # type: ignore[index]
        "suspend",
        "测试员",
        "停职调查",
    )


async def suspend(region: Registry) -> None:
    app = MultisiteApp(region, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w", "f", "enter")
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, PhysicianScreen)
        assert app.screen.cert == DR_WANG
        await pilot.press("s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ChangeScreen)
        await type_into(pilot, "#until", "2026-06-30")
        # without a reason nothing can be applied: one sentence says what is missing
        await settle(pilot, 0.4)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ChangeScreen)
        assert "Reason:" in str(dialog.query_one("#change-error", Static).render())
        await type_into(pilot, "#reason", "停职调查")
        await settle(pilot, 0.4)
        await settle(pilot)
        assert dialog.impact_text is not None
        assert "▼" in dialog.impact_text and "西湖张氏内科诊所" in dialog.impact_text
        assert "1.0 → 0.0" in dialog.impact_text
        await pilot.press("ctrl+s")
        await settle(pilot)
        physician = app.screen
        assert isinstance(physician, PhysicianScreen)
        assert physician.card is not None and physician.card.status == "suspended"


def test_closing_the_physician_screen_at_once_does_not_stop_the_app(region: Registry) -> None:
    """A clerk opens a physician and presses Esc before the screen has been drawn: the table's
    width is fitted after the next refresh, which must find the screen gone and do nothing."""

    async def run() -> type:
        app = MultisiteApp(region, today=TODAY, due_on_start=False)
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(3):
                app.open_physician(DR_ZHANG)
                while not (isinstance(app.screen, PhysicianScreen) and app.screen.card):
                    await asyncio.sleep(0.001)  # loaded: the refit waits for the next refresh
                app.pop_screen()  # before that refresh
                await settle(pilot)
            await pilot.press("z")  # the app still answers keys
            await settle(pilot)
            return type(app.screen)

    # a crashed app would leave the pilot waiting: a minute is the most the steps may take
    assert asyncio.run(asyncio.wait_for(run(), 60)) is SearchScreen
