"""A yes/no question before something is lost (a filled form discarded, …)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from multisite.i18n import N_, _

from ..widgets.footer import ClerkFooter


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", N_("Yes")),
        Binding("n,escape", "answer(False)", N_("No")),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static(self.question, markup=False)
            yield Static(_("y: yes · n or Esc: no"), classes="hint")
        yield ClerkFooter()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


def close_form(form: Screen[bool], changed: bool, question: str) -> None:
    """Esc on a form: close an untouched one at once; ask ``question`` before discarding a
    changed one (the form closes only on yes)."""
    if not changed:
        form.dismiss(False)
        return

    def answered(discard: bool | None) -> None:
        if discard:
            form.dismiss(False)

    form.app.push_screen(ConfirmScreen(question), answered)
