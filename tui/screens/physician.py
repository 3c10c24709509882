"""One physician: registration and history, filings, agreements, the week grid, violations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from multisite.domain.sessions_text import parse_sessions
from multisite.escaping import markup, printable
from multisite.i18n import _
from multisite.importing.normalize import ValueProblem
from multisite.services import ServiceError
from multisite.services.views import physician_view
from multisite.storage import StorageError

from ..session import registry, today
from ..widgets.violations import ViolationList
from ..widgets.week_grid import Lane, WeekGrid


def lanes_in_force(agreements: list[Mapping[str, Any]], on: dt.date) -> list[Lane]:
    """One lane per institution of the agreements active on or after ``on``."""
    slots: dict[str, list[Any]] = {}
    names: dict[str, str] = {}
    for a in agreements:
        if a["status"] != "active" or dt.date.fromisoformat(a["end"]) < on:
            continue
        code = a["institution"]["code"]
        names[code] = a["institution"]["name"]
        try:
            slots.setdefault(code, []).extend(parse_sessions("; ".join(a["sessions"])))
        except ValueProblem:
            continue  # stored sessions always parse; a surprise must not break the screen
    return [Lane(names[code], tuple(found)) for code, found in slots.items()]


class PhysicianScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", _("Back")),
        Binding("n", "new_contract", _("New contract")),
        Binding("e", "edit_contract", _("Edit")),
        Binding("t", "terminate", _("Terminate")),
        Binding("s", "suspend", _("Suspend")),
        Binding("c", "cancel_registration", _("Cancel reg.")),
    ]

    def __init__(self, cert: str) -> None:
        super().__init__()
        self.cert = cert
        self.view: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="physician"):
            yield Static(id="physician-head")
            yield Static(id="registrations", markup=False)
            yield Static(_("Agreements"), classes="section")
            table: DataTable[str] = DataTable(id="agreements", cursor_type="row")
            table.add_columns(
                _("contract"),
                _("institution"),
                _("role"),
                _("period"),
                _("h/week"),
                _("status"),
            )
            yield table
            yield Static(_("Week"), classes="section")
            yield WeekGrid(id="week")
            yield Static(_("Violations and warnings"), classes="section")
            yield ViolationList(id="violations")
        yield Footer()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#agreements", DataTable).focus()

    def load(self) -> None:
        try:
            view = physician_view(registry(self), self.cert, today(self))
        except (ServiceError, StorageError) as error:
            self.notify(printable(error), severity="error", markup=False)
            self.app.pop_screen()
            return
        except Exception as error:  # the clerk gets one sentence; the screen stays usable
            self.notify(
                _("Could not read physician {cert}: {kind}.").format(
                    cert=self.cert, kind=type(error).__name__
                ),
                severity="error",
            )
            self.app.pop_screen()
            return
        self.view = view
        self.sub_title = printable(f"{view['name']} {view['cert']}")
        head = f"[b]{markup(view['name'])}[/b]  " + markup(
            f"{view['cert']}  {view['level']} · {view['category']} · "
            f"{'、'.join(view['scopes'])} · {view['title']} · {_('status')}: "
            f"{_(view['status'])}"
        )
        self.query_one("#physician-head", Static).update(head)
        self.query_one("#registrations", Static).update(printable(self._registrations(view)))
        table = self.query_one("#agreements", DataTable)
        table.clear()
        for a in view["agreements"]:
            table.add_row(
                markup(a["contract_no"]),
                markup(a["institution"]["name"]),
                _(a["role"]),
                f"{a['start']}–{a['end']}",
                f"{a['scheduled_hours']:g}/{a['weekly_hours']:g}",
                _(a["status"]),
                key=a["contract_no"],
            )
        self.query_one("#week", WeekGrid).show(lanes_in_force(view["agreements"], today(self)))
        self.query_one("#violations", ViolationList).show(view["violations"])

    @staticmethod
    def _registrations(view: Mapping[str, Any]) -> str:
        lines = []
        for r in view["registrations"]:
            main = r["main_institution"]
            lines.append(
                f"{_('Registration')} {r['region']} {r['region_name']} · {_('main institution')}: {main['name']} "
                f"({main['code']}) · {_('since')} {r['registered_on']} · {_(r['status'])}"
            )
            for e in r["history"]:
                until = f"–{e['until']}" if e.get("until") else ""
                reason = f" ({e['reason']})" if e.get("reason") else ""
                lines.append(f"  {e['on']}{until} {_(e['status'])}{reason}")
        for f in view["filings"]:
            lines.append(
                f"{_('Filing')}: {f['institution']['name']} · {f['scope']} · "
                f"{f['valid_from']}–{f['valid_to']}"
            )
        return "\n".join(lines) or _("No registration.")

    # -- actions --

    def _selected(self) -> dict[str, Any] | None:
        table = self.query_one("#agreements", DataTable)
        if self.view is None or not table.row_count:
            self.notify(_("This physician has no agreement."), severity="warning")
            return None
        row = table.cursor_row
        agreements = self.view["agreements"]
        return dict(agreements[row]) if 0 <= row < len(agreements) else None

    def _reload(self, changed: bool | None) -> None:
        if changed:
            self.load()

    def action_new_contract(self) -> None:
        from .contract import ContractScreen

        if self.view is not None:
            self.app.push_screen(ContractScreen(self.view), self._reload)

    def action_edit_contract(self) -> None:
        from .contract import ContractScreen

        chosen = self._selected()
        if self.view is None or chosen is None:
            return
        if chosen["status"] != "active":
            self.notify(_("A terminated contract cannot be changed."), severity="warning")
            return
        self.app.push_screen(ContractScreen(self.view, chosen), self._reload)

    def action_terminate(self) -> None:
        from .change import ChangeScreen

        chosen = self._selected()
        if chosen is not None:
            self.app.push_screen(
                ChangeScreen("terminate", self.cert, contract_no=chosen["contract_no"]),
                self._reload,
            )

    def action_suspend(self) -> None:
        from .change import ChangeScreen

        self.app.push_screen(ChangeScreen("suspend", self.cert), self._reload)

    def action_cancel_registration(self) -> None:
        from .change import ChangeScreen

        self.app.push_screen(ChangeScreen("cancel", self.cert), self._reload)
