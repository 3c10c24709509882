"""A table that draws only the rows in view (Textual's line API), for 40,000 institutions.

Rows are asked for by index (``getter``) when a line is drawn, so filtering and sorting a
province's institutions costs a list sort, never 40,000 widgets or table rows. One column may
be flexible (width ``None``): it takes what the others leave of the width.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from multisite.i18n import N_

from .clip import cut

Cell = str | Text


@dataclass(frozen=True)
class Column:
    label: str
    width: int | None  # None: flexible
    right: bool = False


def fit(cell: Cell, width: int, right: bool = False) -> Text:
    text = cell.copy() if isinstance(cell, Text) else Text(cell)
    text.no_wrap = True
    text = cut(text, width)
    pad = width - cell_len(text.plain)
    if pad > 0:
        if right:
            text = Text(" " * pad) + text
        else:
            text.append(" " * pad)
    return text


def widths(columns: Sequence[Column], total: int) -> list[int]:
    fixed = sum(c.width or 0 for c in columns) + len(columns)  # one space before each column
    return [c.width if c.width is not None else max(6, total - fixed) for c in columns]


def line(cells: Sequence[Cell], columns: Sequence[Column], total: int) -> Text:
    out = Text(no_wrap=True)
    for cell, column, width in zip(cells, columns, widths(columns, total), strict=True):
        out.append(" ")
        out.append_text(fit(cell, width, column.right))
    return out


class TableHeader(Static):
    """The header line of a :class:`VirtualTable` (it does not scroll with the rows); the
    table lays it out to its own width, which its scrollbar narrows."""

    def __init__(self, columns: Sequence[Column], **kwargs: str) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.columns = list(columns)
        self.laid_out = 0

    def show(self, width: int) -> None:
        if width != self.laid_out:
            self.laid_out = width
            self.update(line([c.label for c in self.columns], self.columns, width))


class VirtualTable(ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", N_("Up"), show=False),
        Binding("down", "move(1)", N_("Down"), show=False),
        Binding("pageup", "page(-1)", N_("Previous page"), show=False),
        Binding("pagedown", "page(1)", N_("Next page"), show=False),
        Binding("home", "jump(0)", N_("First"), show=False),
        Binding("end", "jump(-1)", N_("Last"), show=False),
        Binding("enter", "select", N_("Open"), show=False),
    ]
    DEFAULT_CSS = """
    VirtualTable { height: 1fr; }
    """

    cursor: reactive[int] = reactive(0, always_update=True)

    class Selected(Message):
        def __init__(self, table: VirtualTable, index: int) -> None:
            super().__init__()
            self.table = table
            self.index = index

        @property
        def control(self) -> VirtualTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        id: str | None = None,
        header: TableHeader | None = None,
    ) -> None:
        super().__init__(id=id)
        self.columns = list(columns)
        self.header = header
        self.count = 0
        self.getter: Callable[[int], Sequence[Cell]] = lambda _i: ()
        self.empty = ""

    @property
    def room(self) -> int:
        """The columns' room: the widget's width less its vertical scrollbar (the rows are
        never wider, so the table never scrolls sideways)."""
        return self.scrollable_content_region.width

    def set_rows(
        self, count: int, getter: Callable[[int], Sequence[Cell]], empty: str = ""
    ) -> None:
        self.count = count
        self.getter = getter
        self.empty = empty
        self.virtual_size = Size(1, count)
        self.cursor = max(0, min(self.cursor, count - 1))
        self.refresh()
        self.call_after_refresh(self._lay_out_header)

    def on_resize(self) -> None:
        self.virtual_size = Size(1, self.count)
        self.call_after_refresh(self._lay_out_header)

    def _lay_out_header(self) -> None:
        if self.header is not None and self.room > 0:
            self.header.show(self.room)

    def render_line(self, y: int) -> Strip:
        _x, top = self.scroll_offset
        index = top + y
        width = self.room
        if index >= self.count:
            if self.count == 0 and y == 0 and self.empty:
                return Strip(list(Text(" " + self.empty, style="dim").render(self.app.console)))
            return Strip.blank(width)
        text = line(self.getter(index), self.columns, width)
        if index == self.cursor:
            text.stylize(Style(reverse=True) if self.has_focus else Style(bgcolor="grey23"))
        segments = [s for s in text.render(self.app.console) if s.text != "\n"]
        return Strip(segments).adjust_cell_length(width)

    def watch_cursor(self, old: int, new: int) -> None:
        self.scroll_to_region(Region(0, new, 1, 1), animate=False, force=True)
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_move(self, step: int) -> None:
        if self.count:
            self.cursor = max(0, min(self.count - 1, self.cursor + step))

    def action_page(self, step: int) -> None:
        self.action_move(step * max(1, self.size.height - 1))

    def action_jump(self, where: int) -> None:
        if self.count:
            self.cursor = where if where >= 0 else self.count - 1

    def action_select(self) -> None:
        if 0 <= self.cursor < self.count:
            self.post_message(self.Selected(self, self.cursor))

    def on_click(self, event: object) -> None:
        offset = getattr(event, "y", None)
        if isinstance(offset, int):
            self.cursor = max(0, min(self.count - 1, self.scroll_offset.y + offset))
