"""One physician: registration and history, filings, agreements, the dated week grid, the
rules' verdict. The agreements cursor stays on its contract across dialogs and refreshes."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from multisite.domain.holidays import HolidayCalendar
from multisite.escaping import markup, plain, printable
from multisite.i18n import N_, _
from multisite.services import ServiceError
from multisite.services.views import (
    AgreementLine,
    PhysicianCard,
    monday_of,
    physician_card,
    week_plan,
)
from multisite.storage import StorageError

from ..labels import ROLE_SHORT, sessions_label
from ..session import registry, today
from ..widgets.footer import ClerkFooter
from ..widgets.violations import ViolationList
from ..widgets.week_grid import WeekGrid

# How a contract stands on a day, as the table says it (services.contracts.state_on).
STATE_STYLE = {
    "active": "green",
    "not yet started": "cyan",
    "terminated": "red",
    "ended": "grey50",
}


def state_label(agreement: AgreementLine, day: dt.date) -> Text:
    state = agreement.state_on(day)
    if state == "active" and agreement.terminated_on is not None:
        # terminated with a last day still to come: in force until then
        return Text(_("until {day}").format(day=f"{agreement.end:%m-%d}"), style="yellow")
    return Text(_(state), style=STATE_STYLE[state])


def short_period(a: AgreementLine) -> str:
    return f"{a.start:%y-%m-%d}–{a.end:%y-%m-%d}"


def clip(text: str, width: int) -> Text:
    out = Text(printable(text), no_wrap=True, overflow="ellipsis")
    out.truncate(width, overflow="ellipsis")
    return out


class PhysicianScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("n", "new_contract", N_("New")),
        Binding("e", "edit_contract", N_("Edit")),
        Binding("t", "terminate", N_("Terminate")),
        Binding("f", "filings", N_("Filings")),
        Binding("s", "suspend", N_("Suspend")),
        Binding("c", "cancel_registration", N_("Cancel reg."), show=False),
        Binding("r", "reinstate", N_("Reinstate"), show=False),
        Binding("left_square_bracket", "week(-1)", N_("Previous week"), key_display="["),
        Binding("right_square_bracket", "week(1)", N_("Next week"), key_display="]"),
        Binding("0", "week(0)", N_("This week"), show=False),
        Binding("k", "credit", N_("Credit record"), show=False),
        Binding("d", "edit_registration", N_("Registration details"), show=False),
    ]

    def __init__(self, cert: str) -> None:
        super().__init__()
        self.cert = cert
        self.card: PhysicianCard | None = None
        self.monday: dt.date | None = None
        self._holidays: HolidayCalendar | None = None
        self.institution_width = 16

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="physician"):
            yield Static(id="physician-head")
            yield Static(id="registrations", markup=False)
            table: DataTable[str | Text] = DataTable(id="agreements", cursor_type="row")
            yield table
            yield Static("", id="agreement-detail", markup=False)
            yield WeekGrid(id="week")
            yield Static(_("Violations and warnings"), classes="section")
            yield ViolationList(id="violations")
        yield ClerkFooter()

    def on_mount(self) -> None:
        table = self.query_one("#agreements", DataTable)
        # fixed widths that add up to 80 columns: the institution takes what is left
        states = [_(s) for s in STATE_STYLE] + [_("until {day}").format(day="12-31")]
        widths = {
            "contract": (_("contract"), 14),
            "role": (_("type"), max(cell_len(_(r)) for r in ROLE_SHORT.values())),
            "period": (_("period"), 17),
            "hours": (_("h/week"), 7),
            "status": (_("status"), max(map(cell_len, states))),
        }
        rest = 74 - sum(w for _label, w in widths.values()) - 2 * (len(widths) + 1)
        for key, (label, width) in widths.items():
            table.add_column(label, width=max(width, cell_len(label)), key=key)
            if key == "contract":
                self.institution_width = max(8, rest)
                table.add_column(_("institution"), width=self.institution_width, key="institution")
        self.load()
        table.focus()

    # -- reading --

    def load(self) -> None:
        try:
            card = physician_card(registry(self), self.cert, today(self))
        except (ServiceError, StorageError) as error:
            self.notify(printable(error), severity="error", markup=False)
            self.app.pop_screen()
            return
        if self._holidays is None:
            self._holidays = registry(self).holiday_calendar()
        self.card = card
        self.sub_title = printable(f"{card.name} {card.cert}")
        day = today(self)
        status = _("listed as dishonest") if card.listed_on(day) else ""
        head = f"[b]{markup(card.name)}[/b] " + markup(" · ".join(self._head(card)))
        head += f" · [red]{status}[/]" if status else ""
        self.query_one("#physician-head", Static).update(head)
        self.query_one("#registrations", Static).update(printable(self._registrations(card, day)))
        self._fill_table(card, day)
        self.draw_week()
        self.query_one("#violations", ViolationList).show([v.as_json() for v in card.violations])

    def _fill_table(self, card: PhysicianCard, day: dt.date) -> None:
        table = self.query_one("#agreements", DataTable)
        kept = self.selected_contract()
        table.clear()
        width = self.institution_width
        for a in card.agreements:
            table.add_row(
                plain(a.contract_no),
                clip(a.institution_name, width),
                _(ROLE_SHORT.get(a.role, a.role)),
                short_period(a),
                f"{a.scheduled_hours:g}/{a.weekly_hours:g}",
                state_label(a, day),
                key=a.contract_no,
            )
        if kept is not None and card.agreement(kept) is not None:
            table.move_cursor(row=table.get_row_index(kept), animate=False)
        self._describe_selected()

    @staticmethod
    def _head(card: PhysicianCard) -> list[str]:
        """Who: a nurse's line has her title and no physician's level, category or scopes."""
        if card.nurse:
            parts = [card.cert, _("nurse"), card.title]
        else:
            parts = [card.cert, card.level, card.category, "、".join(card.scopes), card.title]
        parts.append(_(card.status))
        if card.id_masked:
            parts.append(_("ID {masked}").format(masked=card.id_masked))
        return parts

    @staticmethod
    def _registrations(card: PhysicianCard, day: dt.date) -> str:
        lines = []
        for r in card.registrations:
            lines.append(
                _("Registration {region} · main institution {main} · since {on} · {status}").format(
                    region=r.region_name, main=r.main_name, on=r.registered_on, status=_(r.status)
                )
            )
            for e in r.history[-3:]:
                if e.status == "registered":
                    continue
                until = f"–{e.until}" if e.until else ""
                reason = f" ({e.reason})" if e.reason else ""
                lines.append(f"  {e.on}{until} {_(e.status)}{reason}")
        for f in card.filings:
            lines.append(
                _("Filing {institution} · {scope} · {first}–{last} · {state}").format(
                    institution=f.institution_name,
                    scope=f.scope,
                    first=f.valid_from,
                    last=f.valid_to,
                    state=_(f.state_on(day)),
                )
            )
        return "\n".join(lines) or _("No registration.")

    def draw_week(self) -> None:
        if self.card is None:
            return
        self.monday = self.monday or monday_of(today(self))
        plan = week_plan(self.card.agreements, self.monday, self._holidays)
        self.query_one("#week", WeekGrid).show(plan, today(self))

    # -- the cursor --

    def selected_contract(self) -> str | None:
        table = self.query_one("#agreements", DataTable)
        if not table.row_count:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:  # an empty or cleared table has no cell under the cursor
            return None
        return str(key.value) if key.value is not None else None

    def _selected(self) -> AgreementLine | None:
        no = self.selected_contract()
        found = self.card.agreement(no) if self.card is not None and no else None
        if found is None:
            nurse = self.card is not None and self.card.nurse
            said = (
                _("This nurse has no agreement.")
                if nurse
                else _("This physician has no agreement.")
            )
            self.notify(said, severity="warning")
        return found

    @on(DataTable.RowHighlighted, "#agreements")
    def _describe_selected(self) -> None:
        no = self.selected_contract()
        a = self.card.agreement(no) if self.card is not None and no else None
        detail = self.query_one("#agreement-detail", Static)
        if a is None:
            detail.update(_("No agreement yet: n files a new contract."))
            return
        detail.update(
            printable(
                f"{a.contract_no} · {sessions_label(a)} · {a.department} · "
                f"{a.institution_name} · {a.start}–{a.end}"
            )
        )

    # -- actions --

    def _reload(self, changed: bool | None) -> None:
        if changed:
            self.load()

    def action_week(self, step: int) -> None:
        base = self.monday or monday_of(today(self))
        self.monday = monday_of(today(self)) if step == 0 else base + dt.timedelta(weeks=step)
        self.draw_week()

    def action_new_contract(self) -> None:
        from .contract import ContractScreen

        if self.card is not None:
            self.app.push_screen(ContractScreen(self.card), self._reload)

    def action_edit_contract(self) -> None:
        from .contract import ContractScreen

        chosen = self._selected()
        if self.card is None or chosen is None:
            return
        if chosen.state_on(today(self)) in ("terminated", "ended"):
            self.notify(_("An ended or terminated contract cannot be changed."), severity="warning")
            return
        self.app.push_screen(ContractScreen(self.card, chosen), self._reload)

    def action_terminate(self) -> None:
        from .change import ChangeScreen

        chosen = self._selected()
        if chosen is not None:
            self.app.push_screen(
                ChangeScreen("terminate", self.cert, contract_no=chosen.contract_no),
                self._reload,
            )

    def _registration_change(self, kind: str) -> None:
        from .change import ChangeScreen

        regions = [(r.region, r.region_name) for r in self.card.registrations] if self.card else []
        nurse = self.card is not None and self.card.nurse
        self.app.push_screen(
            ChangeScreen(kind, self.cert, regions=regions, nurse=nurse), self._reload
        )

    def action_suspend(self) -> None:
        self._registration_change("suspend")

    def action_cancel_registration(self) -> None:
        self._registration_change("cancel")

    def action_reinstate(self) -> None:
        self._registration_change("reinstate")

    def action_edit_registration(self) -> None:
        from .registration import RegistrationScreen

        if self.card is not None:
            self.app.push_screen(RegistrationScreen(self.card), self._reload)

    def action_filings(self) -> None:
        from .filings import FilingsScreen

        self.app.push_screen(FilingsScreen(self.cert), self._reload)

    def action_credit(self) -> None:
        from .credit import CreditScreen

        self.app.push_screen(CreditScreen(physician=self.cert), self._reload)
