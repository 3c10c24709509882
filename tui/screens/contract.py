"""File or edit a contract (合同/协议). The rules run as the clerk types.

80×24 first: one-line inputs on the left (they scroll), the rules panel on the right always in
view. Each change of a field restarts a short timer; when it fires the form is read and
``Registry.agreement_preview`` runs in a worker thread: the violations, and what the save will
do to the filing (备案: file, extend or renew it). A field the clerk has not typed into raises
no "required" sentence before Ctrl+S; each sentence begins with its field's label. Esc on a
changed form asks before discarding it. The five free-text terms are sent only when the clerk
changed them, so an edit that does not touch them never erases them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Checkbox, Header, Input, Label, Select, Static

from multisite.domain.inputs import TERMS
from multisite.domain.sessions_text import parse_sessions
from multisite.escaping import markup, plain
from multisite.i18n import N_, _
from multisite.importing.normalize import ValueProblem
from multisite.services import AgreementInput, RefusedError, ServiceError
from multisite.services.views import AgreementLine, PhysicianCard

from ..forms import FormProblem, read_date
from ..labels import sessions_label
from ..session import registry, today
from ..widgets.footer import ClerkFooter
from ..widgets.picker import InstitutionPicker
from ..widgets.tick import TickBox
from ..widgets.violations import ViolationList

DEBOUNCE = 0.25  # seconds of quiet before the rules run

LABELS = {
    "contract_no": N_("Contract no."),
    "institution": N_("Institution"),
    "role": N_("Role"),
    "department": N_("Department"),
    "start": N_("First day"),
    "end": N_("Last day"),
    "sessions": N_("Sessions"),
    "weekly_hours": N_("Hours/week"),
    "consent": N_("Consent"),
    "tasks": N_("Tasks"),
    "liability": N_("Liability"),
    "pay": N_("Pay"),
    "insurance": N_("Insurance"),
    "employment": N_("Employment"),
}
INPUTS = ("contract_no", "department", "start", "end", "sessions", "weekly_hours", *TERMS)


def label(field: str) -> str:
    return _(LABELS[field])


def _row(field: str, *widgets: Any, tall: bool = False) -> Horizontal:
    return Horizontal(
        Label(label(field), classes="field-label"),
        *widgets,
        classes="field tall" if tall else "field",
    )


class ContractScreen(Screen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), priority=True),
        Binding("escape", "close", N_("Cancel")),
    ]

    def __init__(self, physician: PhysicianCard, agreement: AgreementLine | None = None) -> None:
        super().__init__()
        self.physician = physician
        self.agreement = agreement
        self.previewed: list[dict[str, Any]] | None = None  # last preview shown (None: none)
        self.filing_note: str | None = None
        self.problem: str = ""
        self.touched: set[str] = set()
        self.initial: dict[str, str] = {}
        self._timer: Timer | None = None
        self._generation = 0

    def initial_values(self) -> dict[str, str]:
        a = self.agreement
        if a is not None:
            return {
                "contract_no": a.contract_no,
                "department": a.department,
                "start": a.start.isoformat(),
                "end": a.end.isoformat(),
                "sessions": sessions_label(a),
                "weekly_hours": f"{a.weekly_hours:g}",
                **{term: getattr(a.terms, term) for term in TERMS},
            }
        start = today(self)
        end = dt.date(start.year + 1, start.month, 1) - dt.timedelta(days=1)
        scopes = self.physician.scopes
        return {
            "contract_no": "",
            "department": scopes[0] if scopes else "",
            "start": start.isoformat(),
            "end": end.isoformat(),
            "sessions": "",
            "weekly_hours": "",
            **dict.fromkeys(TERMS, ""),
        }

    def compose(self) -> ComposeResult:
        a = self.agreement
        self.initial = self.initial_values()
        v = self.initial
        yield Header()
        with Horizontal(id="contract-split"):
            with VerticalScroll(id="contract-form"):
                title = _("Edit contract {no}").format(no=a.contract_no) if a else _("New contract")
                yield Static(
                    f"[b]{markup(title)}[/b] · {markup(self.physician.name)}", id="contract-title"
                )
                yield _row(
                    "contract_no",
                    Input(v["contract_no"], id="contract_no", disabled=a is not None, compact=True),
                )
                yield _row(
                    "institution",
                    InstitutionPicker(a.institution_code if a else "", id="institution"),
                    tall=True,
                )
                yield _row(
                    "role",
                    Select(
                        [(_("additional"), "additional"), (_("primary"), "primary")],
                        value=a.role if a else "additional",
                        allow_blank=False,
                        id="role",
                        compact=True,
                    ),
                )
                yield _row("department", Input(v["department"], id="department", compact=True))
                yield _row("start", Input(v["start"], id="start", compact=True))
                yield _row("end", Input(v["end"], id="end", compact=True))
                yield _row(
                    "sessions",
                    Input(
                        v["sessions"],
                        placeholder=_("e.g. {example}").format(
                            example="周一 08:00-12:00；WE 14:00-17:30"
                        ),
                        id="sessions",
                        compact=True,
                    ),
                )
                yield _row(
                    "weekly_hours",
                    Input(v["weekly_hours"], placeholder="0", id="weekly_hours", compact=True),
                )
                yield _row(
                    "consent",
                    TickBox(
                        _("primary institution consents"),
                        value=bool(a and a.consent),
                        id="consent",
                        compact=True,
                    ),
                )
                yield Static(_("Terms of the contract"), classes="section")
                for term in TERMS:
                    yield _row(term, Input(v[term], id=term, compact=True))
            with VerticalScroll(id="rules-pane"):  # Tab reaches it, arrows scroll
                yield Static(_("Rules"), classes="section")
                for quiet in (
                    Static("", id="form-error", classes="error"),
                    Static("", id="filing-note"),
                ):
                    quiet.display = False  # shown when they have something to say
                    yield quiet
                preview = ViolationList(_("Fill in the form to run the rules."), id="preview")
                preview.compact = True  # 32 columns: code and date over the message
                yield preview
        yield ClerkFooter()

    def on_mount(self) -> None:
        first = "#contract_no" if self.agreement is None else "#institution-query"
        self.query_one(first).focus()

    # -- reading the form --

    def value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    def changed(self) -> bool:
        """Whether the clerk has changed anything since the form opened."""
        return bool(self.touched) or any(self.value(f) != self.initial[f].strip() for f in INPUTS)

    def read(self, *, strict: bool = True) -> AgreementInput:
        """The form as an ``AgreementInput``, or a :class:`FormProblem` naming the field.
        Not ``strict``: an empty field the clerk has not reached yet is a problem without a
        sentence (nothing is said before anything is typed)."""

        def required(field: str, text: str) -> None:
            if not text:
                quiet = not strict and field not in self.touched
                raise FormProblem(field, "" if quiet else f"{label(field)}: " + _("enter it."))

        contract_no = self.value("contract_no")
        required("contract_no", contract_no)
        institution = self.query_one(InstitutionPicker).chosen_code(
            label("institution"), quiet=not strict and "institution-query" not in self.touched
        )
        department = self.value("department")
        required("department", department)
        start = read_date(self.value("start"), "start", label("start"))
        end = read_date(self.value("end"), "end", label("end"))
        sessions = self.value("sessions")
        required("sessions", sessions)
        try:
            slots = parse_sessions(sessions)
        except ValueProblem as problem:
            raise FormProblem("sessions", f"{label('sessions')}: {problem.message}") from problem
        hours_text = self.value("weekly_hours") or "0"
        try:
            hours = float(hours_text)
        except ValueError as error:
            raise FormProblem(
                "weekly_hours",
                f"{label('weekly_hours')}: "
                + _("a number of hours, not {text}.").format(text=hours_text),
            ) from error
        role = str(self.query_one("#role", Select).value)
        consent = self.query_one("#consent", Checkbox).value
        terms: dict[str, str | None] = {}
        for term in TERMS:
            text = self.query_one(f"#{term}", Input).value
            # only what the clerk changed is sent: an untouched term keeps what is stored
            terms[term] = text if text.strip() != self.initial[term].strip() else None
        return AgreementInput(
            contract_no=contract_no,
            physician=self.physician.cert,
            institution=institution,
            role=role,
            department=department,
            start=start,
            end=end,
            slots=slots,
            weekly_hours=hours,
            consent=consent if role == "additional" else None,
            **terms,  # type: ignore[arg-type]
        )

    # -- running the rules as the clerk types --

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(InstitutionPicker.Picked)
    def _changed(self, event: Any) -> None:
        control = getattr(event, "control", None) or getattr(event, "picker", None)
        if control is not None and control.id and control.has_focus:
            self.touched.add(control.id)
        self._generation += 1
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self._preview)

    def _preview(self) -> None:
        try:
            data = self.read(strict=False)
        except FormProblem as problem:
            self._show_problem(str(problem))
            return
        self._show_problem("")
        self.run_preview(data, self._generation)

    @work(thread=True, exclusive=True, group="contract-preview")
    def run_preview(self, data: AgreementInput, generation: int) -> None:
        try:
            preview = registry(self).agreement_preview(data)
        except ServiceError as error:
            self.app.call_from_thread(self._preview_failed, str(error), generation)
            return
        found = [v.as_json() for v in preview.violations]
        self.app.call_from_thread(self._preview_done, found, preview.note, generation)

    def _preview_failed(self, message: str, generation: int) -> None:
        if generation == self._generation:
            self._show_problem(message)

    def _preview_done(self, found: list[dict[str, Any]], note: str | None, generation: int) -> None:
        if generation != self._generation:
            return
        self.previewed = found
        self.filing_note = note
        filing_note = self.query_one("#filing-note", Static)
        filing_note.update(plain(note or ""))
        filing_note.display = bool(note)  # an empty line would push the rules down
        errors = sum(1 for v in found if v["severity"] == "error")
        self.query_one("#preview", ViolationList).show(
            found, empty=_("Clean: no rule objects to this contract.")
        )
        self.query_one("#rules-pane").set_class(bool(errors), "refused")

    def _show_problem(self, message: str) -> None:
        self.problem = message
        error = self.query_one("#form-error", Static)
        error.update(plain(message))
        error.display = bool(message)

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
            self.query_one("#rules-pane").set_class(True, "refused")
            return
        except ServiceError as error:
            self._show_problem(_("Not saved: {reason}").format(reason=error))
            return
        outcome = {"created": _("filed"), "updated": _("changed"), "unchanged": _("unchanged")}
        said = _("Contract {no} {outcome}.").format(no=result.key, outcome=outcome[result.outcome])
        self.notify(" ".join([said, *result.notes]), markup=False)
        self.dismiss(True)

    def action_close(self) -> None:
        from .confirm import close_form

        close_form(self, self.changed(), _("Discard the changes to this contract?"))
