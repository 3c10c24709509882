"""Text as each medium needs it (输出转义): what was stored stays as received; what is shown or
written is made harmless where it goes.

* **terminal**: :func:`printable` drops control characters (ESC sequences, CR, backspace,
  C1 controls, DEL) and the bidirectional overrides that reorder what a clerk reads; tab and
  newline stay.
* **Rich / Textual markup**: :func:`markup` escapes ``[`` so ``[/]`` in a name is text, not a
  tag; :func:`plain` gives a ``Text`` that is never parsed as markup. :class:`SafeConsole` is
  the CLI's console: markup off unless asked for, and every string printable.
* **spreadsheets** (CSV, xlsx): :func:`spreadsheet_cell` drops the same control characters
  and neutralises a cell that Excel would evaluate (beginning with ``=``, ``+``, ``-``,
  ``@``, tab or CR) by prefixing ``'``.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional embeddings,
# overrides and isolates (a name that reads differently from what it is: "Trojan Source").
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def printable(text: object) -> str:
    """``text`` without the control characters a terminal would act on."""
    return _CONTROL.sub("", text if isinstance(text, str) else str(text))


def markup(text: object) -> str:
    """``text`` to embed in Rich/Textual markup: printable, its brackets escaped."""
    return escape(printable(text))


def plain(text: object, style: str = "") -> Text:
    """``text`` as a Rich ``Text`` (never parsed as markup), printable."""
    return Text(printable(text), style=style)


def spreadsheet_cell(value: Any) -> Any:
    """A cell for a CSV or xlsx the product writes: text without the control characters a
    terminal would act on (a report echoes the rejected cells, and is read with ``cat`` as
    often as with Excel), and text that a spreadsheet would take for a formula gets a leading
    apostrophe; anything else is written as it is."""
    if isinstance(value, str):
        value = printable(value)
        if value.startswith(FORMULA_STARTS):
            return "'" + value
    return value


class SafeConsole(Console):
    """A Rich console that never parses markup unless a call asks for it (``markup=True``)
    and drops control characters from every string it renders."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("markup", False)
        super().__init__(**options)

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(printable(text), **options)

    def on_broken_pipe(self) -> None:
        """The reader went away (``| head``): the command line's ``main`` ends quietly, with
        one exit code whichever way the output was written (Rich's own exits with 1, which
        means violations found)."""
        raise BrokenPipeError
