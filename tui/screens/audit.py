"""The audit log: recent changes, filtered by clerk, physician and institution."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Static

from multisite.escaping import markup, printable
from multisite.i18n import _

from ..session import registry

LIMIT = 200
DEBOUNCE = 0.25


class AuditScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", _("Back")),
        Binding("f6", "focus_table", _("Entries")),
    ]

    def __init__(self, *, physician: str = "", institution: str = "") -> None:
        super().__init__()
        self.initial = {"physician": physician, "institution": institution}
        self.entries: list[Any] = []
        self.loaded = False
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="audit-filters"):
            yield Input(placeholder=_("clerk"), id="clerk")
            yield Input(self.initial["physician"], placeholder=_("physician cert."), id="physician")
            yield Input(
                self.initial["institution"], placeholder=_("institution code"), id="institution"
            )
        table: DataTable[str] = DataTable(id="audit", cursor_type="row", zebra_stripes=True)
        table.add_columns(
            _("time (UTC)"), _("clerk"), _("action"), _("entity"), _("key"), _("physician")
        )
        yield table
        yield Static("", id="audit-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#clerk", Input).focus()
        self.load(self._filters())

    def _filters(self) -> dict[str, str | None]:
        return {
            name: self.query_one(f"#{name}", Input).value.strip().upper() or None
            if name != "clerk"
            else self.query_one("#clerk", Input).value.strip() or None
            for name in ("clerk", "physician", "institution")
        }

    @on(Input.Changed)
    def _changed(self) -> None:
        self.loaded = False
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, lambda: self.load(self._filters()))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_focus_table()

    @work(thread=True, exclusive=True, group="audit")
    def load(self, filters: dict[str, str | None]) -> None:
        entries = registry(self).audit_log(limit=LIMIT, **filters)
        self.app.call_from_thread(self._show, filters, entries)

    def _show(self, filters: dict[str, str | None], entries: list[Any]) -> None:
        if filters != self._filters():
            return
        self.entries = entries
        table = self.query_one("#audit", DataTable)
        table.clear()
        for e in entries:
            table.add_row(
                e.at.strftime("%Y-%m-%d %H:%M"),
                markup(e.clerk),
                _(e.action),
                _(e.entity),
                markup(e.entity_key),
                markup(e.physician_cert or ""),
                key=str(e.id),
            )
        self.query_one("#audit-detail", Static).update(
            _("{n} entries (newest first, at most {limit}).").format(n=len(entries), limit=LIMIT)
        )
        self.loaded = True

    def action_focus_table(self) -> None:
        self.query_one("#audit", DataTable).focus()

    @on(DataTable.RowHighlighted, "#audit")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if not 0 <= event.cursor_row < len(self.entries):
            return
        e = self.entries[event.cursor_row]
        before = json.dumps(e.before, ensure_ascii=False) if e.before else "—"
        after = json.dumps(e.after, ensure_ascii=False) if e.after else "—"
        self.query_one("#audit-detail", Static).update(
            printable(f"{_('before')}: {before[:300]}\n{_('after')}: {after[:300]}")
        )
