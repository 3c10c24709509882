"""Institutions and their validation base (医师基数): short or at risk first, then drill down."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from multisite.domain import regions
from multisite.escaping import markup
from multisite.i18n import _
from multisite.services.validation_base import REASONS, risk_label

from ..session import registry, today
from .change import base_module

SHOWN = 500  # rows put in the table at once; the filter narrows the rest
FILTERS = ("problems", "short", "at_risk", "all")
SORTS = ("shortfall", "name", "kind", "counted", "required")


def _filter_label(name: str) -> str:
    return {
        "problems": _("short or at risk"),
        "short": _("short"),
        "at_risk": _("at risk"),
        "all": _("all"),
    }[name]


def _sort_label(name: str) -> str:
    return {
        "shortfall": _("shortfall"),
        "name": _("name"),
        "kind": _("kind"),
        "counted": _("counted"),
        "required": _("minimum"),
    }[name]


def keep(base: Any, mode: str, text: str) -> bool:
    short = base.status == "short"
    risky = base.risk_count > 0
    wanted = {"problems": short or risky, "short": short, "at_risk": risky, "all": True}[mode]
    return wanted and (not text or text in base.name or base.institution.startswith(text.upper()))


class InstitutionsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", _("Back")),
        Binding("f", "cycle_filter", _("Filter")),
        Binding("o", "cycle_sort", _("Sort")),
        Binding("r", "reverse", _("Reverse")),
        Binding("slash", "focus_text", _("Find")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.bases: list[Any] | None = None
        self.mode = "problems"
        self.sort = "shortfall"
        self.descending = True
        self.shown: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder=_("/ find by name or code"), id="inst-text")
        table: DataTable[str] = DataTable(id="bases", cursor_type="row", zebra_stripes=True)
        # what decides come first, so 80 columns show it; kind and code last
        table.add_columns(
            _("institution"),
            _("counted"),
            _("minimum"),
            _("status"),
            _("at risk"),
            _("kind"),
            _("code"),
        )
        yield table
        yield Static(_("Computing validation bases…"), id="inst-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#bases", DataTable).focus()
        self.load()

    @work(thread=True, exclusive=True, group="bases")
    def load(self) -> None:
        module = base_module()
        if module is None:
            message = _("The validation base module is not installed yet.")
            self.app.call_from_thread(self._status, message)
            return
        # The region-wide table with risk counts (kept per institution in the database, so
        # quick even for a province); contributors are read when a row is opened.
        summary = list(module.validation_base(registry(self), on=today(self), detail=False))
        self.app.call_from_thread(self._loaded, summary)

    def _loaded(self, bases: list[Any]) -> None:
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
        }
        chosen.sort(key=sort_keys[self.sort], reverse=self.descending)
        self.shown = chosen[:SHOWN]
        table = self.query_one("#bases", DataTable)
        table.clear()
        for b in self.shown:
            table.add_row(
                markup(b.name),
                f"{b.counted:g}",
                f"{b.required:g}",
                _(b.status) + (" " + "、".join(b.title_short) if b.title_short else ""),
                risk_label(b),
                b.kind,
                b.institution,
                key=b.institution,
            )
        more = _(" (first {n})").format(n=SHOWN) if len(chosen) > SHOWN else ""
        self._status(
            _(
                "{n} institutions{more} · filter: {filter} · sort: {sort} · Enter: contributors"
            ).format(
                n=len(chosen),
                more=more,
                filter=_filter_label(self.mode),
                sort=_sort_label(self.sort) + (" ↓" if self.descending else " ↑"),
            )
        )

    @on(Input.Changed, "#inst-text")
    def _typed(self) -> None:
        self.redraw()

    @on(Input.Submitted, "#inst-text")
    def _submitted(self) -> None:
        self.query_one("#bases", DataTable).focus()

    def action_focus_text(self) -> None:
        self.query_one("#inst-text", Input).focus()

    def action_cycle_filter(self) -> None:
        self.mode = FILTERS[(FILTERS.index(self.mode) + 1) % len(FILTERS)]
        self.redraw()

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.descending = self.sort in ("shortfall", "counted", "required")
        self.redraw()

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.redraw()

    @on(DataTable.RowSelected, "#bases")
    def _selected(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self.shown):
            self.drill_down(self.shown[event.cursor_row].institution)

    @work(thread=True, group="drill-down")
    def drill_down(self, code: str) -> None:
        """One institution's contributors and risks."""
        module = base_module()
        if module is None:
            return
        found = module.validation_base(registry(self), on=today(self), institution=code)
        if found:
            self.app.call_from_thread(self.app.push_screen, ContributorsScreen(found[0]))


class ContributorsScreen(ModalScreen[None]):
    """Who counts into one institution's base, and which contracts put it at risk."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", _("Back"))]

    def __init__(self, base: Any) -> None:
        super().__init__()
        self.base = base

    def compose(self) -> ComposeResult:
        b = self.base
        with VerticalScroll(id="contributors-dialog"):
            yield Static(
                f"[b]{markup(b.name)}[/b] {b.institution} · {b.kind} · "
                + (f"{regions.describe(b.county)} · " if getattr(b, "county", "") else "")
                + _("counted {counted:g} of {required:g} · {status} · next validation {on}").format(
                    counted=b.counted, required=b.required, status=_(b.status), on=b.next_validation
                )
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
            table: DataTable[str] = DataTable(id="contributors", cursor_type="row")
            table.add_columns(
                _("physician"), _("full name"), _("title"), _("role"), _("hours"), _("share")
            )
            for c in b.contributors:
                table.add_row(
                    *map(markup, (c.physician, c.name, c.title)),
                    _(c.role),
                    f"{c.hours:g}",
                    f"{c.share:.2f}",
                )
            yield table
            if b.at_risk:
                yield Static(_("At risk"), classes="section")
                yield Static(
                    "\n".join(
                        f"{r.physician} · {markup(r.contract_no)} · "
                        f"{_(REASONS.get(r.reason, r.reason))} · "
                        f"{r.ends_on} · " + _("counted after: {n:g}").format(n=r.counted_after)
                        for r in b.at_risk
                    )
                )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#contributors", DataTable).focus()
