"""The institution picker: type part of a name or code, pick one of the matches."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from multisite.escaping import plain
from multisite.i18n import N_, _
from multisite.services.search import InstitutionHit, find_institutions

from ..forms import FormProblem
from ..session import registry


class InstitutionPicker(Vertical):
    """An input that searches institutions as the clerk types; ↓ then Enter picks one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "focus_options", N_("Matches"), show=False),
    ]

    class Picked(Message):
        def __init__(self, picker: InstitutionPicker, hit: InstitutionHit | None) -> None:
            super().__init__()
            self.picker = picker
            self.hit = hit

    def __init__(self, value: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._initial = value
        self.hit: InstitutionHit | None = None
        self._hits: list[InstitutionHit] = []

    def compose(self) -> ComposeResult:
        yield Input(
            self._initial,
            placeholder=_("part of its name or its code"),
            id="institution-query",
            compact=True,
        )
        yield Static("", id="institution-chosen", classes="hint")
        yield OptionList(id="institution-options", compact=True)

    def on_mount(self) -> None:
        self.query_one(OptionList).display = False
        if self._initial:
            self.lookup(self._initial, pick_exact=True)

    @property
    def code(self) -> str:
        """The chosen institution's code, or what the clerk typed."""
        return self.hit.code if self.hit else self.query_one(Input).value.strip()

    def chosen_code(self, label: str, *, quiet: bool) -> str:
        """The code of the institution chosen, for a form to save; else the sentence the form
        shows (``FormProblem`` naming this field): choose one, or choose one of the matches
        listed under what was typed (not "unknown institution": the list has it). ``quiet``:
        nothing typed yet and the clerk has not been there, so no sentence yet."""
        code = self.code
        if not code:
            raise FormProblem("institution-query", "" if quiet else f"{label}: " + _("choose one."))
        if self.unchosen_matches:
            raise FormProblem(
                "institution-query",
                f"{label}: "
                + _("choose one of the {count} matches under it (↓, then Enter).").format(
                    count=self.unchosen_matches
                ),
            )
        return code

    @property
    def unchosen_matches(self) -> int:
        """How many institutions the list offers for what was typed while none is chosen
        (0 once one is, or when nothing matches)."""
        return 0 if self.hit is not None else len(self._hits)

    @on(Input.Changed, "#institution-query")
    def _typed(self, event: Input.Changed) -> None:
        if self.hit is not None and event.value == self.hit.code:
            return
        self.hit = None
        self._hits = []
        self.query_one("#institution-chosen", Static).update("")
        self.lookup(event.value, pick_exact=True)

    @work(thread=True, exclusive=True, group="institution-picker")
    def lookup(self, text: str, pick_exact: bool = False) -> None:
        hits = find_institutions(registry(self), text, limit=8) if text.strip() else []
        self.app.call_from_thread(self._show, text, hits, pick_exact)

    def _show(self, text: str, hits: list[InstitutionHit], pick_exact: bool) -> None:
        if self.query_one(Input).value != text:
            return  # the clerk has typed on; a newer lookup is under way
        self._hits = hits
        options = self.query_one(OptionList)
        options.set_options(Option(f"{h.name}  {h.code}  {h.kind}") for h in hits)
        exact = [h for h in hits if h.code == text.strip().upper()]
        if pick_exact and exact:
            self._pick(exact[0])
            return
        options.display = bool(hits)
        self.post_message(self.Picked(self, None))

    def action_focus_options(self) -> None:
        options = self.query_one(OptionList)
        if options.display:
            options.focus()
            options.highlighted = 0

    @on(OptionList.OptionSelected, "#institution-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._pick(self._hits[event.option_index])
        self.query_one(Input).focus()

    def _pick(self, hit: InstitutionHit) -> None:
        self.hit = hit
        self.query_one(Input).value = hit.code
        self.query_one(OptionList).display = False
        depts = "、".join(hit.departments)
        self.query_one("#institution-chosen", Static).update(
            plain(f"✓ {hit.name} · {hit.kind}" + (f" · {depts}" if depts else ""))
        )
        self.post_message(self.Picked(self, hit))
