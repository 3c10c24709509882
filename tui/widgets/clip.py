"""Text cut to a column's width with an ellipsis, never through a Chinese character.

Rich's ``Text.truncate`` cuts a wide character in half and pads the cut with a space, so a
clipped name read "余杭区解放 …"; here the ellipsis follows the last whole character.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from multisite.escaping import printable


def fits(text: str, width: int) -> int:
    """How many characters of ``text`` fit in ``width`` cells with an ellipsis after them
    (``len(text)`` when the whole text fits)."""
    if cell_len(text) <= width:
        return len(text)
    used = 0
    for index, char in enumerate(text):
        used += cell_len(char)
        if used > width - 1:
            return index
    return len(text)


def cut(text: Text, width: int) -> Text:
    """``text`` (its styles kept) in at most ``width`` cells."""
    keep = fits(text.plain, width)
    if keep == len(text.plain):
        return text
    out = text[:keep]
    out.append("…")
    return out


def clip(text: str, width: int) -> Text:
    """A stored value (printable only) in at most ``width`` cells, one line."""
    return cut(Text(printable(text), no_wrap=True), width)
