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
