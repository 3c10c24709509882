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
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from multisite.domain.text import ValueProblem, is_blank, normalize_text
from multisite.domain.text import shown as _show
from multisite.i18n import _

from .columns import match_choice

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
