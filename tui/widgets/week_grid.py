"""The week grid: Monday–Sunday × 24 hours, each institution's sessions in its own colour.

One character is half an hour. An overnight session (end ≤ start) is drawn to midnight and
on from the next day's 00:00; Sunday night runs on into Monday's row (the pattern repeats
weekly). Two institutions in the same half hour show as a red ``×``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from multisite.domain.schedule import DAY, WEEK, Slot
from multisite.escaping import printable
from multisite.i18n import _

CELL = 30  # minutes per character
COLOURS = ("dodger_blue2", "green3", "dark_orange", "magenta", "cyan", "gold3", "orchid")
CLASH = "×"


@dataclass(frozen=True)
class Lane:
    """The weekly slots of one institution, drawn in one colour."""

    label: str
    slots: tuple[Slot, ...]


def cells(lanes: Sequence[Lane]) -> list[list[set[int]]]:
    """For each weekday and half hour, the indices of the lanes at work then."""
    per_day = DAY // CELL
    grid: list[list[set[int]]] = [[set() for _ in range(per_day)] for _ in range(7)]
    for index, lane in enumerate(lanes):
        for slot in lane.slots:
            # every half hour the session touches; past Sunday midnight it wraps to Monday
            for cell in range(slot.mow_start // CELL, (slot.mow_end - 1) // CELL + 1):
                at = cell % (WEEK // CELL)
                grid[at // per_day][at % per_day].add(index)
    return grid


def render(lanes: Sequence[Lane]) -> Text:
    days = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    text = Text(no_wrap=True)
    text.append("    ")
    for hour in range(0, 24, 3):
        text.append(f"{hour:02d}    ", style="dim")
    text.append("\n")
    for day, row in zip(days, cells(lanes), strict=True):
        text.append(day + " " * max(1, 4 - cell_len(day)))
        for index, present in enumerate(row):
            tick = "┆" if index % 6 == 0 else "·"
            if not present:
                text.append(tick, style="grey37")
            elif len(present) > 1:
                text.append(CLASH, style="bold white on red")
            else:
                colour = COLOURS[next(iter(present)) % len(COLOURS)]
                text.append("█", style=colour)
        text.append("\n")
    for index, lane in enumerate(lanes):
        text.append("██", style=COLOURS[index % len(COLOURS)])
        text.append(printable(f" {lane.label}  "))
    if not lanes:
        text.append(_("No sessions in force."), style="dim")
    return text


class WeekGrid(Static):
    """A week of sessions; call :meth:`show` with one lane per institution."""

    def show(self, lanes: Sequence[Lane]) -> None:
        self.lanes = list(lanes)
        self.update(render(self.lanes))
