"""The week grid: one dated week, Monday–Sunday × 24 hours, each institution in its colour.

One character is half an hour. What is drawn on a day is what is in force that day
(``services.views.week_plan``): a contract terminated with a later last day until that day, a
contract starting later from its first day. An overnight session runs on into the next day's
row. Two institutions in the same half hour show as a red ``×``; a statutory holiday's row is
marked 休, a make-up working day (调休) 班, today ◀.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from multisite.domain.schedule import DAY, WEEK, Slot
from multisite.escaping import printable
from multisite.i18n import _
from multisite.services.views import WeekPlan

CELL = 30  # minutes per character
COLOURS = ("dodger_blue2", "green3", "dark_orange", "magenta", "cyan", "gold3", "orchid")
CLASH = "×"
PER_DAY = DAY // CELL


@dataclass(frozen=True)
class Lane:
    """The weekly slots of one institution, drawn in one colour (an undated pattern)."""

    label: str
    slots: tuple[Slot, ...]


def cells(lanes: Sequence[Lane]) -> list[list[set[int]]]:
    """For each weekday and half hour, the indices of the lanes at work then (an undated
    weekly pattern: past Sunday midnight it wraps to Monday)."""
    grid: list[list[set[int]]] = [[set() for _ in range(PER_DAY)] for _ in range(7)]
    for index, lane in enumerate(lanes):
        for slot in lane.slots:
            for cell in range(slot.mow_start // CELL, (slot.mow_end - 1) // CELL + 1):
                at = cell % (WEEK // CELL)
                grid[at // PER_DAY][at % PER_DAY].add(index)
    return grid


def dated_cells(plan: WeekPlan) -> list[list[set[int]]]:
    """For each day of the plan and half hour, the lanes at work then."""
    grid: list[list[set[int]]] = [[set() for _ in range(PER_DAY)] for _ in range(7)]
    for row, day in zip(grid, plan.days, strict=True):
        for stretch in day.stretches:
            for cell in range(stretch.start // CELL, (stretch.end - 1) // CELL + 1):
                row[cell].add(stretch.lane)
    return grid


def weekdays() -> list[str]:
    return [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]


def render(plan: WeekPlan, today: dt.date) -> Text:
    sunday = plan.monday + dt.timedelta(days=6)
    iso = plan.monday.isocalendar()
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(
        _("Week {week} of {year}: {first} – {last}").format(
            week=iso.week, year=iso.year, first=plan.monday.isoformat(), last=sunday.isoformat()
        ),
        style="bold",
    )
    text.append("  " + _("[ previous · ] next · 0 this week"), style="dim")
    text.append("\n" + " " * 13)
    for hour in range(0, 24, 3):
        text.append(f"{hour:02d}    ", style="dim")
    text.append("\n")
    for name, day, row in zip(weekdays(), plan.days, dated_cells(plan), strict=True):
        label = f"{name} {day.day:%m-%d}"
        style = "bold red" if day.holiday is not None else ("bold" if day.day == today else "")
        text.append(label + " " * max(1, 10 - cell_len(label)), style=style)
        mark = "休" if day.holiday is not None else ("班" if day.makeup else "  ")
        text.append(mark, style="red" if day.holiday is not None else "")
        for index, present in enumerate(row):
            tick = "┆" if index % 6 == 0 else "·"
            if not present:
                text.append(tick, style="grey37")
            elif len(present) > 1:
                text.append(CLASH, style="bold white on red")
            else:
                text.append("█", style=COLOURS[next(iter(present)) % len(COLOURS)])
        if day.day == today:
            text.append(" ◀" + _("today"), style="bold")
        elif day.holiday:
            text.append(printable(" " + day.holiday), style="red")
        text.append("\n")
    for index, lane in enumerate(plan.lanes):
        text.append("██", style=COLOURS[index % len(COLOURS)])
        text.append(printable(f" {lane}  "))
    if not plan.lanes:
        text.append(_("No sessions in force this week."), style="dim")
    return text


class WeekGrid(Static):
    """A dated week of sessions; call :meth:`show` with the week's plan."""

    plan: WeekPlan | None = None

    def show(self, plan: WeekPlan, today: dt.date) -> None:
        self.plan = plan
        self.update(render(plan, today))
