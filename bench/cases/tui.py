"""The clerks' UI, driven headless (Textual Pilot) on the cached region.

* keystroke → search results: the input holds ``z``, then ``w`` is pressed (``zw``); timed
  until the results table shows that query's page. Baseline: the bare indexed SELECT of
  the same page (``storage/search.py``'s query, executed directly).
* physician view: from the search screen, the physician screen is pushed and timed until it
  is the screen shown with the physician's card loaded (registrations, contracts, week grid,
  violations: what ``physician_card`` reads); its first paint follows. Baseline: one indexed
  SELECT of that physician's row and their session rows.

The app runs at 80×24, as a clerk's terminal. Issue 14 sets absolute targets (100 ms,
200 ms on the 300,000-physician region): the product column is the absolute time (best of
the repeats), the note names the target.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from multisite.tui.app import MultisiteApp
from multisite.tui.screens.physician import PhysicianScreen
from multisite.tui.screens.search import SearchScreen
from run import Case, Env  # type: ignore[import-not-found]
from sqlalchemy import select
from textual import events
from textual._context import active_app

from multisite.services import Registry
from multisite.storage import Database
from multisite.storage.models import Physician, WorkSession
from multisite.storage.search import physician_page_query

TODAY = dt.date(2026, 11, 28)


class Driver:
    """A running headless app in its own thread; ``call`` runs a coroutine against the pilot."""

    def __init__(self, registry: Registry) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stop: asyncio.Event | None = None
        # the timed paths start on the search screen, not on what is due this week
        self.app = MultisiteApp(registry, today=TODAY, due_on_start=False)
        self.pilot: Any = None
        threading.Thread(
            target=self.loop.run_until_complete, args=(self._run(),), daemon=True
        ).start()
        self.ready.wait(30)

    async def _run(self) -> None:
        self.stop = asyncio.Event()
        async with self.app.run_test(size=(80, 24)) as pilot:  # the clerks' terminal
            self.pilot = pilot
            await pilot.pause()
            self.ready.set()
            await self.stop.wait()

    def call(self, make: Callable[[], Awaitable[Any]]) -> Any:
        async def in_app_context() -> Any:
            active_app.set(self.app)  # a coroutine sent from another thread lacks it
            return await make()

        return asyncio.run_coroutine_threadsafe(in_app_context(), self.loop).result(60)

    def close(self) -> None:
        assert self.stop is not None
        self.loop.call_soon_threadsafe(self.stop.set)


async def until(condition: Callable[[], bool], pilot: Any, what: str = "") -> None:
    deadline = asyncio.get_running_loop().time() + 20
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(
                f"the app never showed {what} (screen: {pilot.app.screen!r}, "
                f"error: {pilot.app._exception!r})"
            )
        await asyncio.sleep(0.001)
    await asyncio.sleep(0)


def cases(env: Env) -> list[Case]:
    db = Database(env.url)
    registry = Registry(db, "bench")
    with db.read() as s:
        cert = s.scalar(
            select(Physician.cert_no)
            .join(WorkSession, WorkSession.physician_id == Physician.id)
            .order_by(Physician.id)
            .limit(1)
        )
    state: dict[str, Any] = {}

    def driver() -> Driver:
        if "driver" not in state:
            state["driver"] = Driver(registry)
        return state["driver"]

    def search_screen() -> SearchScreen:
        screen = driver().app.screen
        assert isinstance(screen, SearchScreen)
        return screen

    # -- keystroke to results --

    def before_keystroke() -> None:
        d = driver()

        async def go() -> None:
            while not isinstance(d.app.screen, SearchScreen):
                d.app.pop_screen()
                await d.pilot.pause()
            screen = search_screen()
            screen.query_one("#query").value = "z"  # type: ignore[attr-defined]
            await until(lambda: screen.shown_query == "z", d.pilot)

        d.call(go)

    def keystroke() -> None:
        d = driver()

        async def go() -> None:
            # the key goes in as the terminal driver delivers it (Pilot.press would add its
            # own wait for the whole screen to fall idle: ~90 ms of harness, not of the app)
            key = events.Key("w", "w")
            key.set_sender(d.app)
            assert d.app._driver is not None
            d.app._driver.send_message(key)
            screen = search_screen()
            await until(lambda: screen.shown_query == "zw", d.pilot)
            assert screen.page is not None and screen.page.hits

        d.call(go)

    def bare_select() -> None:
        with db.read() as s:
            rows = s.execute(physician_page_query("zw", 21, 0)).all()
        assert rows

    # -- physician view --

    def open_view() -> None:
        d = driver()

        async def go() -> None:
            d.app.open_physician(cert)
            await until(
                lambda: isinstance(d.app.screen, PhysicianScreen) and d.app.screen.card is not None,
                d.pilot,
            )

        d.call(go)

    def physician_rows() -> None:
        with db.read() as s:
            p = s.scalars(select(Physician).where(Physician.cert_no == cert)).one()
            list(s.scalars(select(WorkSession).where(WorkSession.physician_id == p.id)))

    search_case = Case(
        "TUI keystroke → search results (headless)",
        keystroke,
        bare_select,
        target=None,
        setup=before_keystroke,
        repeat=7,
        note="target: results within 100 ms of the keystroke; baseline: the bare indexed "
        "SELECT of the same page",
    )
    view_case = Case(
        "TUI physician view opens (headless)",
        open_view,
        physician_rows,
        target=None,
        setup=before_keystroke,
        repeat=7,
        note="target: the view within 200 ms; baseline: one indexed SELECT of the physician "
        "and their sessions",
    )
    return [search_case, view_case]
