"""``?``: every key of the screen the clerk is on, with what it does (the footer shows only
the most used)."""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

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


def columns_text(keys: list[tuple[str, str]], rows: int) -> Text:
    """The keys in columns of ``rows`` lines, top to bottom then left to right, each column as
    wide as its longest key and action (a column's actions are never cut: the dialog is sized
    from this text)."""
    text = Text(no_wrap=True)
    chunks = [keys[i : i + rows] for i in range(0, len(keys), rows)]
    key_w = [max(cell_len(k) for k, _w in chunk) for chunk in chunks]
    what_w = [max(cell_len(w) for _k, w in chunk) for chunk in chunks]
    for row in range(rows):
        if row:
            text.append("\n")
        for col, chunk in enumerate(chunks):
            if row >= len(chunk):
                continue
            key, what = chunk[row]
            gap = "   " if col else ""
            text.append(gap + key + " " * (key_w[col] - cell_len(key) + 1), style="bold")
            pad = " " * (what_w[col] - cell_len(what)) if col < len(chunks) - 1 else ""
            text.append(what + pad)
    return text


class HelpScreen(ModalScreen[None]):
    """The keys in one column when they fit the screen's height, else in two: at 80×24 every
    key is in view at once, without scrolling."""

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
            yield Static(id="help-keys")
        yield ClerkFooter()

    def on_mount(self) -> None:
        self.layout_keys()

    def on_resize(self) -> None:
        self.layout_keys()

    def layout_keys(self) -> None:
        # the dialog's border and title take 3 lines, the footer 1
        room = max(4, self.size.height - 5) if self.size.height else 18
        columns = 1 if len(self.keys) <= room else 2
        rows = -(-len(self.keys) // columns)
        keys = self.query_one("#help-keys", Static)
        keys.update(columns_text(self.keys, rows))
