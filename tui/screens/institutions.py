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
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Header, Input, Static

from multisite.domain import regions
from multisite.escaping import markup, plain, printable
from multisite.i18n import N_, _
from multisite.services.validation_base import REASONS, InstitutionBase, validation_base

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


# The kind column is 8 cells (4 Chinese characters): the standard's longer kinds in short, as
# clerks write them; the full kind is in the contributors' dialog. Other long kinds lose a
# trailing 医院/部 (二级中医医院 → 二级中医) and are clipped with … past that.
KIND_WIDTH = 8
KIND_SHORT = {
    "综合门诊部": "综合门诊",
    "中医门诊部": "中医门诊",
    "一级综合医院": "一级综合",
    "二级综合医院": "二级综合",
    "三级综合医院": "三级综合",
    "社区卫生服务中心": "社区中心",
    "社区卫生服务站": "社区站",
    "乡镇卫生院": "卫生院",
    "中医（综合）诊所": "中医综合",
    "中医坐堂医诊所": "坐堂诊所",
    "血液透析中心": "透析中心",
    "医学检验实验室": "医学检验",
}
# A title minimum not met, by its grade (副主任医师 → 副高): "short 副高" fits the status column.
TITLE_GRADE = {
    "主任医师": "正高",
    "副主任医师": "副高",
    "主治医师": "中级",
    "住院医师": "初级",
    "医师": "初级",
    "主任护师": "正高",
    "副主任护师": "副高",
    "主管护师": "中级",
    "护师": "初级",
    "护士": "初级",
}


def short_kind(kind: str) -> str:
    if kind in KIND_SHORT:
        return KIND_SHORT[kind]
    for suffix in ("医院", "部"):
        if cell_len(kind) > KIND_WIDTH and kind.endswith(suffix) and len(kind) > len(suffix) + 1:
            kind = kind.removesuffix(suffix)
    return kind


def status_width() -> int:
    """Room for "short" and one title grade ("不足 副高"), or the header."""
    return max(cell_len(_("status")), cell_len(_("meets")), cell_len(_("short")) + 5)


def columns() -> list[Column]:
    return [
        Column(_("institution"), None),
        Column(_("counted"), max(6, cell_len(_("counted"))), right=True),
        Column(_("minimum"), max(6, cell_len(_("minimum"))), right=True),
        Column(_("status"), status_width()),
        Column(_("nurses"), max(12, cell_len(_("nurses")))),  # 12.5/10 short
        Column(_("at risk"), max(13, cell_len(_("at risk")))),
        Column(_("kind"), max(KIND_WIDTH, cell_len(_("kind")))),
    ]


def nurse_cell(b: InstitutionBase) -> Text:
    """The nurse minimum beside the physicians' base: counted/required (one decimal, as the
    physicians' minimum), and "short" when it is not met (the word, not only the colour);
    counted/– where nurses practise and the kind has no nurse minimum."""
    if not b.has_nurses:
        return Text("–", style="dim")
    if b.nurse_required <= 0:
        return Text(f"{amount(b.nurse_counted, b.counting)}/–", style="dim")
    numbers = f"{amount(b.nurse_counted, b.counting)}/{b.nurse_required:.1f}".removesuffix(".0")
    if b.nurse_status == "short":
        return Text(f"{numbers} {_('short')}", style="bold red")
    return Text(numbers, style="green")


def risk_cell(b: InstitutionBase) -> str:
    """How many losses on record put it at risk (short already), or the first day they leave
    it short: 28-01-01 (11), the year in two digits as in the physician's contracts."""
    if not b.risk_count:
        return ""
    if b.status == "short" or b.risk_from is None:
        return f"({b.risk_count})"
    return f"{b.risk_from:%y-%m-%d} ({b.risk_count})"


def cells(b: InstitutionBase) -> tuple[str | Text, ...]:
    status = Text(_(b.status), style="bold red" if b.status == "short" else "green")
    if b.title_short:
        grades = dict.fromkeys(TITLE_GRADE.get(t, t) for t in b.title_short)
        status.append(" " + "、".join(grades), style="red")
    return (
        printable(b.name),
        amount(b.counted, b.counting),
        f"{b.required:.1f}".removesuffix(".0"),
        status,
        nurse_cell(b),
        Text(risk_cell(b), style="yellow"),
        printable(short_kind(b.kind)),
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
        header = TableHeader(columns(), id="bases-header", classes="section")
        yield header
        yield VirtualTable(columns(), id="bases", header=header)
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
            if b.has_nurses:
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
                # one line each at 80 columns; the list scrolls (Tab) when it is long
                with VerticalScroll(id="risks"):
                    yield Static(
                        "\n".join(
                            f"{r.physician} · {markup(r.contract_no)} · "
                            f"{_(REASONS.get(r.reason, r.reason))} · {r.ends_on} · "
                            + _("after: {n}").format(n=amount(r.counted_after, b.counting))
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
