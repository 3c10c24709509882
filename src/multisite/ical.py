"""RFC 5545 export of weekly sessions (iCalendar 导出).

Pure and byte-stable: :func:`render_calendar` turns :class:`SessionSeries` values and a
:class:`~multisite.domain.holidays.HolidayCalendar` into the bytes of one ``VCALENDAR``. There is no
clock: ``DTSTAMP`` is the series' stored ``last_modified``, so the same input always gives
the same bytes (and the same :func:`etag_for`).

The text is written here rather than through ``icalendar``'s serializer so that property
order, parameter quoting and line folding never change with a library upgrade; the tests
read every export back with ``icalendar`` + ``recurring-ical-events``.

Per series, one ``VEVENT``:

* ``DTSTART``/``DTEND`` with ``TZID=Asia/Shanghai`` (one matching ``VTIMEZONE``, +0800, no
  DST); ``DTSTART`` is the first date on or after ``first_date`` with the slot's weekday; an
  overnight slot (end ≤ start) ends on the next day.
* ``RRULE:FREQ=WEEKLY;UNTIL=`` the start of the last weekly occurrence on or before
  ``last_date``, in UTC (``Z``), as RFC 5545 requires when ``DTSTART`` has a ``TZID``.
* ``EXDATE`` (same ``TZID`` and time as ``DTSTART``, one property per date) for every
  holiday (:meth:`HolidayCalendar.is_holiday`, i.e. Monday–Friday days off) on which an
  occurrence *starts*. Weekend sessions are never removed.
* ``RDATE`` for every make-up workday in ``first_date..last_date`` when the institution's
  调休 policy says a make-up day follows the schedule of ``makeup_follows`` and that is the
  slot's weekday. Policy ``None``: make-up days add nothing. A regular weekend slot on a
  make-up day is left as it is under either policy.
* ``EXDATE`` too for every occurrence on a day the physician's registration for the
  institution's region is suspended (暂停); a cancellation (注销) ends the series the day
  before (``UNTIL``), so the physician's calendar tells the truth.
* A series with no occurrence at all (e.g. terminated before its first session) is left
  out, so clients drop it on their next refresh. A series whose only occurrences are
  make-up days gets ``DTSTART`` on the first of them and ``RDATE``\\ s, without ``RRULE``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from .domain.holidays import HolidayCalendar
from .domain.schedule import Slot

TZID = "Asia/Shanghai"
SHANGHAI_OFFSET = dt.timedelta(hours=8)
PRODID = "-//multisite//Multisite physician registry//ZH-CN"
CRLF = b"\r\n"
FOLD_LIMIT = 75  # octets per physical line, excluding CRLF

_VTIMEZONE = (
    "BEGIN:VTIMEZONE",
    f"TZID:{TZID}",
    f"X-LIC-LOCATION:{TZID}",
    "BEGIN:STANDARD",
    "DTSTART:19700101T000000",
    "TZOFFSETFROM:+0800",
    "TZOFFSETTO:+0800",
    "TZNAME:CST",
    "END:STANDARD",
    "END:VTIMEZONE",
)


@dataclass(frozen=True)
class SessionSeries:
    """One weekly session of one agreement, ready for export."""

    uid: str  # stable, no personal data, e.g. "ag-<agreement id>-s-<session id>@multisite"
    slot: Slot
    first_date: dt.date  # agreement start
    last_date: dt.date  # agreement end or termination date
    sequence: int
    last_modified: dt.datetime  # aware; exported in UTC as DTSTAMP and LAST-MODIFIED
    summary: str
    location: str  # institution name + address
    description: str  # department + contract number
    makeup_follows: int | None = None  # 调休 policy: None, or the weekday a make-up day follows
    # days the registration does not allow practice: (first, last) of a suspension, or
    # (first, None) of a cancellation (the series ends the day before)
    off: tuple[tuple[dt.date, dt.date | None], ...] = ()


@dataclass(frozen=True)
class _Event:
    sort_key: tuple[dt.datetime, str]
    lines: tuple[str, ...]


def render_calendar(
    name: str,
    series: Sequence[SessionSeries],
    holidays: HolidayCalendar,
    refresh_minutes: int = 60,
) -> bytes:
    """The ``VCALENDAR`` for ``series``: CRLF, folded at 75 octets, UTF-8 without BOM."""
    if refresh_minutes < 1:
        raise ValueError("refresh_minutes must be at least 1")
    uids = [s.uid for s in series]
    if len(set(uids)) != len(uids):
        dupes = sorted({u for u in uids if uids.count(u) > 1})
        raise ValueError(f"duplicate UIDs in one calendar: {dupes}")
    events = [e for e in (_event(s, holidays) for s in series) if e is not None]
    events.sort(key=lambda e: e.sort_key)

    lines = _head(name, refresh_minutes, timed=True)
    for event in events:
        lines.extend(event.lines)
    lines.append("END:VCALENDAR")
    return b"".join(fold_line(line) + CRLF for line in lines)


@dataclass(frozen=True)
class Todo:
    """One due item as a ``VTODO`` (an institution's reminders feed): due on a date."""

    uid: str
    due: dt.date
    summary: str
    description: str


def render_todos(
    name: str, todos: Sequence[Todo], stamp: dt.datetime, refresh_minutes: int = 60
) -> bytes:
    """A ``VCALENDAR`` of ``VTODO``\\ s, each ``DUE;VALUE=DATE`` (a whole day, no time zone);
    ``stamp`` (aware) is every ``DTSTAMP``, so the same items on the same day give the same
    bytes."""
    lines = _head(name, refresh_minutes, timed=False)
    for todo in sorted(todos, key=lambda t: (t.due, t.uid)):
        lines += [
            "BEGIN:VTODO",
            f"UID:{escape_text(todo.uid)}",
            f"DTSTAMP:{_utc(stamp)}",
            f"DUE;VALUE=DATE:{todo.due:%Y%m%d}",
            f"SUMMARY:{escape_text(todo.summary)}",
            f"DESCRIPTION:{escape_text(todo.description)}",
            "STATUS:NEEDS-ACTION",
            "END:VTODO",
        ]
    lines.append("END:VCALENDAR")
    return b"".join(fold_line(line) + CRLF for line in lines)


def _head(name: str, refresh_minutes: int, *, timed: bool) -> list[str]:
    """The calendar's properties before its components; ``timed``: with the time zone its
    events' times are in (``X-WR-TIMEZONE`` and the ``VTIMEZONE``)."""
    refresh = _duration(refresh_minutes)
    return [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"NAME:{escape_text(name)}",
        f"X-WR-CALNAME:{escape_text(name)}",
        *([f"X-WR-TIMEZONE:{TZID}"] if timed else []),
        f"REFRESH-INTERVAL;VALUE=DURATION:{refresh}",
        f"X-PUBLISHED-TTL:{refresh}",
        *(_VTIMEZONE if timed else ()),
    ]


def etag_for(body: bytes) -> str:
    """A strong ETag (quoted) for an export body."""
    return '"' + hashlib.sha256(body).hexdigest() + '"'


# -- one series ------------------------------------------------------------------------------


def _event(s: SessionSeries, holidays: HolidayCalendar) -> _Event | None:
    slot = s.slot
    if not 0 <= slot.weekday <= 6:
        raise ValueError(f"{s.uid}: weekday {slot.weekday} is not 0..6")
    if not (0 <= slot.start < 24 * 60 and 0 <= slot.end <= 24 * 60) or slot.start == slot.end:
        raise ValueError(f"{s.uid}: {slot} is not a valid slot")
    if s.makeup_follows is not None and not 0 <= s.makeup_follows <= 6:
        raise ValueError(f"{s.uid}: makeup_follows {s.makeup_follows} is not 0..6")
    if s.last_modified.tzinfo is None or s.last_modified.utcoffset() is None:
        raise ValueError(f"{s.uid}: last_modified must be timezone-aware")

    duration = dt.timedelta(
        minutes=slot.end - slot.start if slot.end > slot.start else slot.end + 24 * 60 - slot.start
    )
    start_time = dt.timedelta(minutes=slot.start)

    last_date = s.last_date
    for start, until in s.off:
        if until is None:  # cancelled (注销): nothing from that day on
            last_date = min(last_date, start - dt.timedelta(days=1))
    first = s.first_date + dt.timedelta(days=(slot.weekday - s.first_date.weekday()) % 7)
    last = last_date - dt.timedelta(days=(last_date.weekday() - slot.weekday) % 7)
    weekly = first <= last

    extra: list[dt.date] = []
    if s.makeup_follows is not None and s.makeup_follows == slot.weekday:
        extra = [
            d
            for d in holidays.makeup_days_between(s.first_date, s.last_date)
            if d.weekday() != slot.weekday
        ]
    if not weekly and not extra:
        return None

    excluded = (
        [d for d in holidays.holidays_between(first, last) if d.weekday() == slot.weekday]
        if weekly
        else []
    )
    if weekly and s.off:
        excluded = sorted(set(excluded) | set(_suspended(first, last, s.off)))
        if len(excluded) == (last - first).days // 7 + 1 and not extra:
            return None  # every occurrence falls on a suspended day or a holiday
    anchor = first if weekly else extra[0]
    rdates = extra if weekly else extra[1:]

    def local(d: dt.date) -> dt.datetime:
        return dt.datetime.combine(d, dt.time()) + start_time

    dtstart = local(anchor)
    stamp = _utc(s.last_modified)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(s.uid)}",
        f"DTSTAMP:{stamp}",
        f"LAST-MODIFIED:{stamp}",
        f"SEQUENCE:{int(s.sequence)}",
        f"DTSTART;TZID={TZID}:{_local(dtstart)}",
        f"DTEND;TZID={TZID}:{_local(dtstart + duration)}",
    ]
    if weekly:
        until = local(last) - SHANGHAI_OFFSET
        lines.append(f"RRULE:FREQ=WEEKLY;UNTIL={until:%Y%m%dT%H%M%S}Z")
    lines.extend(f"EXDATE;TZID={TZID}:{_local(local(d))}" for d in excluded)
    lines.extend(f"RDATE;TZID={TZID}:{_local(local(d))}" for d in rdates)
    lines += [
        f"SUMMARY:{escape_text(s.summary)}",
        f"LOCATION:{escape_text(s.location)}",
        f"DESCRIPTION:{escape_text(s.description)}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
    ]
    return _Event((dtstart, s.uid), tuple(lines))


def _suspended(
    first: dt.date, last: dt.date, off: Sequence[tuple[dt.date, dt.date | None]]
) -> list[dt.date]:
    """The weekly occurrences (from ``first``, every 7 days to ``last``) on suspended days —
    display only: the rules never expand occurrences."""
    found: list[dt.date] = []
    for start, until in off:
        if until is None:
            continue
        low, high = max(first, start), min(last, until)
        if low > high:
            continue
        day = first + dt.timedelta(days=-(-(low - first).days // 7) * 7)
        while day <= high:
            found.append(day)
            day += dt.timedelta(days=7)
    return found


def _local(value: dt.datetime) -> str:
    return f"{value:%Y%m%dT%H%M%S}"


def _utc(value: dt.datetime) -> str:
    return f"{value.astimezone(dt.UTC):%Y%m%dT%H%M%S}Z"


def _duration(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        return f"P{minutes // (24 * 60)}D"
    if minutes % 60 == 0:
        return f"PT{minutes // 60}H"
    return f"PT{minutes}M"


# -- text ------------------------------------------------------------------------------------


def escape_text(value: str) -> str:
    r"""RFC 5545 TEXT escaping: ``\`` ``;`` ``,`` and newlines; other control characters go."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == ";":
            out.append("\\;")
        elif ch == ",":
            out.append("\\,")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t" or (ord(ch) >= 0x20 and ch != "\x7f"):
            out.append(ch)
    return "".join(out)


def fold_line(line: str) -> bytes:
    """Encode one content line as UTF-8 and fold it at 75 octets (RFC 5545 §3.1).

    Folds never split a UTF-8 sequence nor a backslash escape (``\\,`` …); a continuation
    line starts with one space, which counts towards its 75 octets.
    """
    units: list[bytes] = []
    i = 0
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line):
            units.append(line[i : i + 2].encode("utf-8"))
            i += 2
        else:
            units.append(line[i].encode("utf-8"))
            i += 1
    physical: list[bytes] = []
    current = bytearray()
    limit = FOLD_LIMIT
    for unit in units:
        if current and len(current) + len(unit) > limit:
            physical.append(bytes(current))
            current = bytearray(b" ")
            limit = FOLD_LIMIT
        current += unit
    physical.append(bytes(current))
    return CRLF.join(physical)
