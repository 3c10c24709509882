"""Text as clerks and files write it: NFKC normalisation, the one error a value parser raises,
and the one validation of every text the registry stores (identifiers, names, free text).

Pure: no I/O. Used by the import's parsers, the sessions grammar, the services and the TUI's
fields alike.
"""

from __future__ import annotations

import re
import unicodedata

from ..i18n import _


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


# --- one validation for every stored text ---------------------------------------------------
#
# What the registry stores, whoever writes it (a form, the command line, an import file), is
# checked here before it reaches the database, so both engines see the same values and refuse
# the same ones, each in one sentence: PostgreSQL cannot store a NUL byte and refuses a value
# longer than its column where SQLite would store it silently.

# The longest value of each stored text (the columns' lengths in storage.models; a test keeps
# them equal). Free text (terms of a contract, reasons) is bounded by Excel's cell limit.
MAX_LENGTH = {
    "contract_no": 64,
    "cert_no": 15,
    "institution_code": 18,
    "region_code": 6,
    "physician_name": 64,
    "institution_name": 128,
    "department": 32,
    "scope": 32,
    "address": 256,
    "clerk": 64,
    "holiday_name": 32,
    "note_key": 64,
    "decision": 64,  # a decision's number (决定文号): credit listings and points
    "filing_number": 64,  # 备案编号
    "free_text": 32_767,
}

# Control characters, NUL and the bidirectional overrides; a name or an identifier may hold
# none, free text may hold tab and newline.
_CONTROL = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
_CONTROL_IN_NAME = re.compile(f"{_CONTROL}|[\t\n]")
_CONTROL_IN_TEXT = re.compile(_CONTROL)

# An identifier (contract number, certificate, code) begins with a letter or digit of any
# script; after it come letters, digits and - _ / . # ( ) （ ） [ ] 〔 〕 【 】 · | : + , or
# spaces.
# So 浙卫〔2026〕12号 and HT-2026/001 are identifiers; =HYPERLINK(…), @SUM(1), +1, -1, a tab
# first and [/] are not (nothing a spreadsheet would evaluate, nothing that is markup first).
IDENTIFIER_PUNCTUATION = "-_/.#()（）[]〔〕【】·|:+, "
IDENTIFIER = re.compile(rf"[^\W_][\w{re.escape(IDENTIFIER_PUNCTUATION)}]*")


def _too_long(value: str, label: str, limit: int) -> ValueProblem:
    return ValueProblem(
        "",
        _("{label} is {length} characters long; at most {limit} are stored.").format(
            label=label, length=f"{len(value):,}", limit=f"{limit:,}"
        ),
    )


def check_identifier(value: str, label: str, limit: int = MAX_LENGTH["contract_no"]) -> str:
    """``value`` if it is an identifier of at most ``limit`` characters, else ValueProblem."""
    if len(value) > limit:
        raise _too_long(value, label, limit)
    if _CONTROL_IN_NAME.search(value):
        raise _control(value, label)
    if IDENTIFIER.fullmatch(value) is None:
        raise ValueProblem(
            "",
            _(
                "{label} {value} is not an identifier: it begins with a letter or digit, followed "
                "by letters, digits, - _ / . # ( ) [ ] 〔 〕 【 】 · | : + , or spaces."
            ).format(label=label, value=shown(value)),
        )
    return value


def check_name(value: str, label: str, limit: int) -> str:
    """``value`` if it is a one-line name of at most ``limit`` characters, else ValueProblem."""
    if len(value) > limit:
        raise _too_long(value, label, limit)
    if _CONTROL_IN_NAME.search(value):
        raise _control(value, label)
    return value


def check_free_text(value: str, label: str, limit: int = MAX_LENGTH["free_text"]) -> str:
    """``value`` if it is text (tabs and newlines allowed) of at most ``limit`` characters."""
    if len(value) > limit:
        raise _too_long(value, label, limit)
    if _CONTROL_IN_TEXT.search(value):
        raise _control(value, label)
    return value


def _control(value: str, label: str) -> ValueProblem:
    found = (_CONTROL_IN_NAME.search(value) or _CONTROL_IN_TEXT.search(value)).group()  # type: ignore[union-attr]
    return ValueProblem(
        "",
        _("{label} holds the control character U+{code:04X}, which is not stored.").format(
            label=label, code=ord(found)
        ),
    )


IDENTIFIER_TEXT, NAME_TEXT, FREE_TEXT = "identifier", "name", "free"
_CHECKS = {IDENTIFIER_TEXT: check_identifier, NAME_TEXT: check_name, FREE_TEXT: check_free_text}


def check_texts(*fields: tuple[str, str, object, str]) -> None:
    """Check ``(kind, label, value, length key)`` fields (kind: identifier, name or free;
    the length key names :data:`MAX_LENGTH`); the first problem is raised as ValueProblem.
    Empty values and values that are not text are left to the caller's own checks."""
    for kind, label, value, limit in fields:
        if isinstance(value, str) and value:
            _CHECKS[kind](value, label, MAX_LENGTH[limit])
