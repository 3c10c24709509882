"""The credit register (诚信/黑名单): dated listings of physicians and institutions, and points
for misconduct (不良执业行为记分). a adds a listing, x ends the one under the cursor, p records
points — each one call of the service, which says which contracts the listing touches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from multisite.domain.inputs import ListingInput
from multisite.escaping import plain, printable
from multisite.i18n import N_, _
from multisite.services import ServiceError
from multisite.services.credit import ListingView, PointsView

from ..labels import profession_label
from ..session import registry, today
from ..widgets.footer import ClerkFooter
from .dialog import Field, FormDialog, date_field

SUBJECTS = {"physician": N_("physician"), "institution": N_("institution")}


class CreditScreen(Screen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", N_("Back")),
        Binding("a", "add", N_("List")),
        Binding("x", "end", N_("End listing")),
        Binding("p", "points", N_("Points")),
    ]

    def __init__(self, *, physician: str | None = None, institution: str | None = None) -> None:
        super().__init__()
        self.physician = physician
        self.institution = institution
        self.listings: list[ListingView] = []
        self.points: list[PointsView] = []
        self.changed = False

    def compose(self) -> ComposeResult:
        yield Header()
        whose = self.physician or self.institution
        yield Static(
            _("Credit register of {who}").format(who=whose) if whose else _("Credit register"),
            classes="section",
        )
        table: DataTable[str | Text] = DataTable(id="credit-table", cursor_type="row")
        table.add_columns(_("listed"), _("name"), _("from"), _("to"), _("reason"))
        yield table
        yield Static(_("Points"), classes="section")
        yield Static("", id="points", markup=False)
        yield Static("", id="credit-status", markup=False)
        yield ClerkFooter()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#credit-table", DataTable).focus()

    def load(self) -> None:
        try:
            record = registry(self).credit_record(
                physician=self.physician, institution=self.institution
            )
        except ServiceError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.listings, self.points = list(record.listings), list(record.points)
        table = self.query_one("#credit-table", DataTable)
        row = table.cursor_row
        table.clear()
        day = today(self)
        for x in self.listings:
            table.add_row(
                Text(
                    _(SUBJECTS[x.subject])
                    if x.profession is None
                    else profession_label(x.profession),
                    style="red" if x.in_force_on(day) else "grey50",
                ),  # 医师/护士
                plain(x.name),
                x.start.isoformat(),
                x.until.isoformat() if x.until else _("open"),
                plain(x.reason),
                key=str(x.id),
            )
        if self.listings:
            table.move_cursor(row=min(row, len(self.listings) - 1))
        self.query_one("#credit-status", Static).update(
            "" if self.listings else _("No listing on file.")
        )
        self.query_one("#points", Static).update(
            "\n".join(
                f"{p.on} {p.name} {p.points} · {p.reason} · {p.authority}" for p in self.points[-4:]
            )
            or _("No points on file.")
        )

    @on(DataTable.RowHighlighted, "#credit-table")
    def _detail(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.listings):
            x = self.listings[event.cursor_row]
            self.query_one("#credit-status", Static).update(
                printable(f"{x.key} · {x.authority} · {x.decision or '—'}")
            )

    def _done(self, changed: bool | None) -> None:
        if changed:
            self.changed = True
            self.load()

    @staticmethod
    def _touched(n: int) -> str:
        return _("{n} contracts are in force while listed (CREDIT).").format(n=n) if n else ""

    def action_add(self) -> None:
        reg = registry(self)

        def apply(v: Mapping[str, Any]) -> str:
            cert, code = v.get("cert"), v.get("code")
            if bool(cert) == bool(code):
                raise ServiceError(_("Name either a physician or an institution."))
            change = reg.add_listing(
                ListingInput(
                    subject="physician" if cert else "institution", key=str(cert or code),
                    start=v["start"], until=v["until"], reason=v["reason"],
                    authority=v["authority"], decision=v["decision"] or "",
                )
            )  # fmt: skip
            return " ".join(
                filter(None, [_("Listed {name}.").format(name=change.listing.name),
                              self._touched(len(change.violations))])
            )  # fmt: skip

        fields = [
            Field("cert", _("Physician"), self.physician or "", required=False,
                  placeholder=_("certificate")),
            Field("code", _("Institution"), self.institution or "", required=False,
                  placeholder=_("credit code")),
            date_field("start", _("First day"), today(self)),
            date_field("until", _("Last day"), required=False),
            Field("reason", _("Reason")),
            Field("authority", _("Authority")),
            Field("decision", _("Decision"), required=False),
        ]  # fmt: skip
        self.app.push_screen(FormDialog(_("Add a credit listing"), fields, apply), self._done)

    def action_end(self) -> None:
        table = self.query_one("#credit-table", DataTable)
        if not self.listings:
            self.notify(_("No listing on file."), severity="warning")
            return
        x = self.listings[max(0, min(table.cursor_row, len(self.listings) - 1))]
        reg = registry(self)

        def apply(v: Mapping[str, Any]) -> str:
            change = reg.end_listing(x.id, v["on"])
            return _("The listing of {name} ends on {on}.").format(
                name=change.listing.name, on=v["on"]
            )

        self.app.push_screen(
            FormDialog(
                _("End the listing of {name}").format(name=x.name),
                [date_field("on", _("Last day"), today(self))],
                apply,
            ),
            self._done,
        )

    def action_points(self) -> None:
        reg = registry(self)

        def apply(v: Mapping[str, Any]) -> str:
            p = reg.add_points(
                v["cert"], v["on"], v["points"], v["reason"], v["authority"], v["decision"] or ""
            )
            return _("{points} points recorded for {name}.").format(points=p.points, name=p.name)

        fields = [
            Field("cert", _("Physician"), self.physician or "", placeholder=_("certificate")),
            date_field("on", _("Day"), today(self)),
            Field("points", _("Points"), "", "int"),
            Field("reason", _("Reason")),
            Field("authority", _("Authority")),
            Field("decision", _("Decision"), required=False),
        ]
        self.app.push_screen(FormDialog(_("Record points"), fields, apply), self._done)

    def action_back(self) -> None:
        self.dismiss(self.changed)
