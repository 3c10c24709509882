"""File or edit a contract (合同/协议). The rules run as the clerk types.

Each change of a field restarts a short timer; when it fires the form is read and
``Registry.preview_agreement`` runs in a worker thread, so what would be refused shows
before saving. A field that cannot be read gives one sentence under the form; nothing is
saved until Ctrl+S, and a refused save stores nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Checkbox, Footer, Header, Input, Label, Select, Static

from multisite.domain.sessions_text import parse_sessions
from multisite.escaping import plain
from multisite.i18n import _
from multisite.importing.normalize import ValueProblem
from multisite.services import AgreementInput, RefusedError, ServiceError

from ..forms import FormProblem, read_date
from ..session import registry, today
from ..widgets.picker import InstitutionPicker
from ..widgets.violations import ViolationList

DEBOUNCE = 0.25  # seconds of quiet before the rules run


def _row(label: str, *widgets: Any) -> Horizontal:
    return Horizontal(Label(label, classes="field-label"), *widgets, classes="field")


class ContractScreen(Screen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", _("Save"), priority=True),
        Binding("escape", "close", _("Cancel")),
    ]

    def __init__(self, physician: Mapping[str, Any], agreement: Mapping[str, Any] | None = None):
        super().__init__()
        self.physician = physician
        self.agreement = agreement
        self.previewed: list[dict[str, Any]] | None = None  # last preview shown (None: none)
        self.problem: str = ""
        self._timer: Timer | None = None
        self._generation = 0

    def compose(self) -> ComposeResult:
        a = self.agreement
        start = today(self)
        end = dt.date(start.year + 1, start.month, 1) - dt.timedelta(days=1)
        scopes = list(self.physician.get("scopes") or [])
        yield Header()
        with VerticalScroll(id="contract-form"):
            title = _("Edit contract {no}").format(no=a["contract_no"]) if a else _("New contract")
            yield Static(
                f"[b]{title}[/b] · {self.physician['name']} {self.physician['cert']}",
                id="contract-title",
            )
            yield _row(
                _("Contract no."),
                Input(a["contract_no"] if a else "", id="contract_no", disabled=a is not None),
            )
            yield _row(
                _("Institution"),
                InstitutionPicker(a["institution"]["code"] if a else "", id="institution"),
            )
            yield _row(
                _("Role"),
                Select(
                    [(_("additional"), "additional"), (_("primary"), "primary")],
                    value=a["role"] if a else "additional",
                    allow_blank=False,
                    id="role",
                ),
            )
            yield _row(
                _("Department"),
                Input(a["department"] if a else (scopes[0] if scopes else ""), id="department"),
            )
            yield _row(
                _("Period"),
                Input(a["start"] if a else start.isoformat(), id="start"),
                Label("–"),
                Input(a["end"] if a else end.isoformat(), id="end"),
            )
            yield _row(
                _("Sessions"),
                Input(
                    "; ".join(a["sessions"]) if a else "",
                    placeholder="MO 08:00-12:00; WE 14:00-17:30",
                    id="sessions",
                ),
            )
            yield _row(
                _("Hours/week"),
                Input(f"{a['weekly_hours']:g}" if a else "", placeholder="0", id="weekly_hours"),
            )
            yield _row(
                _("Consent"),
                Checkbox(
                    _("the primary institution consents"),
                    value=bool(a and a.get("consent")),
                    id="consent",
                ),
            )
            yield Static("", id="form-error", classes="error")
            yield Static(_("Rules"), classes="section")
            yield ViolationList(_("Fill in the form to run the rules."), id="preview")
        yield Footer()

    def on_mount(self) -> None:
        first = "#contract_no" if self.agreement is None else "#institution-query"
        self.query_one(first).focus()

    # -- reading the form --

    def read(self) -> AgreementInput:
        """The form as an ``AgreementInput``, or a :class:`FormProblem` naming the field."""

        def value(field: str) -> str:
            return self.query_one(f"#{field}", Input).value.strip()

        contract_no = value("contract_no")
        if not contract_no:
            raise FormProblem("contract_no", _("Enter the contract number."))
        institution = self.query_one(InstitutionPicker).code
        if not institution:
            raise FormProblem("institution", _("Choose the institution."))
        department = value("department")
        if not department:
            raise FormProblem("department", _("Enter the department (a practice scope)."))
        start = read_date(value("start"), "start", _("Start"))
        end = read_date(value("end"), "end", _("End"))
        try:
            slots = parse_sessions(value("sessions"))
        except ValueProblem as problem:
            raise FormProblem("sessions", f"{_('Sessions')}: {problem.message}") from problem
        if not slots:
            raise FormProblem("sessions", _("Enter the weekly sessions, e.g. MO 08:00-12:00."))
        hours_text = value("weekly_hours") or "0"
        try:
            hours = float(hours_text)
        except ValueError as error:
            raise FormProblem(
                "weekly_hours",
                _("Hours/week must be a number, not {text}.").format(text=hours_text),
            ) from error
        role = str(self.query_one("#role", Select).value)
        consent = self.query_one("#consent", Checkbox).value
        return AgreementInput(
            contract_no=contract_no,
            physician=str(self.physician["cert"]),
            institution=institution,
            role=role,
            department=department,
            start=start,
            end=end,
            slots=slots,
            weekly_hours=hours,
            consent=consent if role == "additional" else None,
        )

    # -- running the rules as the clerk types --

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(InstitutionPicker.Picked)
    def _changed(self) -> None:
        self._generation += 1
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self._preview)

    def _preview(self) -> None:
        try:
            data = self.read()
        except FormProblem as problem:
            self._show_problem(str(problem))
            return
        self._show_problem("")
        self.run_preview(data, self._generation)

    @work(thread=True, exclusive=True, group="contract-preview")
    def run_preview(self, data: AgreementInput, generation: int) -> None:
        try:
            found = [v.as_json() for v in registry(self).preview_agreement(data)]
        except ServiceError as error:
            self.app.call_from_thread(self._preview_failed, str(error), generation)
            return
        self.app.call_from_thread(self._preview_done, found, generation)

    def _preview_failed(self, message: str, generation: int) -> None:
        if generation == self._generation:
            self._show_problem(message)

    def _preview_done(self, found: list[dict[str, Any]], generation: int) -> None:
        if generation != self._generation:
            return
        self.previewed = found
        errors = sum(1 for v in found if v["severity"] == "error")
        self.query_one("#preview", ViolationList).show(
            found, empty=_("Clean: no rule objects to this contract.")
        )
        self.query_one("#preview").set_class(bool(errors), "refused")

    def _show_problem(self, message: str) -> None:
        self.problem = message
        self.query_one("#form-error", Static).update(plain(message))

    # -- saving --

    def action_save(self) -> None:
        try:
            data = self.read()
        except FormProblem as problem:
            self._show_problem(str(problem))
            self.query_one(f"#{problem.field}").focus()
            return
        try:
            result = registry(self).save_agreement(data)
        except RefusedError as refused:
            self._show_problem(_("Not saved: the rules refuse this contract."))
            self.previewed = [v.as_json() for v in refused.violations]
            self.query_one("#preview", ViolationList).show(self.previewed)
            return
        except ServiceError as error:
            self._show_problem(_("Not saved: {reason}").format(reason=error))
            return
        outcome = {"created": _("filed"), "updated": _("changed"), "unchanged": _("unchanged")}
        self.notify(
            _("Contract {no} {outcome}.").format(no=result.key, outcome=outcome[result.outcome]),
            markup=False,
        )
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)
