"""Schedule algebra: weekly patterns bounded by dates (排班代数).

A physician's schedule is never a list of occurrences. It is a set of *weekly slots*
(weekday, start, end; an end at or before the start runs into the next day), each valid
between two dates. Every check in the product works on minute-of-week intervals
intersected with date ranges; expanding occurrences day by day is only for display and
iCalendar (see :func:`occurrences`), and is forbidden in checks.

Conventions
-----------
* Minute of week (MOW): 0 = Monday 00:00, ``WEEK`` = 10080 = the next Monday 00:00.
* A ``Slot`` occurs on every date ``d`` in its pattern's date range whose weekday is the
  slot's weekday; that occurrence runs from ``d + start`` for ``duration`` minutes, so an
  overnight slot starting on the range's last day still ends on the next morning.
* A calendar week runs Monday 00:00 to the next Monday 00:00. Hours are attributed to the
  week (or day) in which the minutes fall, so an overnight Sunday session is split.

This module is pure: no I/O, no database, no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass

WEEK = 7 * 24 * 60
DAY = 24 * 60
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True, order=True, slots=True)
class Slot:
    """One weekly session: ``weekday`` 0=Monday, ``start``/``end`` minutes of the day.

    ``end <= start`` means the session ends on the next day (``FR 20:00-08:00``).
    ``start == end`` is not a valid slot (it would be 0 or 24 hours: ambiguous).
    """

    weekday: int
    start: int
    end: int
