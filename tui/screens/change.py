"""Suspend or cancel a registration, terminate an agreement: the effect first, then apply.

The dialog is the confirmation. When the dates and reason are read, the effect on the
validation bases (医师基数, ``multisite.services.validation_base.impact_of_*``) is computed in a worker thread and
shown; Ctrl+S applies only once the effect of exactly these values has been shown, so the
first Ctrl+S on unseen values shows the effect and asks again.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Footer, Input, Label, Static

from multisite.escaping import markup
from multisite.i18n import _
from multisite.services import ServiceError

from ..forms import FormProblem, read_date, read_text
from ..session import registry, today

DEBOUNCE = 0.25


def base_module() -> Any | None:
    """``multisite.services.validation_base`` when installed (built alongside the UI), else None."""
    try:
        return importlib.import_module("multisite.services.validation_base")
    except ImportError:
        return None


def describe_impact(pairs: list[tuple[Any, Any]]) -> str:
    """One line per institution whose counted base changes, worst first."""
    if not pairs:
        return _("No validation base changes.")
    lines = []
    ordered = sorted(pairs, key=lambda p: (p[1].status != "short", p[1].counted - p[0].counted))
    for before, after in ordered:
        drop = after.status == "short" and before.status != "short"
        mark = "[b red]▼ " if drop else ("[yellow]" if after.status == "short" else "")
        close = "[/]" if mark else ""
        lines.append(
            f"{mark}{markup(after.name)} ({after.institution}): {before.counted:g} → "
            f"{after.counted:g} "
            f"/ {after.required:g} · {_(before.status)} → {_(after.status)}{close}"
        )
    return "\n".join(lines)


class ChangeScreen(ModalScreen[bool]):
    """``kind`` is ``suspend`` or ``cancel`` (a registration) or ``terminate`` (a contract)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "apply", _("Apply"), priority=True),
        Binding("escape", "close", _("Cancel")),
    ]

    def __init__(self, kind: str, cert: str, *, contract_no: str | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.cert = cert
        self.contract_no = contract_no
        self.impact_text: str | None = None
        self._shown_for: tuple[Any, ...] | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        titles = {
            "suspend": _("Suspend the registration of {cert}"),
            "cancel": _("Cancel the registration of {cert}"),
            "terminate": _("Terminate contract {contract}"),
        }
        on = today(self).isoformat()
        with Vertical(id="change-dialog"):
            yield Static(
                "[b]" + titles[self.kind].format(cert=self.cert, contract=self.contract_no) + "[/b]"
            )
            if self.kind == "suspend":
                yield self._row(_("From"), Input(on, id="start"))
                yield self._row(_("Until"), Input("", placeholder="2026-12-31", id="until"))
            else:
                label = _("Last day") if self.kind == "terminate" else _("From")
                yield self._row(label, Input(on, id="start"))
            yield self._row(_("Reason"), Input("", id="reason"))
            yield Static("", id="change-error", classes="error")
            yield Static(_("Effect on validation bases"), classes="section")
            yield Static(_("Fill in the dates and the reason."), id="impact")
            yield Static(_("Ctrl+S applies once the effect is shown · Esc cancels"), classes="hint")
        yield Footer()

    @staticmethod
    def _row(label: str, widget: Input) -> Horizontal:
        return Horizontal(Label(label, classes="field-label"), widget, classes="field")

    def on_mount(self) -> None:
        self.query_one("#until" if self.kind == "suspend" else "#reason", Input).focus()

    def read(self) -> tuple[Any, ...]:
        def value(field: str) -> str:
            return self.query_one(f"#{field}", Input).value

        start = read_date(value("start"), "start", _("From"))
        until = read_date(value("until"), "until", _("Until")) if self.kind == "suspend" else None
        if until is not None and until < start:
            raise FormProblem("until", _("The suspension cannot end before it starts."))
        reason = read_text(value("reason"), "reason", _("Enter the reason."))
        return (start, until, reason)

    @on(Input.Changed)
    def _changed(self) -> None:
        self._shown_for = None
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self._refresh_impact)

    def _refresh_impact(self) -> None:
        try:
            values = self.read()
        except FormProblem as problem:
            self.query_one("#change-error", Static).update(str(problem))
            return
        self.query_one("#change-error", Static).update("")
        self.query_one("#impact", Static).update(_("Computing the effect…"))
        self.compute_impact(values)

    @work(thread=True, exclusive=True, group="impact")
    def compute_impact(self, values: tuple[Any, ...]) -> None:
        start, until, _reason = values
        module = base_module()
        if module is None:
            text = _("The validation base module is not installed; no effect can be shown.")
        else:
            try:
                text = describe_impact(self._impact(module, start, until))
            except ServiceError as error:
                text = str(error)
        self.app.call_from_thread(self._impact_done, values, text)

    def _impact(self, module: Any, start: dt.date, until: dt.date | None) -> list[Any]:
        reg = registry(self)
        if self.kind == "terminate":
            assert self.contract_no is not None
            pairs = module.impact_of_termination(reg, self.contract_no, start)
        else:
            end = until or dt.date(start.year + 5, 12, 31)
            pairs = module.impact_of_suspension(reg, self.cert, start, end)
        return list(pairs)

    def _impact_done(self, values: tuple[Any, ...], text: str) -> None:
        try:
            current = self.read()
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
            self.query_one("#change-error", Static).update(str(problem))
            return
        if values != self._shown_for:
            self.query_one("#change-error", Static).update(
                _("Check the effect below, then press Ctrl+S again to apply.")
            )
            self._refresh_impact()
            return
        start, until, reason = values
        apply: dict[str, Callable[[], Any]] = {
            "suspend": lambda: registry(self).suspend_registration(self.cert, start, until, reason),
            "cancel": lambda: registry(self).cancel_registration(self.cert, start, reason),
            "terminate": lambda: registry(self).terminate_agreement(
                self.contract_no or "", start, reason
            ),
        }
        try:
            apply[self.kind]()
        except ServiceError as error:
            self.query_one("#change-error", Static).update(
                _("Not applied: {reason}").format(reason=error)
            )
            return
        self.notify(_("Applied."))
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)
