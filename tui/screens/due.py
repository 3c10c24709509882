"""Due (到期提醒): what ends, lapses or falls due in the next days — ``multisite due`` for clerks.

The app opens it on start when something is due within the week. Enter on a row opens the
physician it concerns; ``+``/``-`` widen or narrow the window.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.cells import cell_len
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from multisite.i18n import N_, _
from multisite.services import Registry
from multisite.services.due import KINDS, DueItem, due_items

from ..session import clerk_app, registry, today
from ..widgets.clip import clip
from ..widgets.footer import ClerkFooter

# The palette's entry for this screen
TITLE = N_("Due: contracts, filings, suspensions, validations")
HELP = N_("what ends or falls due in the next days")
WINDOWS = (7, 30, 90, 365)
WEEK = 6  # today and the six days after it
REFERENCE = 14  # a contract number as the demo and most offices write it: HT2025-0001234


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
        yield DataTable(id="due", cursor_type="row", zebra_stripes=True)
        yield ClerkFooter()

    def on_mount(self) -> None:
        self.query_one("#due", DataTable).focus()
        self.load(self.within)

    @work(thread=True, exclusive=True, group="due")
    def load(self, within: int) -> None:
        items = due_items(registry(self), within, today(self))
        self.app.call_from_thread(self._show, within, items)

    def _widths(self) -> dict[str, tuple[str, int]]:
        """Fixed widths that fit the screen (80 columns first): the institution takes what is
        left, so the reference (编号) is never cut off at the right edge."""
        widths = {
            "due": (_("due"), 10),
            "what": (_("what"), max(cell_len(_(k)) for k in KINDS.values())),
            "physician": (_("practitioner"), 8),  # physicians and nurses (执业人员)
            "reference": (_("reference"), REFERENCE),
        }
        widths = {k: (label, max(w, cell_len(label))) for k, (label, w) in widths.items()}
        # cell padding (1 each side per column) and the vertical scrollbar (2)
        rest = max(self.size.width, 80) - 2 - 2 * 5 - sum(w for _l, w in widths.values())
        label = _("institution")
        widths["institution"] = (label, max(rest, cell_len(label), 6))
        return widths

    def _show(self, within: int, items: list[DueItem]) -> None:
        self.within, self.items = within, items
        table = self.query_one("#due", DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        widths = self._widths()
        for key in ("due", "what", "physician", "institution", "reference"):
            label, width = widths[key]
            table.add_column(label, width=width, key=key)
        week_end = today(self) + dt.timedelta(days=WEEK)
        for n, x in enumerate(items):
            when = x.due.isoformat()
            table.add_row(
                f"[b]{when}[/b]" if x.due <= week_end else when,
                clip(x.label, widths["what"][1]),
                clip(x.physician_name or "-", widths["physician"][1]),
                clip(x.institution_name or "-", widths["institution"][1]),
                clip(x.reference, widths["reference"][1]),
                key=str(n),
            )
        if items:
            table.move_cursor(row=min(row, len(items) - 1))
        status = _("{n} items due within {days} days from {on}.").format(
            n=len(items), days=within, on=today(self).isoformat()
        )
        self.query_one("#due-status", Static).update(
            status if items else _("Nothing is due within {days} days.").format(days=within)
        )
        self.loaded = True

    def on_resize(self, event: events.Resize) -> None:
        if self.loaded:
            self._show(self.within, self.items)

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
