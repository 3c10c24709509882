"""A small form in a dialog: labelled one-line fields, Ctrl+S applies through the service.

Each field has a label used both beside the input and at the head of its error sentence; a
field is checked only once the clerk typed into it or pressed Ctrl+S. The action is one call
of the service; a ``ServiceError`` is shown as its sentence and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from multisite.escaping import plain
from multisite.i18n import N_, _
from multisite.importing.normalize import ValueProblem, parse_date
from multisite.services import ServiceError

from ..forms import FormProblem
from ..widgets.footer import ClerkFooter


@dataclass(frozen=True)
class Field:
    id: str
    label: str  # translated
    value: str = ""
    kind: str = "text"  # text / date / int
    required: bool = True
    placeholder: str = ""


def read_field(f: Field, text: str) -> Any:
    text = text.strip()
    if not text:
        if f.required:
            raise FormProblem(f.id, f"{f.label}: " + _("enter it."))
        return None
    if f.kind == "date":
        try:
            return parse_date(text)
        except ValueProblem as problem:
            raise FormProblem(f.id, f"{f.label}: {problem.message}") from problem
    if f.kind == "int":
        try:
            return int(text)
        except ValueError as error:
            raise FormProblem(
                f.id, f"{f.label}: " + _("a whole number, not {text}.").format(text=text)
            ) from error
    return text


class FormDialog(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "apply", N_("Apply"), priority=True),
        Binding("escape", "close", N_("Cancel")),
    ]

    def __init__(
        self,
        title: str,
        fields: Sequence[Field],
        apply: Callable[[Mapping[str, Any]], str],
        *,
        note: str = "",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.fields = list(fields)
        self.apply = apply
        self.note = note
        self.touched: set[str] = set()

    def compose(self) -> ComposeResult:
        with Vertical(id="change-dialog"):
            yield Static(self.title_text, classes="section", markup=False)
            for f in self.fields:
                yield Horizontal(
                    Label(f.label, classes="field-label"),
                    Input(f.value, placeholder=f.placeholder, id=f.id, compact=True),
                    classes="field",
                )
            yield Static("", id="dialog-error", classes="error")
            if self.note:
                yield Static(self.note, classes="warning", markup=False)
            yield Static(_("Ctrl+S applies · Esc cancels"), classes="hint")
        yield ClerkFooter()

    def on_mount(self) -> None:
        empty = next((f for f in self.fields if not f.value), self.fields[0])
        self.query_one(f"#{empty.id}", Input).focus()

    def values(self, *, strict: bool) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for f in self.fields:
            text = self.query_one(f"#{f.id}", Input).value
            if not strict and f.id not in self.touched and not text.strip():
                found[f.id] = None
                continue
            found[f.id] = read_field(f, text)
        return found

    def _error(self, text: str) -> None:
        self.query_one("#dialog-error", Static).update(plain(text))

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input.id and event.input.has_focus:
            self.touched.add(event.input.id)
        try:
            self.values(strict=False)
        except FormProblem as problem:
            self._error(str(problem))
            return
        self._error("")

    def action_apply(self) -> None:
        try:
            values = self.values(strict=True)
        except FormProblem as problem:
            self._error(str(problem))
            self.query_one(f"#{problem.field}").focus()
            return
        try:
            said = self.apply(values)
        except ServiceError as error:
            self._error(_("Not applied: {reason}").format(reason=error))
            return
        self.notify(said or _("Applied."), markup=False)
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)


def date_field(id: str, label: str, value: dt.date | None = None, required: bool = True) -> Field:
    return Field(id, label, value.isoformat() if value else "", "date", required, "YYYY-MM-DD")
