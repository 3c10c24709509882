"""The audit log: newest first in local time (Asia/Shanghai), filtered by dates, action,
clerk, physician and institution; the highlighted entry as a before → after diff with names
instead of internal ids."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Header, Input, Select, Static

from multisite.escaping import markup, printable
from multisite.i18n import N_, _
from multisite.importing.normalize import ValueProblem, parse_date
from multisite.services.views import AuditLine, audit_actions, audit_lines

from ..session import registry
from ..widgets.footer import ClerkFooter

LIMIT = 200
DEBOUNCE = 0.25
ANY = "*"
ENTITIES = {
    "agreement": N_("contract"), "physician": N_("physician"), "institution": N_("institution"),
    "registration": N_("registration"), "filing": N_("filing"), "region": N_("region"),
    "feed_token": N_("feed URL"), "holiday_year": N_("holidays"), "policy": N_("policy"),
    "staffing": N_("staffing"), "vocabulary": N_("vocabulary"), "credit_listing":
    N_("credit listing"), "credit_points": N_("credit points"), "clerk": N_("clerk"),
}  # fmt: skip
ACTIONS = {
    "create": N_("create"), "update": N_("update"), "terminate": N_("terminate"),
    "suspend": N_("suspend"), "cancel": N_("cancel"), "reinstate": N_("reinstate"),
    "issue": N_("issue"), "revoke": N_("revoke"), "import": N_("import"), "extend": N_("extend"),
    "renew": N_("renew"), "end": N_("end"), "delete": N_("delete"), "set": N_("set"),
    "unset": N_("unset"), "add": N_("add"), "remove": N_("remove"),
}  # fmt: skip


def action_label(action: str) -> str:
    return _(ACTIONS.get(action, action))


def entity_label(entity: str) -> str:
    return _(ENTITIES.get(entity, entity))


class AuditScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("f9", "focus_table", N_("Entries")),
    ]

    def __init__(self, *, physician: str = "", institution: str = "") -> None:
        super().__init__()
        self.initial = {"physician": physician, "institution": institution}
        self.entries: list[AuditLine] = []
        self.loaded = False
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="audit-filters"):
            yield Input(placeholder=_("from (date)"), id="first_day", compact=True)
            yield Input(placeholder=_("to (date)"), id="last_day", compact=True)
            yield Select(
                [(_("every action"), ANY)], value=ANY, allow_blank=False, id="action", compact=True
            )
        with Horizontal(id="audit-filters2"):
            yield Input(placeholder=_("clerk"), id="clerk", compact=True)
            yield Input(
                self.initial["physician"], placeholder=_("physician cert."), id="physician",
                compact=True,
            )  # fmt: skip
            yield Input(
                self.initial["institution"], placeholder=_("institution code"), id="institution",
                compact=True,
            )  # fmt: skip
        table: DataTable[str] = DataTable(id="audit", cursor_type="row", zebra_stripes=True)
        table.add_columns(_("time"), _("clerk"), _("action"), _("entity"), _("key"))
        yield table
        yield Static("", id="audit-status")
        yield Static("", id="audit-detail", markup=False)
        yield ClerkFooter()

    def on_mount(self) -> None:
        self.query_one("#first_day", Input).focus()
        actions = audit_actions(registry(self))
        self.query_one("#action", Select).set_options(
            [(_("every action"), ANY)] + [(action_label(a), a) for a in actions]
        )
        self.load(self._filters())

    def _filters(self) -> dict[str, object]:
        def text(name: str) -> str:
            return self.query_one(f"#{name}", Input).value.strip()

        def day(name: str) -> dt.date | None:
            try:
                return parse_date(text(name)) if text(name) else None
            except ValueProblem:
                return None

        action = self.query_one("#action", Select).value
        return {
            "clerk": text("clerk") or None,
            "physician": text("physician").upper() or None,
            "institution": text("institution").upper() or None,
            "action": None if action == ANY else str(action),
            "first_day": day("first_day"),
            "last_day": day("last_day"),
        }

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self.loaded = False
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, lambda: self.load(self._filters()))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_focus_table()

    @work(thread=True, exclusive=True, group="audit")
    def load(self, filters: dict[str, object]) -> None:
        entries = audit_lines(registry(self), limit=LIMIT, **filters)  # type: ignore[arg-type]
        self.app.call_from_thread(self._show, filters, entries)

    def _show(self, filters: dict[str, object], entries: list[AuditLine]) -> None:
        if filters != self._filters():
            return
        self.entries = entries
        table = self.query_one("#audit", DataTable)
        table.clear()
        for e in entries:
            table.add_row(
                e.at.strftime("%Y-%m-%d %H:%M"),
                markup(e.clerk),
                action_label(e.action),
                entity_label(e.entity),
                markup(e.key),
                key=str(e.id),
            )
        if entries:
            status = _("{n} entries, newest first (at most {limit}), local time.").format(
                n=len(entries), limit=LIMIT
            )
        else:
            status = _("No entries match these filters.")
        self.query_one("#audit-status", Static).update(status)
        self.query_one("#audit-detail", Static).update("")
        self.loaded = True

    def action_focus_table(self) -> None:
        self.query_one("#audit", DataTable).focus()

    @on(DataTable.RowHighlighted, "#audit")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if not 0 <= event.cursor_row < len(self.entries):
            return
        e = self.entries[event.cursor_row]
        # when (local time) and who first: the table's columns are cut at 80×24
        head = (
            f"{e.at:%Y-%m-%d %H:%M} · {e.clerk} · "
            f"{action_label(e.action)} {entity_label(e.entity)} {e.key}"
        )
        if e.physician:
            head += " · " + _("physician {cert}").format(cert=e.physician)
        lines = [head] + [f"{c.field}: {c.before} → {c.after}" for c in e.changes]
        if not e.changes:
            lines.append(_("No field changed."))
        self.query_one("#audit-detail", Static).update(printable("\n".join(lines)))
