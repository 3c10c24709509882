"""Suspend, cancel or reinstate a registration (one region or all), terminate a contract:
the effect first, then apply.

The dialog is the confirmation. When the dates and reason are read, the effect on the
validation bases (医师基数, ``validation_base.impact_of_*``) on the first day is computed in a
worker thread and shown, one labelled line per institution whose base changes; Ctrl+S applies
only once the effect of exactly these values has been shown. A field the clerk has not typed
into yet raises no "required" sentence until Ctrl+S.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, Label, Select, Static

from multisite.escaping import markup, plain
from multisite.i18n import N_, _
from multisite.services import ServiceError
from multisite.services.validation_base import (
    InstitutionBase,
    impact_of_suspension,
    impact_of_termination,
)
from multisite.services.views import AgreementLine

from ..forms import FormProblem, read_date, read_text
from ..session import registry, today
from ..widgets.footer import ClerkFooter

DEBOUNCE = 0.25
ALL = "*"


def describe_impact(pairs: Sequence[tuple[InstitutionBase, InstitutionBase]], on: dt.date) -> str:
    """One labelled line per institution whose counted base or status changes, worst first."""
    changed = [
        (b, a) for b, a in pairs if abs(b.counted - a.counted) > 1e-9 or b.status != a.status
    ]
    head = _("Validation bases on {day}:").format(day=on.isoformat())
    if not changed:
        return head + " " + _("no institution changes.")
    lines = [head]
    changed.sort(key=lambda p: (p[1].status != "short", p[1].counted - p[0].counted))
    for before, after in changed:
        drop = after.status == "short" and before.status != "short"
        mark = "[b red]▼ " if drop else ("[yellow]" if after.status == "short" else "")
        close = "[/]" if mark else ""
        counted = _apart(before.counted, after.counted)
        lines.append(
            f"{mark}{markup(after.name)}: "
            + _("counted {before} → {after} of minimum {required} · {old} → {new}").format(
                before=counted[0],
                after=counted[1],
                required=f"{after.required:.1f}",
                old=_(before.status),
                new=_(after.status),
            )
            + close
        )
    return "\n".join(lines)


def _apart(before: float, after: float) -> tuple[str, str]:
    """The two figures with one decimal, or as many more (up to four) as it takes to tell
    them apart: a 1-hour contract (0.025 of a standard week) moved no one-decimal figure, and
    the dialog said "no institution changes"."""
    for digits in (1, 2, 3, 4):
        shown = f"{before:.{digits}f}", f"{after:.{digits}f}"
        if shown[0] != shown[1]:
            break
    return shown


TITLES = {
    "suspend": N_("Suspend the registration of {cert}"),
    "cancel": N_("Cancel the registration of {cert}"),
    "reinstate": N_("Reinstate the registration of {cert}"),
    "terminate": N_("Terminate contract {contract}"),
}


class ChangeScreen(ModalScreen[bool]):
    """``kind`` is ``suspend``, ``cancel`` or ``reinstate`` (a registration, or all of them)
    or ``terminate`` (a contract)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "apply", N_("Apply"), priority=True),
        Binding("escape", "close", N_("Cancel")),
    ]

    def __init__(
        self,
        kind: str,
        cert: str,
        *,
        contract_no: str | None = None,
        regions: Sequence[tuple[str, str]] = (),
        agreements: Sequence[AgreementLine] = (),
        nurse: bool = False,
    ) -> None:
        super().__init__()
        self.nurse = nurse  # the sentences name a nurse, not a physician
        self.kind = kind
        self.cert = cert
        self.contract_no = contract_no
        self.regions = list(regions)
        self.agreements = list(agreements)
        self.impact_text: str | None = None
        self.touched: set[str] = set()
        self._shown_for: tuple[Any, ...] | None = None
        self._timer: Timer | None = None

    # the label of each field, the same in the form and in its error sentences
    def labels(self) -> dict[str, str]:
        first = {
            "terminate": _("Last day"),
            "suspend": _("First day"),
            "cancel": _("First day"),
            "reinstate": _("Practises again from"),
        }[self.kind]
        return {"start": first, "until": _("Last day"), "reason": _("Reason")}

    def compose(self) -> ComposeResult:
        labels = self.labels()
        on = today(self).isoformat()
        with Vertical(id="change-dialog"):
            yield Static(
                "[b]"
                + _(TITLES[self.kind]).format(cert=self.cert, contract=self.contract_no)
                + "[/b]"
            )
            if self.kind != "terminate" and len(self.regions) > 1:
                yield self._row(
                    _("Region"),
                    Select(
                        [(_("all registrations"), ALL)]
                        + [(f"{name} ({code})", code) for code, name in self.regions],
                        value=ALL,
                        allow_blank=False,
                        id="region",
                        compact=True,
                    ),
                )
            yield self._row(labels["start"], Input(on, id="start", compact=True))
            if self.kind == "suspend":
                yield self._row(
                    labels["until"],
                    Input("", placeholder=_("e.g. {day}").format(day="2026-12-31"), id="until",
                          compact=True),
                )  # fmt: skip
            yield self._row(labels["reason"], Input("", id="reason", compact=True))
            yield Static("", id="change-error", classes="error")
            if self.kind == "suspend":
                yield Static(
                    _(
                        "While suspended the nurse may not practise: every contract in "
                        "force in those days becomes a REGISTRATION error until reinstated."
                    )
                    if self.nurse
                    else _(
                        "While suspended the physician may not practise: every contract in "
                        "force in those days becomes a REGISTRATION error until reinstated."
                    ),
                    id="suspend-warning",
                    classes="warning",
                )
            yield Static(_("Fill in the dates and the reason."), id="impact")
            yield Static(_("Ctrl+S applies once the effect is shown · Esc cancels"), classes="hint")
        yield ClerkFooter()

    @staticmethod
    def _row(label: str, widget: Any) -> Horizontal:
        return Horizontal(Label(label, classes="field-label"), widget, classes="field")

    def on_mount(self) -> None:
        self.query_one("#until" if self.kind == "suspend" else "#reason", Input).focus()

    def chosen_region(self) -> str | None:
        if not self.query("#region"):
            return None
        value = self.query_one("#region", Select).value
        return None if value == ALL else str(value)

    def read(self, *, strict: bool = True) -> tuple[Any, ...]:
        """(first day, last day, reason, region); ``strict`` False leaves untouched empty
        fields unreported (the clerk has not got to them yet)."""
        labels = self.labels()

        def value(field: str) -> str:
            return self.query_one(f"#{field}", Input).value

        def wanted(field: str) -> bool:
            return strict or field in self.touched or bool(value(field).strip())

        start = read_date(value("start"), "start", labels["start"])
        until = None
        if self.kind == "suspend":
            if not wanted("until"):
                raise FormProblem("until", "")
            until = read_date(value("until"), "until", labels["until"])
            if until < start:
                raise FormProblem(
                    "until",
                    _("{last}: the suspension cannot end before its first day.").format(
                        last=labels["until"]
                    ),
                )
        if self.kind == "reinstate":
            reason = value("reason").strip()
        elif not wanted("reason"):
            raise FormProblem("reason", "")
        else:
            reason = read_text(
                value("reason"), "reason", _("{field}: enter it.").format(field=labels["reason"])
            )
        return (start, until, reason, self.chosen_region())

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self, event: Input.Changed | Select.Changed) -> None:
        if event.control.id and event.control.has_focus:
            self.touched.add(event.control.id)
        self._shown_for = None
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self._refresh_impact)

    def _error(self, text: str) -> None:
        self.query_one("#change-error", Static).update(plain(text))

    def _refresh_impact(self) -> None:
        try:
            values = self.read(strict=False)
        except FormProblem as problem:
            self._error(str(problem))
            return
        self._error("")
        self.query_one("#impact", Static).update(_("Computing the effect…"))
        self.compute_impact(values)

    @work(thread=True, exclusive=True, group="impact")
    def compute_impact(self, values: tuple[Any, ...]) -> None:
        start, until, _reason, region = values
        reg = registry(self)
        try:
            if self.kind == "terminate":
                pairs = impact_of_termination(
                    reg, self.contract_no or "", start + dt.timedelta(days=1)
                )
                text = describe_impact(pairs, start + dt.timedelta(days=1))
            elif self.kind == "reinstate":
                again = (
                    _("The nurse counts again from {day}.")
                    if self.nurse
                    else _("The physician counts again from {day}.")
                )
                text = again.format(day=start.isoformat())
            else:
                end = until or dt.date(start.year + 5, 12, 31)
                text = describe_impact(
                    impact_of_suspension(reg, self.cert, start, end, region), start
                )
        except ServiceError as error:
            text = markup(str(error))
        self.app.call_from_thread(self._impact_done, values, text)

    def _impact_done(self, values: tuple[Any, ...], text: str) -> None:
        try:
            current = self.read(strict=False)
        except FormProblem:
            return
        if current != values:
            return  # stale: the clerk has typed on
        self.impact_text = text
        self._shown_for = values
        self.query_one("#impact", Static).update(text)

    def action_apply(self) -> None:
        try:
            values = self.read()
        except FormProblem as problem:
            self._error(str(problem))
            self.query_one(f"#{problem.field}").focus()
            return
        if values != self._shown_for:
            self._error(_("Check the effect below, then press Ctrl+S again to apply."))
            self._refresh_impact()
            return
        start, until, reason, region = values
        reg = registry(self)
        apply: dict[str, Callable[[], Any]] = {
            "suspend": lambda: reg.suspend_registration(self.cert, start, until, reason, region=region),
            "cancel": lambda: reg.cancel_registration(self.cert, start, reason, region=region),
            "reinstate": lambda: reg.reinstate_registration(self.cert, start, region=region, reason=reason),
            "terminate": lambda: reg.terminate_agreement(self.contract_no or "", start, reason),
        }  # fmt: skip
        try:
            apply[self.kind]()
        except ServiceError as error:
            self._error(_("Not applied: {reason}").format(reason=error))
            return
        self.notify(_("Applied."))
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)
