"""Pure parts of the clerks' UI: the week grid's cells, labels in Chinese."""

from __future__ import annotations

import asyncio
import datetime as dt

from multisite.tui.app import MultisiteApp
from multisite.tui.widgets.week_grid import Lane, cells

from multisite import i18n
from multisite.domain.sessions_text import parse_sessions
from multisite.services import Registry
from multisite.storage import Database, upgrade


def test_overnight_friday_session_is_drawn_across_midnight_into_saturday() -> None:
    grid = cells([Lane("夜班", tuple(parse_sessions("FR 20:00-08:00")))])
    friday, saturday = grid[4], grid[5]
    assert [bool(c) for c in friday[40:48]] == [True] * 8  # 20:00–24:00
    assert [bool(c) for c in saturday[:16]] == [True] * 16  # 00:00–08:00
    assert not saturday[16] and not friday[39]


def test_sunday_night_wraps_into_monday_and_clashes_show_both_lanes() -> None:
    grid = cells(
        [
            Lane("A", tuple(parse_sessions("SU 22:00-02:00"))),
            Lane("B", tuple(parse_sessions("MO 01:00-03:00"))),
        ]
    )
    assert grid[6][44] == {0}
    assert grid[0][2] == {0, 1}  # Monday 01:00: both institutions
    assert grid[0][4] == {1}


def test_labels_follow_the_language(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(db.engine)
    i18n.set_language("zh")

    async def run() -> str:
        app = MultisiteApp(Registry(db, "窗口"), today=dt.date(2026, 1, 5))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            return str(app.screen.query_one("#query").placeholder)  # type: ignore[attr-defined]

    try:
        assert asyncio.run(run()).startswith("姓名、执业证书编码或拼音首字母")
    finally:
        i18n.set_language("en")
        db.dispose()


def test_every_institution_kind_has_a_label_that_fits_its_column():
    """The institutions table's kind column holds 8 cells: every kind of the national
    standard and of the vocabulary gets a short label that fits (三级综合医院 → 三级综合), and
    an unknown long kind loses its 医院 before it is clipped."""
    import json
    from pathlib import Path

    from multisite.tui.screens.institutions import KIND_WIDTH, short_kind
    from rich.cells import cell_len

    data = Path(__file__).resolve().parent.parent / "src" / "multisite" / "data"
    staffing = json.loads((data / "staffing_defaults.json").read_text(encoding="utf-8"))
    vocabulary = json.loads((data / "vocabulary.json").read_text(encoding="utf-8"))
    kinds = {k for k in staffing if not k.startswith("_")} | set(vocabulary["kinds"])
    too_long = {k: short_kind(k) for k in kinds if cell_len(short_kind(k)) > KIND_WIDTH}
    assert too_long == {}
    assert short_kind("二级中医医院") == "二级中医"
    assert short_kind("诊所") == "诊所"


def test_contract_status_column_says_when_a_contract_starts_or_stops() -> None:
    """The physician's contracts table reads each contract's state on the day, in the few
    columns 80 leave it: one starting later "from MM-DD", one terminated with a later last
    day "until MM-DD", otherwise active / ended / terminated."""
    from multisite.tui.screens.physician import state_label

    from multisite.services.contracts import ContractTerms
    from multisite.services.views import AgreementLine

    def line(start: dt.date, end: dt.date, terminated: dt.date | None = None) -> AgreementLine:
        terms = ContractTerms(start, end, (), "", "", "", "", "")
        return AgreementLine("HT-1", "C1", "医院", "additional", "内科", start, end, end,
                             terminated, 8, 8, (), True, "active", terms)  # fmt: skip

    day = dt.date(2026, 3, 2)
    assert state_label(line(dt.date(2026, 3, 9), dt.date(2026, 12, 31)), day).plain == "from 03-09"
    later = line(dt.date(2026, 1, 1), dt.date(2026, 3, 31), terminated=dt.date(2026, 3, 1))
    assert state_label(later, day).plain == "until 03-31"
    assert state_label(line(dt.date(2026, 1, 1), dt.date(2026, 12, 31)), day).plain == "active"
    assert state_label(line(dt.date(2025, 1, 1), dt.date(2025, 12, 31)), day).plain == "ended"
    i18n.set_language("zh")
    try:
        assert state_label(line(dt.date(2026, 3, 9), dt.date(2026, 12, 31)), day).plain == "自03-09"
    finally:
        i18n.set_language("en")
