"""Cell normalisation and value parsers for batch import (导入数据规范化).

Every cell is NFKC-normalised (full-width digits, letters and punctuation become ASCII) and
trimmed before it is parsed. Each parser returns a value or raises :class:`ValueProblem` with
one sentence, in the language in force, saying what was expected. No parser raises anything
else, whatever it is given.

This module is pure: no I/O, no database, no clock.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from multisite.i18n import _
from multisite.schedule import Slot

from .columns import match_choice


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


def _show(value: object) -> str:
    """A cell as a message quotes it (shortened)."""
    text = value if isinstance(value, str) else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= 40 else text[:39] + "…"


# --------------------------------------------------------------------------- dates

# Excel day 0 is 1899-12-30 (Lotus' phantom 1900-02-29 included). Serial numbers are
# accepted as dates only for the years 1900–2199, which covers every plausible period.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SERIAL_MIN = 61  # 1900-03-01
_SERIAL_MAX = (dt.date(2199, 12, 31) - _EXCEL_EPOCH).days

_TIME_SUFFIX = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DATE_SEPARATED = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME_SUFFIX, re.ASCII)
_DATE_CHINESE = re.compile(
    r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?" + _TIME_SUFFIX, re.ASCII
)
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)
_DATE_SERIAL = re.compile(r"(\d{2,6})(?:\.\d+)?", re.ASCII)


def _date_problem(column: str, value: object) -> ValueProblem:
    return ValueProblem(
        column,
        _(
            "“{value}” is not a date: write it like 2026-01-05, 2026/1/5, 2026年1月5日 or 20260105."
        ).format(value=_show(value)),
    )


def _make_date(column: str, value: object, year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueProblem(
            column, _("“{value}” is not a day of the calendar.").format(value=_show(value))
        ) from None


def _from_serial(column: str, value: object, serial: float) -> dt.date:
    if not math.isfinite(serial) or not _SERIAL_MIN <= serial <= _SERIAL_MAX:
        raise ValueProblem(
            column,
            _(
                "The number {value} is not a plausible Excel date; write the date like 2026-01-05."
            ).format(value=_show(value)),
        )
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def parse_date(value: object, *, column: str = "") -> dt.date:
    """A date from a date cell, an Excel serial number or text in one of the accepted forms.

    Accepted text: ``2026-01-05``, ``2026/1/5``, ``2026.1.5`` (an optional time after it is
    ignored), ``2026年1月5日``, ``20260105``, and a bare Excel serial number. Day-first or
    month-first forms such as ``5/1/2026`` are refused, never guessed.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if value is None or isinstance(value, bool):
        if value is None:
            raise ValueProblem(column, _("A date is required, written like 2026-01-05."))
        raise _date_problem(column, value)
    if isinstance(value, int):
        text = str(value)
        if len(text) == 8:
            return parse_date(text, column=column)
        return _from_serial(column, value, value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and 19000101 <= value <= 21991231:
            return parse_date(str(int(value)), column=column)
        return _from_serial(column, value, value)
    if not isinstance(value, str):
        raise _date_problem(column, value)
    text = normalize_text(value)
    if not text:
        raise ValueProblem(column, _("A date is required, written like 2026-01-05."))
    match = _DATE_SEPARATED.fullmatch(text)
    if match:
        return _make_date(column, value, int(match[1]), int(match[3]), int(match[4]))
    match = _DATE_CHINESE.fullmatch(text)
    if match:
        return _make_date(column, value, int(match[1]), int(match[2]), int(match[3]))
    match = _DATE_COMPACT.fullmatch(text)
    if match:
        return _make_date(column, value, int(match[1]), int(match[2]), int(match[3]))
    match = _DATE_SERIAL.fullmatch(text)
    if match:
        return _from_serial(column, value, float(text))
    raise _date_problem(column, value)


# --------------------------------------------------------------------------- booleans

_TRUE = (
    "是",
    "yes",
    "y",
    "true",
    "t",
    "1",
    "同意",
    "已同意",
    "有",
    "知情",
    "已知情",
    "已报备",
    "√",
)
_FALSE = ("否", "no", "n", "false", "f", "0", "不同意", "未同意", "无", "×")
_BOOLS = {**{w: True for w in _TRUE}, **{w: False for w in _FALSE}}


def parse_bool(value: object, *, column: str = "") -> bool:
    """是/否, yes/no, y/n, true/false, 1/0, 同意/已同意/未同意/不同意 (and a few more)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        found = _BOOLS.get(normalize_text(value).casefold())
        if found is not None:
            return found
    if is_blank(value):
        raise ValueProblem(column, _("A yes/no value is required: write 是 or 否."))
    raise ValueProblem(
        column,
        _("“{value}” is not a yes/no value: write 是 or 否 (or yes/no).").format(
            value=_show(value)
        ),
    )


# --------------------------------------------------------------------------- numbers

_INTEGER = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+|[+-]?\d+(?:\.0*)?", re.ASCII)
_HOURS = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*(?:h|hr|hrs|hour|hours|小时|时|个小时)?", re.ASCII)
_HOURS_CLOCK = re.compile(r"(\d{1,3}):([0-5]\d)", re.ASCII)


def parse_int(
    value: object, *, column: str = "", minimum: int | None = None, maximum: int | None = None
) -> int:
    """A whole number (``12``, ``12.0``, ``1,200``, full-width digits), optionally bounded."""
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = normalize_text(value)
        if _INTEGER.fullmatch(text) and len(text) <= 30:
            number = (
                int(float(text.replace(",", ""))) if "." in text else int(text.replace(",", ""))
            )
    if number is None:
        if is_blank(value):
            raise ValueProblem(column, _("A whole number is required."))
        raise ValueProblem(column, _("“{value}” is not a whole number.").format(value=_show(value)))
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ValueProblem(
            column,
            _("{value} is out of range: expected a number from {minimum} to {maximum}.").format(
                value=number,
                minimum=minimum if minimum is not None else "−∞",
                maximum=maximum if maximum is not None else "∞",
            ),
        )
    return number


def parse_decimal_hours(value: object, *, column: str = "") -> Decimal:
    """Hours per week as a Decimal: ``12``, ``12.5``, ``12.5h``, ``12.5小时``, ``12:30``; 0–168."""
    hours: Decimal | None = None
    if isinstance(value, bool):
        hours = None
    elif isinstance(value, int | float):
        if isinstance(value, int) or math.isfinite(value):
            hours = Decimal(str(value))
    elif isinstance(value, str):
        text = normalize_text(value).casefold()
        match = _HOURS.fullmatch(text)
        clock = _HOURS_CLOCK.fullmatch(text)
        try:
            if match:
                hours = Decimal(match[1])
            elif clock:
                hours = Decimal(int(clock[1])) + Decimal(int(clock[2])) / Decimal(60)
        except InvalidOperation:  # pragma: no cover - the patterns only let numbers through
            hours = None
    if hours is None:
        if is_blank(value):
            raise ValueProblem(column, _("A number of hours is required, like 12 or 12.5."))
        raise ValueProblem(
            column,
            _("“{value}” is not a number of hours: write it like 12 or 12.5.").format(
                value=_show(value)
            ),
        )
    if not Decimal(0) <= hours <= Decimal(168):
        raise ValueProblem(
            column,
            _("{value} hours is impossible: a week has 168 hours.").format(value=_show(value)),
        )
    return hours


# --------------------------------------------------------------------------- lists

_LIST_SEPARATORS = re.compile(r"[;,、\n\r|]+")
# Names that themselves contain a list separator (DOMAIN.md §Registration scopes).
PROTECTED_NAMES: tuple[str, ...] = ("医学检验、病理",)


def parse_list(value: object, *, protected: Iterable[str] = PROTECTED_NAMES) -> list[str]:
    """Split on ; ； , ， 、 and line breaks; trimmed, empty items and repeats dropped.

    Names in ``protected`` (like the scope ``医学检验、病理``) are never split.
    """
    if value is None:
        return []
    if isinstance(value, list | tuple):
        text = ";".join(str(v) for v in value if v is not None)
    else:
        text = str(value)
    text = normalize_text(text)
    keep: dict[str, str] = {}
    for number, name in enumerate(protected):
        name = normalize_text(name)
        if name and name in text:
            marker = f"\x00{number}\x00"
            keep[marker] = name
            text = text.replace(name, marker)
    items: list[str] = []
    for part in _LIST_SEPARATORS.split(text):
        for marker, name in keep.items():
            part = part.replace(marker, name)
        part = part.strip()
        if part and part not in items:
            items.append(part)
    return items


def parse_choice(value: object, choices: Mapping[str, Iterable[str]], *, column: str = "") -> str:
    """One of ``choices`` (canonical value → other accepted spellings); returns the canonical."""
    if isinstance(value, str):
        found = match_choice(normalize_text(value), choices)
        if found is not None:
            return found
    allowed = "、".join(choices)
    if is_blank(value):
        raise ValueProblem(
            column, _("A value is required: one of {allowed}.").format(allowed=allowed)
        )
    raise ValueProblem(
        column,
        _("“{value}” is not allowed here: expected one of {allowed}.").format(
            value=_show(value), allowed=allowed
        ),
    )


# --------------------------------------------------------------------------- sessions

_EN_DAYS = {
    **{code.casefold(): i for i, code in enumerate(("MO", "TU", "WE", "TH", "FR", "SA", "SU"))},
    **{n: i for i, n in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    "tues": 1,
    "thur": 3,
    "thurs": 3,
    **{
        n: i
        for i, n in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
_ZH_NUMBERS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_ZH_NUMBERS.update({str(i + 1): i for i in range(7)})

_DASH = r"(?:-|~|〜|–|—|−|至|到)"
_CLOCK = r"([0-9]{1,2})\s*[:.]\s*([0-9]{2})"
_TOKENS = re.compile(
    rf"(?P<range>{_CLOCK}\s*{_DASH}\s*(?:次日|翌日)?\s*{_CLOCK})"
    r"|(?P<zh>(?:星期|礼拜|禮拜|周|週)\s*(?P<zhday>[一二三四五六日天七1-7]))"
    r"|(?P<bare>[一二三四五六日天])"
    r"|(?P<en>[A-Za-z]+)"
    rf"|(?P<dash>{_DASH})"
    r"|(?P<hard>[;\n\r]+)"
    r"|(?P<soft>[,、/\s]+|和|及)"
    r"|(?P<other>\S+?(?=[\s;,、]|$)|\S)",
)

SESSION_EXAMPLE = "MO 08:00-12:00; WE 14:00-17:30"


def _session_problem(column: str, text: str, detail: str) -> ValueProblem:
    return ValueProblem(
        column,
        _(
            "Sessions “{text}”: {detail} Write sessions like {example} or 周一 08:00-12:00；周三 "
            "14:00-17:30."
        ).format(text=_show(text), detail=detail, example=SESSION_EXAMPLE),
    )


def _minutes(hour: str, minute: str) -> int:
    return int(hour) * 60 + int(minute)


def parse_sessions(value: object, *, column: str = "sessions") -> list[Slot]:
    """Weekly sessions in the grammar of SPEC §7, in the order written.

    ``MO 08:00-12:00; WE 14:00-17:30`` · ``周一 08:00-12:00；周三 14:00-17:30`` ·
    ``星期五 20:00-08:00`` (ends on Saturday) · ``MO,WE 08:00-12:00`` · ``周一至周五 08:00-12:00``
    · ``MO 08:00-12:00 14:00-17:00``. English days as ``MO``/``Mon``/``Monday``; Chinese as
    周/星期/礼拜/週 + 一…日/天. The range dash may be ``-`` ``~`` ``至`` ``–`` ``—``;
    ``24:00`` ends a session at midnight. A blank cell gives an empty list.
    """
    if value is None:
        return []
    if not isinstance(value, str):
        raise _session_problem(column, str(value), _("this is not text."))
    text = normalize_text(value)
    if not text:
        return []
    slots: list[Slot] = []
    days: list[int] = []  # the weekdays of the group being read
    timed = False  # whether the current group already has a time range
    range_from: int | None = None  # a weekday followed by a dash: a range of days is open
    for token in _TOKENS.finditer(text):
        kind = token.lastgroup
        piece = token.group()
        if kind == "bare" and not (days and not timed):
            raise _session_problem(
                column,
                value,
                _("“{token}” was not understood.").format(token=piece),
            )
        if kind in ("zh", "en", "bare"):
            if kind == "zh":
                day = _ZH_NUMBERS[token["zhday"]]
            elif kind == "bare":
                day = _ZH_NUMBERS[piece]
            else:
                found = _EN_DAYS.get(piece.casefold())
                if found is None:
                    raise _session_problem(
                        column,
                        value,
                        _(
                            "“{token}” is not a weekday (use MO TU WE TH FR SA SU or 周一…周日)."
                        ).format(token=piece),
                    )
                day = found
            if timed:  # a weekday after a time range starts the next group
                days, timed = [], False
            if range_from is not None:
                span = (day - range_from) % 7
                days.extend((range_from + step) % 7 for step in range(1, span + 1))
                range_from = None
            else:
                days.append(day)
        elif kind == "dash":
            if not days or timed or range_from is not None:
                raise _session_problem(
                    column,
                    value,
                    _(
                        "a dash “{token}” must join two weekdays (周一至周五) or two times "
                        "(08:00-12:00)."
                    ).format(token=piece),
                )
            range_from = days[-1]
        elif kind == "range":
            if range_from is not None:
                raise _session_problem(
                    column, value, _("a range of weekdays is not finished before the time.")
                )
            if not days:
                raise _session_problem(
                    column,
                    value,
                    _("the time {token} has no weekday before it.").format(token=piece),
                )
            h1, m1, h2, m2 = token.group(2, 3, 4, 5)
            start, end = _minutes(h1, m1), _minutes(h2, m2)
            for hour, minute in ((h1, m1), (h2, m2)):
                if int(hour) > 24 or int(minute) > 59 or (int(hour) == 24 and int(minute) > 0):
                    raise _session_problem(
                        column,
                        value,
                        _("{time} is not a time of day.").format(time=f"{hour}:{minute}"),
                    )
            if start == 24 * 60:
                raise _session_problem(
                    column, value, _("a session cannot start at 24:00; write 00:00.")
                )
            end %= 24 * 60  # 24:00 is midnight at the end of the day
            if start == end:
                raise _session_problem(
                    column,
                    value,
                    _("{token} starts and ends at the same time.").format(token=piece),
                )
            try:
                slots.extend(Slot(day, start, end) for day in days)
            except ValueError as error:  # pragma: no cover - validated above
                raise _session_problem(column, value, str(error)) from None
            timed = True
        elif kind == "hard":
            if range_from is not None or (days and not timed):
                raise _session_problem(column, value, _("a weekday has no time after it."))
            days, timed = [], False
        elif kind == "soft":
            continue
        else:
            raise _session_problem(
                column, value, _("“{token}” was not understood.").format(token=_show(piece))
            )
    if range_from is not None or (days and not timed):
        raise _session_problem(column, value, _("a weekday has no time after it."))
    if not slots:  # pragma: no cover - text without tokens is blank
        raise _session_problem(column, value, _("no session was found."))
    return slots


def format_sessions(slots: Iterable[Slot], *, chinese: bool = False) -> str:
    """The canonical text of ``slots`` (``MO 08:00-12:00; WE 14:00-17:30``)."""
    names = ("一", "二", "三", "四", "五", "六", "日")
    codes = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
    parts = []
    for slot in slots:
        day = f"周{names[slot.weekday]}" if chinese else codes[slot.weekday]
        start = f"{slot.start // 60:02d}:{slot.start % 60:02d}"
        end = f"{slot.end // 60:02d}:{slot.end % 60:02d}"
        parts.append(f"{day} {start}-{end}")
    return ("；" if chinese else "; ").join(parts)
