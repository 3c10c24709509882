"""Reading form fields: each problem is one sentence naming the field, never a traceback."""

from __future__ import annotations

import datetime as dt

from multisite.importing.normalize import ValueProblem, parse_date


class FormProblem(Exception):
    """A field the clerk must correct: ``field`` is the widget id, the text one sentence."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def read_date(text: str, field: str, label: str) -> dt.date:
    try:
        return parse_date(text.strip())
    except ValueProblem as problem:
        raise FormProblem(field, f"{label}: {problem.message}") from problem


def read_text(text: str, field: str, message: str) -> str:
    if not text.strip():
        raise FormProblem(field, message)
    return text.strip()
