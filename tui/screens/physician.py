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
from multisite.escaping import markup, printable
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
from ..widgets.clip import clip
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
    if state == "not yet started":
        # its first day says more than "not yet started", in a third of the width
        return Text(
            _("from {day}").format(day=f"{agreement.start:%m-%d}"), style=STATE_STYLE[state]
        )
    return Text(_(state), style=STATE_STYLE[state])


def short_period(a: AgreementLine) -> str:
    return f"{a.start:%y-%m-%d}–{a.end:%y-%m-%d}"


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
        # the week grid's own line says [ ] 0; the footer keeps 80 columns for the rest
        Binding(
            "left_square_bracket", "week(-1)", N_("Previous week"), key_display="[", show=False
        ),
        Binding("right_square_bracket", "week(1)", N_("Next week"), key_display="]", show=False),
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
        self.institution_width = 10  # fitted to the table's width once it is laid out

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
        self.query_one("#agreements", DataTable).focus()
        self.load()

    def rows(self) -> list[tuple[str, Text, str, str, str, Text]]:
        """The contracts table's cells, the institution clipped to its column."""
        if self.card is None:
            return []
        day = today(self)
        return [
            (
                printable(a.contract_no),
                clip(a.institution_name, self.institution_width),
                _(ROLE_SHORT.get(a.role, a.role)),
                short_period(a),
                f"{a.scheduled_hours:g}/{a.weekly_hours:g}",
                state_label(a, day),
            )
            for a in self.card.agreements
        ]

    def columns(self) -> dict[str, tuple[str, int]]:
        """Label and width of each column of the contracts table, in order: each as wide as
        its header and this physician's values (the contract number at most 18), the
        institution what the table has left (``institution_width``)."""
        rows = self.rows()

        def widest(column: int, label: str, most: int = 80) -> tuple[str, int]:
            cells = [r[column] for r in rows]
            values = [c.plain if isinstance(c, Text) else c for c in cells]
            return label, max(cell_len(label), min(most, max(map(cell_len, values), default=0)))

        label = _("institution")
        return {
            "contract": widest(0, _("contract"), 18),
            "institution": (label, max(cell_len(label), self.institution_width)),
            "role": widest(2, _("type")),
            "period": widest(3, _("period")),
            "hours": widest(4, _("h/week")),
            "status": widest(5, _("status")),
        }

    def _fit_institution(self) -> None:
        """Give the institution column what the table's width leaves (it changes with the
        scrollbars: more than five contracts, or a screen taller than its room), so the
        table never needs scrolling sideways; redraw the rows if it changed. It runs after a
        refresh: the clerk may have closed the screen by then, and nothing is left to fit."""
        found = self.query("#agreements").results(DataTable)
        table = next(found, None)
        if table is None:  # closed: its widgets are gone
            return
        room = table.scrollable_content_region.width
        if room <= 0 or self.card is None:
            return
        others = sum(w for k, (_l, w) in self.columns().items() if k != "institution")
        padding = 2 * table.cell_padding * len(self.columns())
        wanted = max(cell_len(_("institution")), 6, room - others - padding)
        if wanted != self.institution_width:
            self.institution_width = wanted
            self._fill_table(self.card, today(self))

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_institution)

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
        head = f"[b]{markup(card.name)}[/b] · " + markup(" · ".join(self._head(card)))
        head += f" · [red]{status}[/]" if status else ""
        self.query_one("#physician-head", Static).update(head)
        self.query_one("#registrations", Static).update(printable(self._registrations(card, day)))
        self._fill_table(card, day)
        self.draw_week()
        self.query_one("#violations", ViolationList).show([v.as_json() for v in card.violations])

    def _fill_table(self, card: PhysicianCard, day: dt.date) -> None:
        table = self.query_one("#agreements", DataTable)
        kept = self.selected_contract()
        table.clear(columns=True)
        columns = self.columns()
        for key, (label, width) in columns.items():
            table.add_column(label, width=width, key=key)
        contract = columns["contract"][1]
        for row, a in zip(self.rows(), card.agreements, strict=True):
            table.add_row(clip(row[0], contract), *row[1:], key=a.contract_no)
        if kept is not None and card.agreement(kept) is not None:
            table.move_cursor(row=table.get_row_index(kept), animate=False)
        self._describe_selected()
        self.call_after_refresh(self._fit_institution)

    @staticmethod
    def _head(card: PhysicianCard) -> list[str]:
        """Who, in one line at 80 columns: the status first, the scopes last (the certificate
        is in the title bar). A nurse's line has her title and no physician's level, category
        or scopes."""
        parts = [_(card.status)]
        if card.nurse:
            parts += [_("nurse"), card.title]
        else:
            parts += [card.level, card.category, card.title, "、".join(card.scopes)]
        if card.id_masked:
            parts.append(_("ID {masked}").format(masked=card.id_masked))
        return [p for p in parts if p]

    @staticmethod
    def _registrations(card: PhysicianCard, day: dt.date) -> str:
        """A line per registration and per filing, short enough for one line at 80 columns
        on most names: a registration's status only where it differs from the head's."""
        lines = []
        for r in card.registrations:
            line = _("Reg. {region} · main {main} · since {on}").format(
                region=r.region_name, main=r.main_name, on=r.registered_on
            )
            if r.status != card.status:
                line += f" · {_(r.status)}"
            lines.append(line)
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
                    first=f"{f.valid_from:%y-%m-%d}",
                    last=f"{f.valid_to:%y-%m-%d}",
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
