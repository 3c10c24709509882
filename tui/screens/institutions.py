"""Institutions and their validation base (医师基数) with the nurse minimum beside it: short or
at risk first, then drill down.

The region's institutions (40,000 in a province) are one list in memory, filtered and sorted
in Python and drawn by a :class:`VirtualTable` that renders only the rows in view. Enter in the
find box opens the first match; Enter on a row opens its contributors; Enter on a contributor
opens the physician, and Esc walks back the same way.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Header, Input, Static

from multisite.domain import regions
from multisite.escaping import markup, plain, printable
from multisite.i18n import N_, _
from multisite.services.validation_base import REASONS, InstitutionBase, risk_label, validation_base

from ..labels import ROLE_SHORT, profession_label
from ..session import clerk_app, registry, today
from ..widgets.footer import ClerkFooter
from ..widgets.virtual_table import Column, TableHeader, VirtualTable

FILTERS = ("problems", "short", "at_risk", "all")
SORTS = ("shortfall", "name", "kind", "counted", "required", "at_risk")
FILTER_LABELS = {
    "problems": N_("short or at risk"),
    "short": N_("short"),
    "at_risk": N_("at risk"),
    "all": N_("all"),
}
SORT_LABELS = {
    "shortfall": N_("shortfall"),
    "name": N_("name"),
    "kind": N_("kind"),
    "counted": N_("counted"),
    "required": N_("minimum"),
    "at_risk": N_("at risk"),
}


def amount(value: float, counting: str) -> str:
    """What a clerk reads: one decimal for fte shares, whole physicians otherwise."""
    return f"{value:.1f}" if counting == "fte" else f"{value:.0f}"


def keep(base: InstitutionBase, mode: str, text: str) -> bool:
    """Whether the filter shows ``base``: short is short of physicians or of nurses (either
    fails the licence validation)."""
    short = base.status == "short" or base.nurse_status == "short"
    risky = base.risk_count > 0
    wanted = {"problems": short or risky, "short": short, "at_risk": risky, "all": True}[mode]
    return wanted and (not text or text in base.name or base.institution.startswith(text.upper()))


def columns() -> list[Column]:
    return [
        Column(_("institution"), None),
        Column(_("counted"), max(6, cell_len(_("counted"))), right=True),
        Column(_("minimum"), max(6, cell_len(_("minimum"))), right=True),
        Column(_("status"), 8),
        Column(_("nurses"), 11),
        Column(_("at risk"), 15),
        Column(_("kind"), 8),
    ]


def has_nurse_minimum(b: InstitutionBase) -> bool:
    return b.nurse_required > 0 or b.nurse_count > 0


def nurse_cell(b: InstitutionBase) -> Text:
    """The nurse minimum beside the physicians' base: counted/required, met or short."""
    if not has_nurse_minimum(b):
        return Text("–", style="dim")
    short = b.nurse_status == "short"
    return Text(
        f"{amount(b.nurse_counted, b.counting)}/{b.nurse_required:g} {_(b.nurse_status)}",
        style="bold red" if short else "green",
    )


def cells(b: InstitutionBase) -> tuple[str | Text, ...]:
    status = Text(_(b.status), style="bold red" if b.status == "short" else "green")
    if b.title_short:
        status.append(" " + "、".join(b.title_short), style="red")
    return (
        printable(b.name),
        amount(b.counted, b.counting),
        f"{b.required:.1f}".removesuffix(".0"),
        status,
        nurse_cell(b),
        Text(risk_label(b), style="yellow"),
        printable(b.kind),
    )


class InstitutionsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", N_("Back")),
        Binding("f", "cycle_filter", N_("Filter")),
        Binding("o", "cycle_sort", N_("Sort")),
        Binding("r", "reverse", N_("Reverse")),
        Binding("slash", "focus_text", N_("Find"), key_display="/"),
        Binding("enter", "open", N_("Contributors"), show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.bases: list[InstitutionBase] | None = None
        self.mode = "problems"
        self.sort = "shortfall"
        self.descending = True
        self.shown: list[InstitutionBase] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(
            placeholder=_("/ find by name or code · Enter opens"), id="inst-text", compact=True
        )
        yield TableHeader(columns(), id="bases-header", classes="section")
        yield VirtualTable(columns(), id="bases")
        yield Static(_("Computing validation bases…"), id="inst-status")
        yield ClerkFooter()

    def on_mount(self) -> None:
        self.title = _("Institutions")
        self.query_one("#bases", VirtualTable).focus()
        self.load()

    @work(thread=True, exclusive=True, group="bases")
    def load(self) -> None:
        # The region-wide table with risk counts (kept per institution in the database, so
        # quick even for a province); contributors are read when a row is opened.
        summary = list(validation_base(registry(self), on=today(self), detail=False))
        self.app.call_from_thread(self._loaded, summary)

    def _loaded(self, bases: list[InstitutionBase]) -> None:
        self.bases = bases
        self.redraw()

    def _status(self, text: str) -> None:
        self.query_one("#inst-status", Static).update(text)

    def redraw(self) -> None:
        if self.bases is None:
            return
        text = self.query_one("#inst-text", Input).value.strip()
        chosen = [b for b in self.bases if keep(b, self.mode, text)]
        sort_keys = {
            "shortfall": lambda b: (b.shortfall, b.status == "short", b.risk_count),
            "name": lambda b: b.name,
            "kind": lambda b: (b.kind, b.name),
            "counted": lambda b: b.counted,
            "required": lambda b: b.required,
            "at_risk": lambda b: (b.risk_count, -(b.risk_from.toordinal() if b.risk_from else 0)),
        }
        chosen.sort(key=sort_keys[self.sort], reverse=self.descending)
        self.shown = chosen
        table = self.query_one("#bases", VirtualTable)
        table.set_rows(
            len(chosen), lambda i: cells(self.shown[i]), empty=_("No institution matches.")
        )
        self._status(
            _("{n} of {total} institutions · filter: {filter} · sort: {sort}").format(
                n=len(chosen),
                total=len(self.bases),
                filter=_(FILTER_LABELS[self.mode]),
                sort=_(SORT_LABELS[self.sort]) + (" ↓" if self.descending else " ↑"),
            )
        )

    @on(Input.Changed, "#inst-text")
    def _typed(self) -> None:
        self.query_one("#bases", VirtualTable).cursor = 0
        self.redraw()

    @on(Input.Submitted, "#inst-text")
    def _submitted(self) -> None:
        table = self.query_one("#bases", VirtualTable)
        table.focus()
        if self.shown:
            table.cursor = 0
            self.drill_down(self.shown[0].institution)

    def action_focus_text(self) -> None:
        self.query_one("#inst-text", Input).focus()

    def action_back(self) -> None:
        if self.query_one("#inst-text", Input).has_focus:
            self.query_one("#bases", VirtualTable).focus()
        else:
            self.app.pop_screen()

    def action_cycle_filter(self) -> None:
        self.mode = FILTERS[(FILTERS.index(self.mode) + 1) % len(FILTERS)]
        self.redraw()

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.descending = self.sort in ("shortfall", "counted", "required", "at_risk")
        self.redraw()

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.redraw()

    @on(VirtualTable.Selected, "#bases")
    def _selected(self, event: VirtualTable.Selected) -> None:
        if 0 <= event.index < len(self.shown):
            self.drill_down(self.shown[event.index].institution)

    @work(thread=True, group="drill-down")
    def drill_down(self, code: str) -> None:
        """One institution's contributors and risks."""
        found = validation_base(registry(self), on=today(self), institution=code)
        if found:
            self.app.call_from_thread(self.app.push_screen, ContributorsScreen(found[0]))


class ContributorsScreen(ModalScreen[None]):
    """Who counts into one institution's base (physicians, then nurses, each labelled), and which
    contracts put it at risk. Enter on a contributor opens them; Esc there comes back here."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", N_("Back"))]

    def __init__(self, base: InstitutionBase) -> None:
        super().__init__()
        self.base = base

    def compose(self) -> ComposeResult:
        b = self.base
        with Vertical(id="contributors-dialog"):
            yield Static(
                f"[b]{markup(b.name)}[/b] · {markup(b.kind)} · "
                + (f"{markup(regions.describe(b.county))} · " if b.county else "")
                + _("counted {counted} of {required} · {status} · next validation {on}").format(
                    counted=amount(b.counted, b.counting),
                    required=f"{b.required:.1f}".removesuffix(".0"),
                    status=_(b.status),
                    on=b.next_validation,
                )
            )
            if has_nurse_minimum(b):
                yield Static(
                    _("Nurses: counted {counted} of {required} · {status}").format(
                        counted=amount(b.nurse_counted, b.counting),
                        required=f"{b.nurse_required:g}" + ("" if b.nurse_confirmed else "*"),
                        status=_(b.nurse_status),
                    ),
                    id="nurse-minimum",
                )
            if b.title_minimum:
                yield Static(
                    _("Title minima: {titles}").format(
                        titles=markup(
                            "、".join(
                                f"{title} ≥{n} ({b.title_counts.get(title, 0)})"
                                for title, n in b.title_minimum.items()
                            )
                        )
                    )
                )
            table: DataTable[str | Text] = DataTable(id="contributors", cursor_type="row")
            table.add_columns(
                _("certificate"), _("full name"), _("profession"), _("title"), _("type"),
                _("h/week"), _("share"),
            )  # fmt: skip
            for c in b.contributors:
                table.add_row(
                    *map(plain, (c.physician, c.name)),
                    profession_label(c.profession),
                    plain(c.title),
                    _(ROLE_SHORT.get(c.role, c.role)),
                    f"{c.hours:.1f}",
                    f"{c.share:.1f}" if b.counting == "fte" else f"{c.share:g}",
                    key=c.physician,
                )
            yield table
            if b.at_risk:
                yield Static(_("At risk"), classes="section")
                yield Static(
                    "\n".join(
                        f"{r.physician} · {markup(r.contract_no)} · "
                        f"{_(REASONS.get(r.reason, r.reason))} · {r.ends_on} · "
                        + _("counted after: {n}").format(n=amount(r.counted_after, b.counting))
                        for r in b.at_risk
                    )
                )
            yield Static(_("Enter opens the physician · Esc back"), classes="hint")
        yield ClerkFooter()

    def on_mount(self) -> None:
        self.query_one("#contributors", DataTable).focus()

    @on(DataTable.RowSelected, "#contributors")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            clerk_app(self).open_physician(str(event.row_key.value))
