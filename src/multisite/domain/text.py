"""Text as clerks and files write it: NFKC normalisation, and the one error a value parser raises.

Pure: no I/O. Used by the import's parsers, the sessions grammar and the TUI's fields alike.
"""

from __future__ import annotations

import unicodedata


class ValueProblem(ValueError):
    """A cell that cannot be read: ``column`` (canonical name, may be empty) and ``message``."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ValueProblem({self.column!r}, {self.message!r})"


# Characters NFKC leaves alone but that mean "nothing" at the edges of a cell.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def normalize_text(text: str) -> str:
    """NFKC, without invisible characters, trimmed."""
    if text.isascii():  # NFKC leaves ASCII as it is; most cells of a large file are ASCII
        return text.strip()
    text = unicodedata.normalize("NFKC", text)
    if any(c in text for c in _INVISIBLE):
        text = text.translate({ord(c): None for c in _INVISIBLE})
    return text.strip()


def clean(value: object) -> object:
    """Normalise one raw cell: strings NFKC + trimmed, empty → None, other values unchanged."""
    if isinstance(value, str):
        text = normalize_text(value)
        return text or None
    return value


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not normalize_text(value))


def shown(value: object) -> str:
    """A cell as a message quotes it (shortened)."""
    text = value if isinstance(value, str) else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= 40 else text[:39] + "…"
