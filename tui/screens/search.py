"""Practitioner search, the home screen: physicians and nurses (each row says which) appear
as the clerk types.

Digits search certificate numbers, Latin letters pinyin initials (张伟 → ``zw``), anything
else a part of the name. Each keystroke runs one paged query in a worker thread; a newer
keystroke makes an older answer stale, so only the latest query's page is shown.
"""

from __future__ import annotations

import time
from typing import ClassVar

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static

from multisite.escaping import markup
from multisite.i18n import N_, _
from multisite.services.search import PAGE, Page, find_physicians

from ..labels import PROFESSION, profession_label
from ..session import clerk_app, registry
from ..widgets.clip import clip
from ..widgets.footer import ClerkFooter

STATUSES = ("registered", "suspended", "cancelled")


class SearchScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "focus_results", N_("Results"), show=False),
        Binding("pagedown", "page(1)", N_("Next page"), priority=True),
        Binding("pageup", "page(-1)", N_("Previous page"), priority=True),
        Binding("f3", "app.open('institutions')", N_("Institutions")),
        Binding("f4", "app.open('import')", N_("Import")),
        Binding("f5", "app.open('audit')", N_("Audit")),
        Binding("escape", "focus_query", N_("Search"), show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.page: Page | None = None
        self.shown_query: str | None = None  # what the table shows (tests and bench wait on it)
        self.shown_at = 0.0  # perf_counter() when it was shown
        self.widths: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(
            placeholder=_("name, certificate number or pinyin initials (张伟 → zw)"),
            id="query",
            compact=True,
        )
        yield DataTable(id="results", cursor_type="row", zebra_stripes=True)
        yield Static(_("Type to search; Enter opens the physician."), id="search-status")
        yield ClerkFooter()

    def on_mount(self) -> None:
        # fixed widths: the table never grows past the screen (a long institution name is
        # clipped with …) and the columns stand still while the clerk types
        table = self.query_one("#results", DataTable)
        widths = {
            "cert": (_("certificate"), 15),  # 15 digits (a nurse's: 12)
            "name": (_("full name"), 8),  # 姓名 (a person's: "name" is 名称, an institution's)
            "profession": (_("profession"), max(cell_len(profession_label(p)) for p in PROFESSION)),
            "title": (_("title"), 10),
            "status": (_("status"), max(cell_len(_(s)) for s in STATUSES)),
        }
        widths = {k: (label, max(w, cell_len(label))) for k, (label, w) in widths.items()}
        # cell padding (1 each side per column) and the vertical scrollbar (2)
        rest = 80 - 2 - 2 * (len(widths) + 1) - sum(w for _l, w in widths.values())
        self.widths = {k: w for k, (_l, w) in widths.items()} | {"institution": max(rest, 8)}
        for key, (label, width) in widths.items():
            table.add_column(label, width=width, key=key)
        # "main inst.": the column has 13 cells in English, 17 in Chinese (主要执业机构)
        table.add_column(_("main inst."), width=self.widths["institution"], key="inst")
        self.query_one("#query", Input).focus()

    @on(Input.Changed, "#query")
    def _typed(self, event: Input.Changed) -> None:
        self.run_search(event.value, 0)

    @on(Input.Submitted, "#query")
    def _submitted(self) -> None:
        table = self.query_one("#results", DataTable)
        if table.row_count:
            self._open(0)

    @work(thread=True, exclusive=True, group="physician-search")
    def run_search(self, text: str, offset: int) -> None:
        try:
            page = find_physicians(registry(self), text, offset=offset)
        except Exception as error:  # a broken connection: say so, keep the screen usable
            self.app.call_from_thread(self._status, str(error).splitlines()[0])
            return
        self.app.call_from_thread(self._show, page)

    def _show(self, page: Page) -> None:
        if page.query != self.query_one("#query", Input).value:
            return  # stale: the clerk has typed on
        self.page = page
        table = self.query_one("#results", DataTable)
        table.clear()
        for hit in page.hits:
            cells = (hit.cert, hit.name, profession_label(hit.profession), hit.title,
                     _(hit.status), hit.main_institution)  # fmt: skip
            table.add_row(
                *(clip(c, w) for c, w in zip(cells, self.widths.values(), strict=True)),
                key=hit.cert,
            )
        if not page.query.strip():
            self._status(_("Type to search; Enter opens the physician."))
        elif not page.hits:
            self._status(
                _("No physician or nurse matches {query}.").format(query=markup(page.query.strip()))
            )
        else:
            first = page.offset + 1
            self._status(
                _("Results {first}–{last}{more} · PgDn/PgUp pages · Enter opens").format(
                    first=first,
                    last=page.offset + len(page.hits),
                    more=_(" (more)") if page.more else "",
                )
            )
        self.shown_query = page.query
        self.shown_at = time.perf_counter()

    def _status(self, text: str) -> None:
        self.query_one("#search-status", Static).update(text)

    def action_page(self, step: int) -> None:
        page = self.page
        if page is None or (step > 0 and not page.more) or (step < 0 and page.offset == 0):
            return
        self.run_search(page.query, max(0, page.offset + step * PAGE))

    def action_focus_results(self) -> None:
        self.query_one("#results", DataTable).focus()

    def action_focus_query(self) -> None:
        self.query_one("#query", Input).focus()

    @on(DataTable.RowSelected, "#results")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self._open(event.cursor_row)

    def _open(self, row: int) -> None:
        if self.page is not None and 0 <= row < len(self.page.hits):
            clerk_app(self).open_physician(self.page.hits[row].cert)
