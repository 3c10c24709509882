"""``?``: every key of the screen the clerk is on, with what it does (the footer shows only
the most used)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from multisite.i18n import N_, _

from ..widgets.footer import ClerkFooter


def keys_of(screen: Screen[object]) -> list[tuple[str, str]]:
    """(key, what it does) for the bindings of this screen, of the focused widget when it is
    one of ours, and of the app (F-keys, palette, help) — Textual's own widget keys (cursor
    movement) are left to the widgets."""
    nodes: list[object] = [screen]
    focused = screen.focused
    if focused is not None and type(focused).__module__.startswith("multisite"):
        nodes.append(focused)
    nodes.append(screen.app)
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for node in nodes:
        for binding in getattr(type(node), "BINDINGS", []):
            if not isinstance(binding, Binding) or not binding.description:
                continue
            key = binding.key.split(",")[0]
            if key in seen:
                continue
            seen.add(key)
            found.append((screen.app.get_key_display(binding), _(binding.description)))
    return found


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", N_("Close")),
    ]

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self.under = under
        self.keys = keys_of(under)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static("[b]" + _("Keys of this screen") + "[/b]")
            table: DataTable[str] = DataTable(id="help-keys", cursor_type="row", show_header=False)
            table.add_columns(_("key"), _("action"))
            for key, what in self.keys:
                table.add_row(key, what)
            yield table
        yield ClerkFooter()
