"""Nurses in the clerks' UI (护士区域注册, #18), driven at 80×24 on a Guizhou office's registry (an
empty database fed its GB18030 files), on SQLite and PostgreSQL: the search labels each
practitioner, a nurse's screen has no physician's category or scopes, the institutions screen
shows the nurse minimum short and then met, and the registration form files a nurse."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest
from multisite.tui.app import MultisiteApp
from multisite.tui.screens.change import ChangeScreen
from multisite.tui.screens.institutions import ContributorsScreen, InstitutionsScreen, nurse_cell
from multisite.tui.screens.physician import PhysicianScreen
from multisite.tui.screens.registration import RegistrationScreen
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from multisite import i18n
from multisite.domain.vocabulary import CATEGORIES, NURSE_TITLES
from multisite.services import Registry
from multisite.services.imports import run_import
from multisite.services.search import find_physicians
from multisite.services.validation_base import validation_base

from .clerk_cli import INSTITUTION_HEADERS, PHYSICIAN_HEADERS, credit_code, write_csv
from .test_tui_screens import english_words

TODAY = dt.date(2026, 3, 2)
SIZE = (80, 24)
HOSPITAL = credit_code("520102", 301)  # 一级综合医院, 南明区: at least 5 nurses
NURSE_HEADERS = ("护士执业证书编号", "姓名", "职称", "注册地", "主要执业机构", "注册日期")
CONTRACT_HEADERS = (
    "合同编号", "执业证书编码", "机构代码", "执业类型", "科室", "起始日期", "终止日期", "排班",
    "约定周工时",
)  # fmt: skip
FULL_WEEK = (
    "周一 08:00-16:00；周二 08:00-16:00；周三 08:00-16:00；周四 08:00-16:00；周五 08:00-16:00"
)
DR_PAN = "152520000000101"
NURSE_ZHANG = "201552000101"  # 张秀兰: zxl
NURSE_WANG = "201852000102"
MORE_NURSES = [f"20205200011{n}" for n in range(3)]


def load(registry: Registry, folder: Path, kind: str, headers: Sequence[str], rows: list) -> None:
    path = write_csv(folder / f"{kind}-{len(rows)}-{rows[0][0]}.csv", headers, rows)
    report = run_import(registry, kind, path)
    assert report.committed and not report.rejected, report.problems


def nurse_contracts(certs: Sequence[str]) -> list[tuple[str, ...]]:
    """A primary contract of 40 h a week at the hospital for each nurse (one full share)."""
    return [
        (
            f"N{cert}",
            cert,
            HOSPITAL,
            "主要",
            "内科",
            "2026-01-05",
            "2026-12-31",
            FULL_WEEK,
            "40",
        )
        for cert in certs
    ]


@pytest.fixture
def office(registry: Registry, tmp_path: Path) -> Registry:
    """The office's files: the hospital, one physician, two nurses and their contracts."""
    load(registry, tmp_path, "institutions", INSTITUTION_HEADERS, [
        (HOSPITAL, "南明区人民医院", "一级综合医院", 10, "520102", "内科；外科", "否", "花果园1号"),
    ])  # fmt: skip
    load(registry, tmp_path, "physicians", PHYSICIAN_HEADERS, [
        (DR_PAN, "潘明", "执业医师", "临床", "内科", "主治医师", "520000", HOSPITAL, "2014-03-01"),
    ])  # fmt: skip
    load(registry, tmp_path, "nurses", NURSE_HEADERS, [
        (NURSE_ZHANG, "张秀兰", "主管护师", "520000", HOSPITAL, "2015-07-01"),
        (NURSE_WANG, "王芳", "护师", "520000", HOSPITAL, "2018-07-01"),
    ])  # fmt: skip
    load(registry, tmp_path, "contracts", CONTRACT_HEADERS,
         nurse_contracts([NURSE_ZHANG, NURSE_WANG]))  # fmt: skip
    return registry


async def settle(pilot: Pilot[None], seconds: float = 0.0) -> None:
    if seconds:
        await pilot.pause(seconds)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def screen_text(app: MultisiteApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def test_a_nurse_found_by_pinyin_is_labelled_and_her_screen_has_no_category_or_scope(
    office: Registry,
) -> None:
    i18n.set_language("zh")

    async def run() -> tuple[list[str], str, str]:
        app = MultisiteApp(office, today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("z", "x", "l")
            await settle(pilot)
            table = app.screen.query_one("#results", DataTable)
            row = [str(cell) for cell in table.get_row_at(0)]
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, PhysicianScreen)
            shown = screen_text(app)
            await pilot.press("s")
            await settle(pilot)
            assert isinstance(app.screen, ChangeScreen)
            return row, shown, screen_text(app)

    try:
        row, shown, suspend = asyncio.run(run())
    finally:
        i18n.set_language("en")
    assert row[:3] == [NURSE_ZHANG, "张秀兰", "护士"]
    head = shown.splitlines()[1]
    assert "张秀兰" in head and "护士" in head and "主管护师" in head
    assert not any(category in shown for category in CATEGORIES)
    assert "执业医师" not in shown and "执业范围" not in shown
    assert f"N{NURSE_ZHANG}" in shown  # her agreement, and her week drawn below it
    assert "护士" in suspend and "医师" not in suspend
    # in Chinese throughout: no English word on her screen or in the suspend dialog
    assert english_words(shown) == set() and english_words(suspend) == set(), shown + suspend
    # the physician of the same office is labelled as one
    (doctor,) = find_physicians(office, DR_PAN).hits
    assert (doctor.profession, doctor.name) == ("physician", "潘明")


def base_row(app: MultisiteApp) -> str:
    """The hospital's row as drawn ("" when the filter leaves it out)."""
    return next((line for line in screen_text(app).splitlines() if "南明区人民医院" in line), "")


def test_the_institutions_screen_shows_the_nurse_minimum_short_then_met(
    office: Registry, tmp_path: Path
) -> None:
    async def before() -> tuple[str, str, list[list[str]]]:
        app = MultisiteApp(office, today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f3")
            await settle(pilot)
            assert isinstance(app.screen, InstitutionsScreen)
            row = base_row(app)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ContributorsScreen)
            minimum = str(app.screen.query_one("#nurse-minimum", Static).render())
            table = app.screen.query_one("#contributors", DataTable)
            rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
            return row, minimum, rows

    row, minimum, rows = asyncio.run(before())
    assert "2.0/5 short" in row
    assert minimum == "Nurses: counted 2.0 of 5* · short"
    assert {(r[0], r[2]) for r in rows} == {(NURSE_ZHANG, "nurse"), (NURSE_WANG, "nurse")}

    # three more nurses with a full week each: five shares of five
    load(office, tmp_path, "nurses", NURSE_HEADERS, [
        (cert, f"护士{n}", "护士", "520000", HOSPITAL, "2020-07-01")
        for n, cert in enumerate(MORE_NURSES)
    ])  # fmt: skip
    load(office, tmp_path, "contracts", CONTRACT_HEADERS, nurse_contracts(MORE_NURSES))

    async def after() -> str:
        app = MultisiteApp(office, today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f3")
            await settle(pilot)
            await pilot.press("f", "f", "f")  # filter: all (the physicians' base is still short)
            await settle(pilot)
            return base_row(app)

    row = asyncio.run(after())
    assert "5.0/5" in row and "5.0/5 short" not in row  # met: the numbers, without "short"


def test_the_registration_form_files_a_nurse_with_nurse_fields_only(office: Registry) -> None:
    cert = "202352000199"

    async def run() -> str:
        app = MultisiteApp(office, today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f8")
            await settle(pilot)
            form = app.screen
            assert isinstance(form, RegistrationScreen)
            form.query_one("#profession", Select).value = "nurse"
            await settle(pilot)
            for hidden in ("level", "category", "scopes"):
                assert not form.query_one(f"#row-{hidden}").display, hidden
            title = form.query_one("#title", Select)
            assert title.value == NURSE_TITLES[0]
            title.value = "护师"
            for selector, text in (
                ("#cert", cert), ("#name", "杨丽"), ("#region", "520000"),
                ("#institution-query", HOSPITAL),
            ):  # fmt: skip
                widget = form.query_one(selector, Input)
                widget.focus()
                widget.value = text
            await settle(pilot, 0.4)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, PhysicianScreen), str(
                form.query_one("#form-error", Static).render()
            )
            return str(app.screen.query_one("#physician-head", Static).render())

    head = asyncio.run(run())
    assert "杨丽" in head and "nurse" in head and "护师" in head
    (hit,) = find_physicians(office, cert).hits
    assert (hit.profession, hit.title) == ("nurse", "护师")


def test_an_institution_short_of_nurses_only_is_listed_as_short(
    office: Registry, tmp_path: Path
) -> None:
    doctors = ["152520000000102", "152520000000103"]
    load(office, tmp_path, "physicians", PHYSICIAN_HEADERS, [
        (cert, f"医生{n}", "执业医师", "临床", "内科", "主治医师", "520000", HOSPITAL, "2014-03-01")
        for n, cert in enumerate(doctors)
    ])  # fmt: skip
    load(office, tmp_path, "contracts", CONTRACT_HEADERS, [
        (f"D{cert}", cert, HOSPITAL, "主要", "内科", "2026-01-05", "2026-12-31", FULL_WEEK, "40")
        for cert in (DR_PAN, *doctors)
    ])  # fmt: skip

    async def run() -> str:
        app = MultisiteApp(office, today=TODAY, due_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f3")  # the first filter: short or at risk
            await settle(pilot)
            return base_row(app)

    row = asyncio.run(run())
    assert "3.0       3 meets" in row and "2.0/5 short" in row


def test_nurses_where_no_nurse_minimum_applies_are_shown_from_the_stored_result_too(
    office: Registry, tmp_path: Path
) -> None:
    """A clinic (诊所: no nurse minimum) where a nurse practises: the institutions list draws
    her share the first time (computed) and the next time (the stored result), not "–"."""
    clinic, nurse = credit_code("520102", 302), "202152000120"
    load(office, tmp_path, "institutions", INSTITUTION_HEADERS, [
        (clinic, "南明区花果园诊所", "诊所", 0, "520102", "内科", "否", "花果园2号"),
    ])  # fmt: skip
    load(office, tmp_path, "nurses", NURSE_HEADERS, [
        (nurse, "刘静", "护师", "520000", clinic, "2021-07-01"),
    ])  # fmt: skip
    load(office, tmp_path, "contracts", CONTRACT_HEADERS, [
        (f"N{nurse}", nurse, clinic, "主要", "内科", "2026-01-05", "2026-12-31", FULL_WEEK, "40"),
    ])  # fmt: skip

    def clinic_cell() -> str:
        found = {b.institution: b for b in validation_base(office, TODAY, detail=False)}
        return str(nurse_cell(found[clinic]))

    computed, stored = clinic_cell(), clinic_cell()
    assert computed == "1.0/–"  # her share; no minimum to meet
    assert stored == computed
