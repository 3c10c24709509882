"""Violations and warnings as a compact list: code, severity, first date, measure, message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.widgets import Static

from multisite.escaping import printable
from multisite.i18n import N_, _

# The units a violation's measure comes in are translated where drawn (min → 分钟, h → 小时);
# the CLI marks most of them (cli/common.py), these are the rest.
UNITS = (N_("terms"),)


def render(
    violations: Sequence[Mapping[str, Any]], *, empty: str | None = None, compact: bool = False
) -> Text:
    """``compact`` (a narrow pane): the code and its first date over the message, without the
    severity word (✗ and ! say it), the measure and the contracts (the message says both)."""
    text = Text()
    if not violations:
        text.append(empty if empty is not None else _("No violations."), style="green")
        return text
    for number, v in enumerate(violations):
        if number:
            text.append("\n")
        error = v["severity"] == "error"
        text.append(
            f"{'✗' if error else '!'} {v['code']}",
            style="bold red" if error else "bold yellow",
        )
        if compact:
            text.append(f" · {v['first_date']}", style="dim")
            text.append(printable(f"\n  {v['message']}"))
            continue
        text.append(f" {_(v['severity'])} · {v['first_date']}", style="dim")
        measure = v.get("measure")
        if measure:
            unit = v.get("unit") or ""
            text.append(f" · {measure:g} {_(unit) if unit else ''}", style="dim")
        agreements = v.get("agreements") or ()
        if agreements:
            text.append(printable(f" · {', '.join(agreements)}"), style="dim")
        text.append(printable(f"\n  {v['message']}"))
    return text


class ViolationList(Static):
    """Shows a list of violation dicts (``Violation.as_json()``); ``compact`` in a narrow pane."""

    compact = False

    def show(self, violations: Sequence[Mapping[str, Any]], *, empty: str | None = None) -> None:
        self.violations = list(violations)
        self.update(render(self.violations, empty=empty, compact=self.compact))
