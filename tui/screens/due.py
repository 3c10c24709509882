"""Due (到期提醒): what ends, lapses or falls due in the next days — ``multisite due`` for clerks.

The app opens it on start when something is due within the week. Enter on a row opens the
physician it concerns; ``+``/``-`` widen or narrow the window.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from multisite.escaping import markup
from multisite.i18n import N_, _
from multisite.services import Registry
from multisite.services.due import DueItem, due_items

from ..session import clerk_app, registry, today
from ..widgets.footer import ClerkFooter

# The palette's entry for this screen
TITLE = N_("Due: contracts, filings, suspensions, validations")
HELP = N_("what ends or falls due in the next days")
WINDOWS = (7, 30, 90, 365)
WEEK = 6  # today and the six days after it


def due_this_week(app_registry: Registry, on: dt.date) -> bool:
    """Whether anything is due from ``on`` to six days later (the app opens the screen)."""
    return bool(due_items(app_registry, WEEK, on))


class DueScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("plus,equals_sign", "widen", N_("More days")),
        Binding("minus", "narrow", N_("Fewer days")),
    ]

    def __init__(self, within: int = 30) -> None:
        super().__init__()
        self.within = within
        self.items: list[DueItem] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="due-status")
        table: DataTable[str] = DataTable(id="due", cursor_type="row", zebra_stripes=True)
        table.add_columns(_("due"), _("what"), _("physician"), _("institution"), _("reference"))
        yield table
        yield ClerkFooter()

    def on_mount(self) -> None:
        self.query_one("#due", DataTable).focus()
        self.load(self.within)

    @work(thread=True, exclusive=True, group="due")
    def load(self, within: int) -> None:
        items = due_items(registry(self), within, today(self))
        self.app.call_from_thread(self._show, within, items)

    def _show(self, within: int, items: list[DueItem]) -> None:
        self.within, self.items = within, items
        table = self.query_one("#due", DataTable)
        table.clear()
        week_end = today(self) + dt.timedelta(days=WEEK)
        for n, x in enumerate(items):
            when = x.due.isoformat()
            table.add_row(
                f"[b]{when}[/b]" if x.due <= week_end else when,
                x.label,
                markup(x.physician_name or "-"),
                markup(x.institution_name or "-"),
                markup(x.reference),
                key=str(n),
            )
        status = _("{n} items due within {days} days from {on}.").format(
            n=len(items), days=within, on=today(self).isoformat()
        )
        self.query_one("#due-status", Static).update(
            status if items else _("Nothing is due within {days} days.").format(days=within)
        )
        self.loaded = True

    def action_widen(self) -> None:
        wider = [w for w in WINDOWS if w > self.within]
        if wider:
            self.loaded = False
            self.load(wider[0])

    def action_narrow(self) -> None:
        narrower = [w for w in WINDOWS if w < self.within]
        if narrower:
            self.loaded = False
            self.load(narrower[-1])

    @on(DataTable.RowSelected, "#due")
    def _selected(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self.items):
            cert = self.items[event.cursor_row].physician
            if cert:
                clerk_app(self).open_physician(cert)
