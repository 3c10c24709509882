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

How the checks avoid expanding occurrences
------------------------------------------
Internally each (pattern, slot) becomes an *item* ``(w0, w1, ms, me)``: the slot occurs in
every week index ``w0..w1`` (weeks counted from 0001-01-01, a Monday) at minute-of-week
``[ms, me)``, ``me <= WEEK + DAY``. ``w0``/``w1`` come from the pattern's dates by weekday
arithmetic. Absolute minutes are ``week * WEEK + mow``; datetimes are only built for results.

* Pairwise checks (:func:`overlaps`, :func:`travel_gaps`) are O(slots²): for each item pair
  and each week offset ``k`` (-1, 0, +1 for overlaps; the few offsets a buffer can reach for
  gaps) the intersection/gap is computed in minute of week, and the first week in which both
  occurrences exist is ``max(a.w0, b.w0 - k)`` if it does not exceed ``min(a.w1, b.w1 - k)``.
* Measures over calendar weeks/days (:func:`first_week_over`, :func:`max_week`,
  :func:`first_day_over`, :func:`first_week_without_rest`) depend only on the set of items
  active in the week and in the previous week (Sunday overnight spill-in). That pair of
  sets can only change in a week ``b`` or ``b + 1`` where ``b`` is some item's ``w0`` or
  ``w1 + 1``. Those *critical* weeks are the first weeks of the homogeneous runs, so only
  they are evaluated, in order: the first critical week that fails is the first week that
  fails, and the run's value is the value of all its weeks.
* :func:`first_long_duty` looks at duty periods *beginning* in a week; they depend on the
  items active from the week before to two weeks later, so the critical weeks are
  ``b - 2 .. b + 1``. Identical windows are evaluated once.

The cost of every check is therefore independent of how long the date ranges are.
Cheap upper bounds (total weekly minutes, the all-items-active week) answer the common
"nothing to report" case without looking at any week.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

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

    def __post_init__(self) -> None:
        for name in ("weekday", "start", "end"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"Slot.{name} must be an int, got {value!r}")
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"Slot weekday must be 0 (Monday)..6 (Sunday), got {self.weekday}")
        if not 0 <= self.start < DAY:
            raise ValueError(f"Slot start must be a minute of the day 0..1439, got {self.start}")
        if not 0 <= self.end < DAY:
            raise ValueError(f"Slot end must be a minute of the day 0..1439, got {self.end}")
        if self.start == self.end:
            raise ValueError(
                f"Slot start and end are both {_hhmm(self.start)}: a session must last "
                "between 1 minute and 23 h 59 min"
            )

    @property
    def duration(self) -> int:
        """Length in minutes, 1..1439 (an overnight slot counts up to its end next day)."""
        return (self.end - self.start) % DAY

    @property
    def mow_start(self) -> int:
        """Minute of week of the start, 0..WEEK-1."""
        return self.weekday * DAY + self.start

    @property
    def mow_end(self) -> int:
        """Minute of week of the end; exceeds ``WEEK`` for a Sunday overnight slot."""
        return self.weekday * DAY + self.start + (self.end - self.start) % DAY

    def __str__(self) -> str:
        return f"{WEEKDAY_CODES[self.weekday]} {_hhmm(self.start)}-{_hhmm(self.end)}"


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True, slots=True)
class Pattern:
    """One agreement's weekly slots over an inclusive date range.

    ``key`` is the caller's tag (agreement id, contract number), ``group`` the institution
    (travel gaps are only between different groups). A pattern with ``start > end`` has no
    occurrences (the PERIOD rule reports it; the algebra does not raise).
    """

    key: Hashable
    group: Hashable
    slots: tuple[Slot, ...]
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if not isinstance(self.slots, tuple):
            object.__setattr__(self, "slots", tuple(self.slots))


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One concrete session (naive local datetimes)."""

    key: Hashable
    group: Hashable
    slot: Slot
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two slots whose occurrences intersect; the first intersection and its length.

    ``a`` is the slot that comes first in the input (pattern order, then slot order).
    """

    key_a: Hashable
    key_b: Hashable
    slot_a: Slot
    slot_b: Slot
    first_start: dt.datetime
    minutes: int


@dataclass(frozen=True, slots=True)
class Gap:
    """Two slots at different groups too close for travel; ``a`` is the earlier occurrence.

    ``first_start`` is the end of the earlier occurrence the first time it happens, ``gap``
    the minutes until the later one starts, ``required`` the buffer that was asked for.
    """

    key_a: Hashable
    key_b: Hashable
    slot_a: Slot
    slot_b: Slot
    first_start: dt.datetime
    gap: int
    required: int


@dataclass(frozen=True, slots=True)
class Excess:
    """Where a measure bites: ``first`` is the Monday of the week (or the day), ``minutes``
    the measure found there, ``keys`` the patterns involved (input order, no duplicates)."""

    first: dt.date
    minutes: int
    keys: tuple[Hashable, ...]


# An item: (w0, w1, ms, me, pattern index, slot index). Occurs in weeks w0..w1 at [ms, me).
_Item = tuple[int, int, int, int, int, int]


def _seq(patterns: Iterable[Pattern]) -> Sequence[Pattern]:
    return patterns if isinstance(patterns, list | tuple) else list(patterns)


def _items(pats: Sequence[Pattern]) -> list[_Item]:
    out: list[_Item] = []
    for pi, p in enumerate(pats):
        so = p.start.toordinal()
        eo = p.end.toordinal()
        if so > eo:
            continue
        sw = (so - 1) % 7  # 0001-01-01 (ordinal 1) is a Monday
        ew = (eo - 1) % 7
        for si, s in enumerate(p.slots):
            w = s.weekday
            fo = so + (w - sw) % 7
            lo = eo - (ew - w) % 7
            if fo > lo:
                continue
            ms = w * DAY + s.start
            out.append(((fo - 1) // 7, (lo - 1) // 7, ms, ms + (s.end - s.start) % DAY, pi, si))
    return out


def _datetime(minute: int) -> dt.datetime:
    """Absolute minute (0 = 0001-01-01 00:00) to a naive datetime."""
    day, rem = divmod(minute, DAY)
    return dt.datetime.fromordinal(day + 1).replace(hour=rem // 60, minute=rem % 60)


def _monday(week: int) -> dt.date:
    return dt.date.fromordinal(week * 7 + 1)


def _keys(pats: Sequence[Pattern], indices: Iterable[int]) -> tuple[Hashable, ...]:
    out: list[Hashable] = []
    for pi in sorted(set(indices)):
        k = pats[pi].key
        if k not in out:
            out.append(k)
    return tuple(out)


# ---------------------------------------------------------------------------------------
# Display


def occurrences(patterns: Iterable[Pattern], start: dt.date, end: dt.date) -> Iterator[Occurrence]:
    """Occurrences whose start date lies in ``[start, end]``, sorted by start.

    For display and iCalendar only; checks never call this. Ties are in input order.
    """
    pats = _seq(patterns)
    lo_ord = start.toordinal()
    hi_ord = end.toordinal()
    found: list[tuple[int, int, int, int]] = []
    for w0, w1, ms, me, pi, si in _items(pats):
        day_in_week = ms // DAY
        first_w = max(w0, -((day_in_week + 1 - lo_ord) // 7))  # ceil((lo_ord-1-d)/7)
        last_w = min(w1, (hi_ord - 1 - day_in_week) // 7)
        for w in range(first_w, last_w + 1):
            base = w * WEEK
            found.append((base + ms, pi, si, base + me))
    found.sort()
    for s, pi, si, e in found:
        p = pats[pi]
        yield Occurrence(p.key, p.group, p.slots[si], _datetime(s), _datetime(e))


# ---------------------------------------------------------------------------------------
# Pairwise checks


def overlaps(patterns: Iterable[Pattern]) -> list[Conflict]:
    """Every pair of slots (also two slots of one pattern) whose occurrences ever intersect.

    One :class:`Conflict` per slot pair, at the first intersection; sorted by it.
    """
    pats = _seq(patterns)
    items = _items(pats)
    n = len(items)
    found: list[tuple[int, int, int, int, int, int]] = []
    for i in range(n):
        a0, a1, ams, ame, api, asi = items[i]
        for j in range(i + 1, n):
            b0, b1, bms, bme, bpi, bsi = items[j]
            if a1 < b0 - 1 or b1 < a0 - 1:
                continue  # weeks never adjacent
            best_t = -1
            best_m = 0
            for k in (-1, 0, 1):
                off = k * WEEK
                lo = ams if ams > bms + off else bms + off
                hi = ame if ame < bme + off else bme + off
                if lo >= hi:
                    continue
                w = a0 if a0 > b0 - k else b0 - k  # a in week w, b in week w + k
                if w > (a1 if a1 < b1 - k else b1 - k):
                    continue
                t = w * WEEK + lo
                if best_t < 0 or t < best_t:
                    best_t, best_m = t, hi - lo
            if best_t >= 0:
                found.append((best_t, api, asi, bpi, bsi, best_m))
    found.sort()
    return [
        Conflict(
            pats[api].key,
            pats[bpi].key,
            pats[api].slots[asi],
            pats[bpi].slots[bsi],
            _datetime(t),
            m,
        )
        for t, api, asi, bpi, bsi, m in found
    ]


def travel_gaps(
    patterns: Iterable[Pattern], buffer: Callable[[Hashable, Hashable], int]
) -> list[Gap]:
    """Occurrence pairs at different groups where the later one starts ``0 <= gap <
    buffer(earlier group, later group)`` minutes after the earlier one ends.

    Touching sessions (gap 0) count; intersecting ones are overlaps, not gaps. One
    :class:`Gap` per slot pair, at the first time it happens (ties: the earlier occurrence
    from the slot first in the input, then the smaller gap); sorted by ``first_start``.
    """
    pats = _seq(patterns)
    items = _items(pats)
    n = len(items)
    required: dict[tuple[Hashable, Hashable], int] = {}
    found: list[tuple[int, int, int, int, int, int]] = []
    for i in range(n):
        a = items[i]
        ga = pats[a[4]].group
        for j in range(i + 1, n):
            b = items[j]
            gb = pats[b[4]].group
            if ga == gb:
                continue
            best: tuple[int, int, int, int] | None = None
            for flip, x, y, gx, gy in ((0, a, b, ga, gb), (1, b, a, gb, ga)):
                req = required.get((gx, gy))
                if req is None:
                    req = required[(gx, gy)] = buffer(gx, gy)
                if req <= 0:
                    continue
                x0, x1, _, xme, _, _ = x
                y0, y1, yms, _, _, _ = y
                k = -((yms - xme) // WEEK)  # smallest k with yms + k*WEEK >= xme
                while True:
                    gap = yms + k * WEEK - xme
                    if gap >= req:
                        break
                    w = x0 if x0 > y0 - k else y0 - k  # x in week w, y in week w + k
                    if w <= (x1 if x1 < y1 - k else y1 - k):
                        cand = (w * WEEK + xme, flip, gap, req)
                        if best is None or cand < best:
                            best = cand
                    k += 1
            if best is not None:
                t, flip, gap, req = best
                found.append((t, i, j, flip, gap, req))
    found.sort()
    out: list[Gap] = []
    for t, i, j, flip, gap, req in found:
        x, y = (items[j], items[i]) if flip else (items[i], items[j])
        px, py = pats[x[4]], pats[y[4]]
        out.append(Gap(px.key, py.key, px.slots[x[5]], py.slots[y[5]], _datetime(t), gap, req))
    return out


# ---------------------------------------------------------------------------------------
# Measures over calendar weeks and days


def _critical_weeks(items: list[_Item], before: int, after: int) -> list[int]:
    """Weeks ``b - before .. b + after`` for every boundary ``b`` (an item's ``w0`` or
    ``w1 + 1``): the first weeks of the runs in which a window is constant."""
    crit: set[int] = set()
    span = range(-before, after + 1)
    for w0, w1, *_ in items:
        for d in span:
            crit.add(w0 + d)
            crit.add(w1 + 1 + d)
    return sorted(crit)


def _week_segments(items: list[_Item], week: int) -> list[tuple[int, int, int]]:
    """Scheduled intervals ``(lo, hi, pattern index)`` inside week ``week``, in minute of
    week clipped to ``[0, WEEK)``: its own occurrences and the spill-in of the previous
    week's Sunday overnight ones."""
    segs: list[tuple[int, int, int]] = []
    prev = week - 1
    for w0, w1, ms, me, pi, _ in items:
        if w0 <= week <= w1:
            segs.append((ms, me if me < WEEK else WEEK, pi))
        if me > WEEK and w0 <= prev <= w1:
            segs.append((0, me - WEEK, pi))
    return segs


def _longest_free(segs: list[tuple[int, int, int]]) -> int:
    longest = 0
    cursor = 0
    for lo, hi, _ in sorted(segs):
        if lo - cursor > longest:
            longest = lo - cursor
        if hi > cursor:
            cursor = hi
    return max(longest, WEEK - cursor)


def _week_loads(pats: Sequence[Pattern], items: list[_Item]) -> Iterator[tuple[int, int, list]]:
    """(week, load, segments) for each critical week, in order."""
    for week in _critical_weeks(items, 0, 1):
        segs = _week_segments(items, week)
        yield week, sum(hi - lo for lo, hi, _ in segs), segs


def first_week_over(patterns: Iterable[Pattern], limit_minutes: int) -> Excess | None:
    """The first calendar week (Monday 00:00 to the next Monday 00:00, minutes clipped to
    the week) whose scheduled minutes exceed ``limit_minutes``; ``minutes`` is its load."""
    pats = _seq(patterns)
    items = _items(pats)
    # A week holds at most one occurrence of each item, split or not: the sum bounds it.
    if sum(me - ms for _, _, ms, me, _, _ in items) <= limit_minutes:
        return None
    for week, load, segs in _week_loads(pats, items):
        if load > limit_minutes:
            return Excess(_monday(week), load, _keys(pats, (s[2] for s in segs)))
    return None


def max_week(patterns: Iterable[Pattern]) -> Excess | None:
    """The heaviest calendar week (the first one if tied); None without occurrences."""
    pats = _seq(patterns)
    items = _items(pats)
    best: tuple[int, int, list] | None = None
    for week, load, segs in _week_loads(pats, items):
        if load > 0 and (best is None or load > best[1]):
            best = (week, load, segs)
    if best is None:
        return None
    return Excess(_monday(best[0]), best[1], _keys(pats, (s[2] for s in best[2])))


def _day_loads(segs: list[tuple[int, int, int]]) -> tuple[list[int], list[set[int]]]:
    loads = [0] * 7
    who: list[set[int]] = [set() for _ in range(7)]
    for lo, hi, pi in segs:
        d = lo // DAY
        cut = (d + 1) * DAY
        if hi <= cut:
            loads[d] += hi - lo
            who[d].add(pi)
        else:  # hi <= WEEK, so d < 6 here
            loads[d] += cut - lo
            who[d].add(pi)
            loads[d + 1] += hi - cut
            who[d + 1].add(pi)
    return loads, who


def first_day_over(patterns: Iterable[Pattern], limit_minutes: int) -> Excess | None:
    """The first calendar day (minutes clipped at midnight) whose scheduled minutes exceed
    ``limit_minutes``; ``minutes`` is that day's load."""
    pats = _seq(patterns)
    items = _items(pats)
    if sum(me - ms for _, _, ms, me, _, _ in items) <= limit_minutes:
        return None
    # Upper bound: every item active in every week.
    full = [(ms, me if me < WEEK else WEEK, 0) for _, _, ms, me, _, _ in items]
    full += [(0, me - WEEK, 0) for _, _, _, me, _, _ in items if me > WEEK]
    if max(_day_loads(full)[0]) <= limit_minutes:
        return None
    for week in _critical_weeks(items, 0, 1):
        loads, who = _day_loads(_week_segments(items, week))
        for d in range(7):
            if loads[d] > limit_minutes:
                return Excess(dt.date.fromordinal(week * 7 + 1 + d), loads[d], _keys(pats, who[d]))
    return None


def first_week_without_rest(patterns: Iterable[Pattern], rest_minutes: int = DAY) -> Excess | None:
    """The first calendar week with scheduled minutes in it (own occurrences or a Sunday
    overnight spill-in) in which no free stretch of ``rest_minutes`` exists inside
    ``[Monday 00:00, next Monday 00:00)``; ``minutes`` is the longest free stretch found.
    Free time is measured only inside the week."""
    pats = _seq(patterns)
    items = _items(pats)
    if not items:
        return None
    full = [(ms, me if me < WEEK else WEEK, 0) for _, _, ms, me, _, _ in items]
    full += [(0, me - WEEK, 0) for _, _, _, me, _, _ in items if me > WEEK]
    if _longest_free(full) >= rest_minutes:
        return None  # fewer active items only leave more free time
    for week in _critical_weeks(items, 0, 1):
        segs = _week_segments(items, week)
        if not segs:
            continue
        free = _longest_free(segs)
        if free < rest_minutes:
            return Excess(_monday(week), free, _keys(pats, (s[2] for s in segs)))
    return None


def _duty_periods(
    occs: list[tuple[int, int, int]], min_rest: int
) -> Iterator[tuple[int, int, list[int]]]:
    """Sorted occurrences ``(start, end, pattern index)`` joined into duty periods: a gap
    shorter than ``min_rest`` (or none, or an overlap) joins two occurrences. Yields
    ``(start, end, pattern indices)`` per period."""
    start, end, who = occs[0][0], occs[0][1], [occs[0][2]]
    for s, e, pi in occs[1:]:
        if s - end < min_rest:
            if e > end:
                end = e
            who.append(pi)
        else:
            yield start, end, who
            start, end, who = s, e, [pi]
    yield start, end, who


def _long_duty_in(
    occs: list[tuple[int, int, int]], min_rest: int, max_duty: int, bound: bool = False
) -> tuple[int, int, list[int]] | None:
    """The first duty period starting in ``[0, WEEK)`` longer than ``max_duty``, its length
    capped at one week (occurrences are laid out around week 0, see first_long_duty).
    ``bound``: any long period reaching into ``[0, WEEK)`` (a period of the always-on union
    may run through the whole window, beginning nowhere)."""
    if not occs:
        return None
    occs.sort()
    for start, end, who in _duty_periods(occs, min_rest):
        if start >= WEEK:
            return None
        if (start >= 0 or (bound and end > 0)) and end - start > max_duty:
            return start, min(end - start, WEEK), who
    return None


def first_long_duty(patterns: Iterable[Pattern], min_rest: int, max_duty: int) -> Excess | None:
    """The first duty period longer than ``max_duty`` minutes (daily rest, MIN_REST).

    Occurrences joined by gaps shorter than ``min_rest`` (touching and overlapping ones
    too) form one duty period, measured from its first start to its last end. ``first`` is
    the date the period begins, ``minutes`` its length (capped at one week: a longer period
    is reported as ``WEEK``), ``keys`` the patterns of its occurrences.

    A duty period beginning in week ``w`` depends on the items active from ``back`` weeks
    before (what could join it from before: then it does not begin in ``w``) to two weeks
    after (far enough to see a week of it), so only the critical weeks of that window are
    laid out. Adding occurrences only joins or lengthens periods, so when the always-on
    union (every item in every week) has no long period, no dated part of it has one.
    """
    pats = _seq(patterns)
    items = _items(pats)
    if not items:
        return None
    back = 1 + max(min_rest, 0) // WEEK
    offsets = range(-back, 3)
    always = [
        (off * WEEK + ms, off * WEEK + me, pi) for off in offsets for _, _, ms, me, pi, _ in items
    ]
    if _long_duty_in(always, min_rest, max_duty, bound=True) is None:
        return None
    seen: set[tuple[int, ...]] = set()
    for week in _critical_weeks(items, 2, back):
        window = tuple(
            sum(1 << i for i, it in enumerate(items) if it[0] <= week + off <= it[1])
            for off in offsets
        )
        if window in seen:
            continue
        seen.add(window)
        occs: list[tuple[int, int, int]] = []
        for off, mask in zip(offsets, window, strict=True):
            base = off * WEEK
            i = 0
            while mask:
                if mask & 1:
                    _, _, ms, me, pi, _ = items[i]
                    occs.append((base + ms, base + me, pi))
                mask >>= 1
                i += 1
        found = _long_duty_in(occs, min_rest, max_duty)
        if found is not None:
            start, length, who = found
            day = dt.date.fromordinal((week * WEEK + start) // DAY + 1)
            return Excess(day, length, _keys(pats, who))
    return None


# ---------------------------------------------------------------------------------------
# Sums per group


def weekly_minutes_on(patterns: Iterable[Pattern], on: dt.date) -> dict[Hashable, int]:
    """Per group, the summed slot durations of the patterns in force on ``on`` (the
    contracted weekly pattern). Groups with nothing in force are absent."""
    out: dict[Hashable, int] = {}
    for p in patterns:
        if p.start <= on <= p.end and p.slots:
            out[p.group] = out.get(p.group, 0) + sum((s.end - s.start) % DAY for s in p.slots)
    return out


def minutes_between(
    patterns: Iterable[Pattern], start: dt.date, end: dt.date
) -> dict[Hashable, int]:
    """Per group, total minutes of the occurrences starting on a date in ``[start, end]``
    (counted by weekday arithmetic). Groups without such occurrences are absent."""
    out: dict[Hashable, int] = {}
    lo_ord = start.toordinal()
    hi_ord = end.toordinal()
    for p in patterns:
        a = max(lo_ord, p.start.toordinal())
        b = min(hi_ord, p.end.toordinal())
        if a > b:
            continue
        aw = (a - 1) % 7
        total = 0
        for s in p.slots:
            first = a + (s.weekday - aw) % 7
            if first <= b:
                total += ((b - first) // 7 + 1) * ((s.end - s.start) % DAY)
        if total:
            out[p.group] = out.get(p.group, 0) + total
    return out


def slots_text(slots: Iterable[Slot]) -> str:
    """The canonical text of a weekly pattern: ``"MO 08:00-12:00; FR 20:00-08:00"``, sorted.

    Stored beside an agreement so that whole-region sweeps can compare patterns without
    reading every session row; :func:`slots_from_text` reads it back. Patterns recur (a
    region has a few hundred): each is written out once.
    """
    return _slots_text(slots if isinstance(slots, tuple) else tuple(slots))


@lru_cache(maxsize=4096)
def _slots_text(slots: tuple[Slot, ...]) -> str:
    return "; ".join(str(s) for s in sorted(slots))


def slots_from_text(text: str) -> tuple[Slot, ...]:
    """Read a canonical pattern text written by :func:`slots_text`."""
    out = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        code, times = part.split()
        start, end = times.split("-")
        out.append(Slot(WEEKDAY_CODES.index(code), _minutes(start), _minutes(end)))
    return tuple(out)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)
