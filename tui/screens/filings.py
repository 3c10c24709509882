"""The filings (备案) of one physician: each institution's filing, its state by date and its
history; renew (r) or end (x) the one under the cursor through the service."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from multisite.escaping import plain, printable
from multisite.i18n import N_, _
from multisite.services import ServiceError
from multisite.services.filings import FilingView

from ..session import registry, today
from ..widgets.footer import ClerkFooter
from .dialog import Field, FormDialog, date_field

STATE_STYLE = {"in force": "green", "not yet valid": "cyan", "lapsed": "yellow", "ended": "red"}


class FilingsScreen(Screen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", N_("Back")),
        Binding("r", "renew", N_("Renew")),
        Binding("x", "end", N_("End filing")),
    ]

    def __init__(self, cert: str) -> None:
        super().__init__()
        self.cert = cert
        self.filings: list[FilingView] = []
        self.changed = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(_("Filings of {cert}").format(cert=self.cert), classes="section")
        table: DataTable[str | Text] = DataTable(id="filings-table", cursor_type="row")
        table.add_columns(_("institution"), _("scope"), _("valid"), _("state"), _("number"))
        yield table
        yield Static("", id="filings-status", markup=False)
        yield ClerkFooter()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#filings-table", DataTable).focus()

    def load(self) -> None:
        try:
            self.filings = registry(self).filings(self.cert)
        except ServiceError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        table = self.query_one("#filings-table", DataTable)
        row = table.cursor_row
        table.clear()
        day = today(self)
        for f in self.filings:
            state = f.state_on(day)
            table.add_row(
                plain(f.institution_name),
                plain(f.scope),
                f"{f.valid_from:%y-%m-%d}–{f.valid_to:%y-%m-%d}",
                Text(_(state), style=STATE_STYLE.get(state, "")),
                plain(f.number or "—"),
                key=str(f.id),
            )
        if self.filings:
            table.move_cursor(row=min(row, len(self.filings) - 1))
        else:
            self._status(_("No filing: an additional contract files one when it is saved."))

    def _status(self, text: str) -> None:
        self.query_one("#filings-status", Static).update(text)

    def selected(self) -> FilingView | None:
        table = self.query_one("#filings-table", DataTable)
        if not self.filings:
            self.notify(_("This physician has no filing."), severity="warning")
            return None
        return self.filings[max(0, min(table.cursor_row, len(self.filings) - 1))]

    @on(DataTable.RowHighlighted, "#filings-table")
    def _history(self, event: DataTable.RowHighlighted) -> None:
        if not 0 <= event.cursor_row < len(self.filings):
            return
        f = self.filings[event.cursor_row]
        lines = [
            f"{e.on} {_(e.action)} {e.valid_from}–{e.valid_to}"
            + (f" · {e.authority}" if e.authority else "")
            + (f" · {e.contract_no}" if e.contract_no else "")
            + (f" · {e.reason}" if e.reason else "")
            for e in f.history[-4:]
        ]
        self._status(printable("\n".join(lines)))

    def _done(self, changed: bool | None) -> None:
        if changed:
            self.changed = True
            self.load()

    def action_renew(self) -> None:
        f = self.selected()
        if f is None:
            return
        reg = registry(self)

        def apply(v: Mapping[str, Any]) -> str:
            change = reg.renew_filing(
                self.cert, f.institution_code, v["until"], authority=v["authority"],
                number=v["number"], start=v["start"],
            )  # fmt: skip
            return _("Filing at {institution} valid until {until}.").format(
                institution=change.filing.institution_name, until=change.filing.valid_to
            )

        fields = [
            date_field("until", _("Valid until")),
            Field("authority", _("Authority"), f.authority, required=False),
            Field("number", _("Filing no."), "", required=False),
        ]
        if f.ended_on is not None:
            fields.append(date_field("start", _("Valid from"), required=False))
        else:
            fields.append(Field("start", _("Valid from"), "", "date", False, _("unchanged")))
        self.app.push_screen(
            FormDialog(
                _("Renew the filing at {institution}").format(institution=f.institution_name),
                fields,
                apply,
            ),
            self._done,
        )

    def action_end(self) -> None:
        f = self.selected()
        if f is None:
            return
        reg = registry(self)

        def apply(v: Mapping[str, Any]) -> str:
            change = reg.end_filing(self.cert, f.institution_code, v["on"], v["reason"])
            errors = len(change.violations)
            return _("Filing at {institution} ends on {on}; {n} contract problems.").format(
                institution=f.institution_name, on=v["on"], n=errors
            )

        self.app.push_screen(
            FormDialog(
                _("End the filing at {institution}").format(institution=f.institution_name),
                [date_field("on", _("Last day"), today(self)), Field("reason", _("Reason"))],
                apply,
                note=_("Contracts at this institution after the last day become PERIOD errors."),
            ),
            self._done,
        )

    def action_back(self) -> None:
        self.dismiss(self.changed)
