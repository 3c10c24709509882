"""The registration form of the clerks' UI (医师/护士执业注册), driven as a clerk would at 80×24,
on a Guangxi office's registry (an empty database fed its GB18030 files), on SQLite and
PostgreSQL: the national ID checked as typed, stored only as a keyed hash, shown masked."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from multisite.tui.app import MultisiteApp
from multisite.tui.screens.confirm import ConfirmScreen
from multisite.tui.screens.physician import PhysicianScreen
from multisite.tui.screens.registration import RegistrationScreen, split_scopes
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from multisite.domain import identifiers as ids
from multisite.services import Registry
from multisite.services.imports import run_import
from multisite.services.search import find_physicians
from tests.office import DOCTORS, HOSPITAL, PHYSICIAN_HEADERS, open_office, write_csv

TODAY = dt.date(2026, 3, 2)
SIZE = (80, 24)
NEW_DOCTOR = DOCTORS[7]  # not in the office's first files


def national_id(first17: str) -> str:
    return first17 + ids.id_check_char(first17)


ID_MENG = national_id("45010219850312003")  # born 1985-03-12, the 17th digit odd: male


@pytest.fixture
def office(registry: Registry, tmp_path: Path) -> Registry:
    open_office(registry, tmp_path)  # the hospital, the clinic, three physicians
    return registry


async def settle(pilot: Pilot[None], seconds: float = 0.0) -> None:
    if seconds:
        await pilot.pause(seconds)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_into(pilot: Pilot[None], selector: str, text: str) -> None:
    """Focus a field, put in all but the last character, type the last one as a key press."""
    widget = pilot.app.screen.query_one(selector, Input)
    widget.focus()
    await pilot.pause()
    widget.value = text[:-1]
    widget.cursor_position = len(widget.value)
    await pilot.press(text[-1])
    assert widget.value == text


async def fill(pilot: Pilot[None], cert: str, id_number: str, name: str = "蒙志强") -> None:
    """A clerk's new physician: F8, then the fields, the ID last."""
    await pilot.press("f8")
    await settle(pilot)
    assert isinstance(pilot.app.screen, RegistrationScreen)
    await type_into(pilot, "#cert", cert)
    await type_into(pilot, "#name", name)
    await type_into(pilot, "#scopes", "内科")
    pilot.app.screen.query_one("#title", Select).value = "主治医师"
    await type_into(pilot, "#region", "450000")
    await type_into(pilot, "#institution-query", HOSPITAL)
    await type_into(pilot, "#practising_since", "2012-07-01")
    await type_into(pilot, "#id_number", id_number)
    await settle(pilot, 0.4)


def pane(app: MultisiteApp) -> str:
    screen = app.screen
    error = str(screen.query_one("#form-error", Static).render())
    checks = str(screen.query_one("#checks", Static).render())
    return f"{error}\n{checks}"


def all_text(registry: Registry) -> str:
    """Every value of every table as text (what a dump of the database would show)."""
    found: list[str] = []
    with registry.db.engine.connect() as connection:
        for table in sa.inspect(connection).get_table_names():
            for row in connection.exec_driver_sql(f'SELECT * FROM "{table}"'):
                found.append(" ".join(str(v) for v in row))
    return "\n".join(found)


def stored(registry: Registry, cert: str) -> bool:
    return any(h.cert == cert for h in find_physicians(registry, cert).hits)


def test_a_clerk_files_a_physician_whose_id_is_kept_only_masked(office: Registry) -> None:
    async def run() -> str:
        app = MultisiteApp(office, today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await fill(pilot, NEW_DOCTOR, ID_MENG)
            shown = str(app.screen.query_one("#born", Static).render())
            assert "1985-03-12" in shown and "male" in shown
            assert "✗" not in pane(app), pane(app)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, PhysicianScreen), pane(app)
            return str(app.screen.query_one("#physician-head", Static).render())

    head = asyncio.run(run())
    masked = ids.id_masked(ID_MENG)
    assert masked == ID_MENG[:6] + "********" + ID_MENG[-4:]
    assert masked in head and ID_MENG not in head
    assert "主治医师" in head and "内科" in head
    dump = all_text(office)
    for secret in (ID_MENG, ID_MENG[6:14]):
        assert secret not in dump
    assert masked in dump
    assert any(e.physician_cert == NEW_DOCTOR and e.action == "create" for e in office.audit_log())


def test_a_mistyped_check_character_is_refused_naming_the_field(office: Registry) -> None:
    wrong = ID_MENG[:17] + ("1" if ID_MENG[17] != "1" else "2")

    async def run() -> tuple[str, bool]:
        app = MultisiteApp(office, today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await fill(pilot, NEW_DOCTOR, ID_MENG)
            assert "Clean" in pane(app)
            await type_into(pilot, "#id_number", wrong)  # the clerk mistypes the last character
            await settle(pilot, 0.4)
            before = pane(app)
            await pilot.press("ctrl+s")
            await settle(pilot)
            return before + pane(app), isinstance(app.screen, RegistrationScreen)

    said, still_open = asyncio.run(run())
    assert still_open
    assert "National ID: the check character fails GB 11643" in said
    assert "Clean" not in said  # no earlier verdict left standing beside the problem
    assert wrong not in said
    assert not stored(office, NEW_DOCTOR)


def test_an_id_already_registered_is_refused_naming_the_field(
    office: Registry, tmp_path: Path
) -> None:
    # the office's file carries the ID for one of its physicians (the import's path)
    row = [DOCTORS[5], "韦丽", "执业医师", "临床", "内科", "主治医师", "450000", HOSPITAL,
           "2019-03-01", ID_MENG]  # fmt: skip
    path = write_csv(tmp_path / "医师-身份证.csv", [*PHYSICIAN_HEADERS, "身份证号"], [row])
    assert run_import(office, "physicians", path).committed

    async def run() -> tuple[str, bool]:
        app = MultisiteApp(office, today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await fill(pilot, NEW_DOCTOR, ID_MENG)
            before = pane(app)
            await pilot.press("ctrl+s")
            await settle(pilot)
            return before + pane(app), isinstance(app.screen, RegistrationScreen)

    said, still_open = asyncio.run(run())
    assert still_open
    assert (
        f"National ID: This national ID number is already registered for physician {DOCTORS[5]}"
        in said
    )
    assert ID_MENG not in said
    assert not stored(office, NEW_DOCTOR)


@pytest.fixture
def county_clerk(office: Registry) -> Iterator[str]:
    """A clerk of 青秀区 (450103; the hospital lies in 兴宁区): on PostgreSQL a LOGIN role made
    for the test (a clerk is a role there) and dropped afterwards."""
    name = "qingxiu"
    postgres = office.db.engine.dialect.name == "postgresql"
    if postgres:
        name = f"ms_tuiform_{uuid.uuid4().hex[:8]}"
        with office.db.engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE ROLE "{name}" LOGIN')
            connection.commit()
    office.add_clerk(name, "450103", "clerk")
    yield name
    if postgres:
        with office.db.engine.connect() as connection:
            connection.exec_driver_sql(f'DROP OWNED BY "{name}"')
            connection.exec_driver_sql(f'DROP ROLE "{name}"')
            connection.commit()


def test_a_clerk_of_another_county_gets_the_service_sentence_and_nothing_is_stored(
    office: Registry, county_clerk: str
) -> None:
    clerk = Registry(office.db, county_clerk)  # an admin acting as the clerk, with her rights

    async def run() -> str:
        app = MultisiteApp(clerk, today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await fill(pilot, NEW_DOCTOR, ID_MENG)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, RegistrationScreen)
            return pane(app)

    said = asyncio.run(run())
    assert f"{county_clerk} writes only in region" in said
    assert not stored(office, NEW_DOCTOR)


def test_esc_on_a_filled_form_asks_and_an_edit_changes_the_title(office: Registry) -> None:
    async def run() -> None:
        app = MultisiteApp(office, today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f8")
            await settle(pilot)
            await type_into(pilot, "#name", "覃")
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("n")
            await settle(pilot)
            assert isinstance(app.screen, RegistrationScreen)
            assert app.screen.query_one("#name", Input).value == "覃"
            await pilot.press("escape", "y")
            await settle(pilot)
            assert not isinstance(app.screen, RegistrationScreen)
            # the registration details of a stored physician, from the physician screen
            app.open_physician(DOCTORS[0])
            await settle(pilot)
            await pilot.press("d")
            await settle(pilot)
            form = app.screen
            assert isinstance(form, RegistrationScreen)
            assert form.query_one("#cert", Input).disabled
            form.query_one("#title", Select).value = "副主任医师"
            await settle(pilot, 0.4)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, PhysicianScreen)

    asyncio.run(run())
    (hit,) = find_physicians(office, DOCTORS[0]).hits
    assert hit.title == "副主任医师"
    assert any(e.physician_cert == DOCTORS[0] and e.action == "update" for e in office.audit_log())


def test_the_palette_opens_the_form_and_it_lists_the_scopes_of_the_category(
    office: Registry,
) -> None:
    async def run() -> tuple[str, str]:
        app = MultisiteApp(office, today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+p")
            await settle(pilot)
            for key in "Register":
                await pilot.press(key)
            await settle(pilot, 0.3)
            await pilot.press("enter")
            await settle(pilot)
            form = app.screen
            assert isinstance(form, RegistrationScreen)
            hint = str(form.query_one("#scopes-hint", Static).render())
            form.query_one("#category", Select).value = "口腔"
            await settle(pilot)
            return hint, str(form.query_one("#scopes-hint", Static).render())

    clinical, dental = asyncio.run(run())
    assert clinical.startswith("Scopes of 临床: 内科；外科；") and "；医学检验、病理；" in clinical
    assert dental == "Scopes of 口腔: 口腔专业"


def test_scopes_are_read_as_the_import_reads_them() -> None:
    assert split_scopes("内科；医学检验、病理; 全科医学，外科") == [
        "内科", "医学检验、病理", "全科医学", "外科",
    ]  # fmt: skip
